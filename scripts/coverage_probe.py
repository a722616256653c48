"""The label-free coverage check (pycheck.train.slow_direction_coverage), session 44.

Runs fit_encoder's default (or another objective) on a world and prints one JSON line: R²(h->z)
on fresh rows, whether the check warned, and each slow linear direction's deficit (kNN R² from
x minus from the embedding). Worlds: the suite's (scripts/suite.py), a user's trial world
(3 latents: OU rho 0.995, a damped AR(2) oscillator, OU rho 0.9, seen through 16 tanh/sine
channels with 5% noise; the trial's own generator, copied here) and an anisotropic 4-D world
through the package's RealNVP mixing.

    .venv/bin/python scripts/coverage_probe.py suite mlp-leaky-2d,coupling-4d 1000
    .venv/bin/python scripts/coverage_probe.py user16 whitened 1000
    .venv/bin/python scripts/coverage_probe.py aniso-realnvp whitened 1000

Results: results/fit_encoder/coverage-s44/.
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def user16(T: int, seed: int, noise: float = 0.05):
    """The trial's world: (x, z) for a sequence of T steps."""
    def latents(T, rng, burn=2000):
        T = T + burn
        z, e = np.zeros((T, 3)), rng.standard_normal((T, 3))
        r1, r3, r, w = 0.995, 0.9, 0.98, 0.15
        a1, a2 = 2 * r * np.cos(w), -r * r
        for t in range(1, T):
            z[t, 0] = r1 * z[t - 1, 0] + np.sqrt(1 - r1 ** 2) * e[t, 0]
            z[t, 1] = a1 * z[t - 1, 1] + a2 * (z[t - 2, 1] if t > 1 else 0) + e[t, 1]
            z[t, 2] = r3 * z[t - 1, 2] + np.sqrt(1 - r3 ** 2) * e[t, 2]
        return z[burn:]
    scale = latents(200000, np.random.default_rng(12345)).std(0)
    m = np.random.default_rng(7)
    w1, b1 = m.standard_normal((3, 24)) * 1.2, m.standard_normal(24) * 0.5
    w2, w3 = m.standard_normal((24, 16)) / np.sqrt(24), m.standard_normal((3, 16)) * 0.5
    rng = np.random.default_rng(seed)
    z = latents(T, rng) / scale
    x = np.tanh(z @ w1 + b1) @ w2 + np.sin(z @ w3) * 0.5
    return x + noise * x.std(0) * rng.standard_normal(x.shape), z


def suite_world(name):
    import suite
    from pycheck.worlds import gaussian_ou_pairs
    _, n, rho, _ = suite.SUITE[name]
    rng = np.random.default_rng([2026, sum(map(ord, name))])
    z, zn = gaussian_ou_pairs(20000, n, rho, rng)
    zq, _ = gaussian_ou_pairs(10000, n, rho, rng)
    return suite.mix(name, z), suite.mix(name, zn), suite.mix(name, zq), zq


def aniso_world(rhos, seed=3, n=20000):
    from pycheck.mixings import make_mixing
    rhos = np.asarray(rhos)
    rng = np.random.default_rng(11)

    def pairs(m):
        z = rng.standard_normal((m, len(rhos)))
        return z, rhos * z + np.sqrt(1 - rhos ** 2) * rng.standard_normal(z.shape)
    g = make_mixing("realnvp", len(rhos), seed=seed)
    z, zn = pairs(n)
    zq, _ = pairs(5000)
    return g.forward(z), g.forward(zn), g.forward(zq), zq


def run(name, x, xn, xq, zq, objective="whitened", steps=1000):
    import pycheck
    from pycheck.metrics import linear_r2
    from pycheck.train import embed
    t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        enc = pycheck.fit_encoder(x, xn, objective, steps=steps, progress=False, seed=0)
    c = enc.coverage
    print(json.dumps(dict(
        world=name, obj=objective, steps=steps, secs=round(time.time() - t, 1),
        r2_hz=round(linear_r2(embed(enc, xq), zq), 4),
        warned=any("slow directions" in str(v.message) for v in w),
        deficit=[round(b - a, 3) for a, b in zip(c["r2_from_embedding"], c["r2_from_x"])],
        slow=[round(v, 2) for v in c["slowness"]])), flush=True)


if __name__ == "__main__":
    what = sys.argv[1]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    if what == "suite":
        for name in sys.argv[2].split(","):
            run(name, *suite_world(name), steps=steps)
    elif what == "user16":
        x, _ = user16(50001, 1)
        xq, zq = user16(10001, 2)
        run("user16", x[:-1], x[1:], xq, zq, objective=sys.argv[2], steps=steps)
    elif what == "aniso-realnvp":
        run("aniso-realnvp-4d(.99,.97,.6,.5)", *aniso_world([0.99, 0.97, 0.6, 0.5]),
            objective=sys.argv[2], steps=steps)
