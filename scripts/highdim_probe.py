"""Probe (issue 11, session 35): fit_encoder above the suite's dimensions, stored against fresh pairs.

    .venv/bin/python scripts/highdim_probe.py OUT.jsonl N RHO MODE[,MODE...]

MODE: ``20000`` / ``80000`` (that many stored pairs, fit_encoder's defaults), ``fresh`` (the
defaults with a sampler: fresh pairs at every step, the 20 000 stored pairs only whiten the
input and give the held-out pairs), ``ceiling`` (the default encoder regressed on the true z
with the 20 000 pairs, steps, batch and lr: the suite's supervised ceiling). One world per (N,
RHO), defined only here: z -> leaky-ReLU 0.2 of (1.2 x a rotation) -> rotation -> tanh(.) + 0.3
(.) -> a Gaussian square matrix / sqrt(N), parameters seeded by N; a Gaussian-OU world; R²(h ->
z) on 10 000 fresh test pairs. Nothing is chosen on these worlds: the defaults are the suite's.

Why: the suite stops at 16 dimensions; at 24 a first try (session 35) returned the linear map,
R²(h -> z) = R²(x -> z). Is that the engine or the 20 000 pairs?
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch


def world(n: int, rho: float):
    from pycheck.worlds import gaussian_ou_pairs
    rng = np.random.default_rng([35, n])
    r0 = np.linalg.qr(rng.standard_normal((n, n)))[0] * 1.2
    r1 = np.linalg.qr(rng.standard_normal((n, n)))[0]
    w2 = rng.standard_normal((n, n)) / np.sqrt(n)

    def mix(z):
        x = z @ r0
        x = np.where(x > 0, x, 0.2 * x) @ r1
        return (np.tanh(x) + 0.3 * x) @ w2

    data = np.random.default_rng([2026, n, int(rho * 100)])
    z, zn = gaussian_ou_pairs(20000, n, rho, data)
    zt, _ = gaussian_ou_pairs(10000, n, rho, data)
    return mix, z, zn, zt, np.random.default_rng([7, n])


def run(n: int, rho: float, mode: str) -> dict:
    import pycheck
    from pycheck.train import embed, make_encoder
    from pycheck.worlds import gaussian_ou_pairs
    torch.set_num_threads(1)
    mix, z, zn, zt, more = world(n, rho)
    x, xn, xt = mix(z), mix(zn), mix(zt)
    t0 = time.perf_counter()
    extra = {}
    if mode == "ceiling":
        from pycheck.experiments._common import fit_supervised
        enc = fit_supervised(x, z, make_encoder("residual-mlp", n, n), seed=0, steps=3000,
                             batch_size=1024, lr=1e-3)
    elif mode == "fresh":
        def sampler(b):
            a, an = gaussian_ou_pairs(b, n, rho, more)
            return mix(a), mix(an)
        enc = pycheck.fit_encoder(x, xn, progress=False, sampler=sampler)
    else:
        m = int(mode)
        if m > 20000:   # the suite's 20 000 plus fresh pairs of the same world
            a, an = gaussian_ou_pairs(m - 20000, n, rho, more)
            x, xn = np.concatenate([x, mix(a)]), np.concatenate([xn, mix(an)])
        enc = pycheck.fit_encoder(x[:m], xn[:m], progress=False)
    if mode != "ceiling":
        extra = dict(selected=enc.selected, best_step=enc.best_step, lam=enc.lam,
                     heldout_objective=enc.heldout_objective)
    return dict(n=n, rho=rho, mode=mode, r2_xz=pycheck.linear_r2(xt, zt),
                r2_hz=pycheck.linear_r2(embed(enc, xt), zt),
                seconds=time.perf_counter() - t0, **extra)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from suite import record
    out, n, rho = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    for mode in sys.argv[4].split(","):
        record(out, run(n, rho, mode))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
