"""Where fit_encoder's precision is lost: sample, steps or optimiser noise (issue 11).

    .venv/bin/python scripts/precision_limits.py MIXING [MIXING ...] [--only VARIANT,...]

For a mixing of ``scripts/suite.py`` (same 20 000 training / 10 000 test pairs), R²(h -> z)
of fit_encoder with its defaults next to variants that each remove one candidate limit:

* ``fresh``: fresh world pairs at every step (``sampler=``): no finite sample to overfit;
* ``steps9000``: three times the steps (on the stored pairs, and with fresh pairs);
* ``ensemble3``: three fits with seeds 0, 1, 2 (different held-out splits, batch orders,
  initialisations), whitened and rotated onto the first by orthogonal Procrustes on the
  training inputs, then averaged: removes what is independent between runs (optimiser
  noise), not what they share;
* ``ceiling``, ``ceiling9000``: the supervised ceiling (suite.py's) at 3000 and 9000 steps;
* ``pairs20k``, ``pairs40k``, ``pairs80k``, ``pairs160k`` (session 18): the defaults of the
  current code on the suite's 20 000 pairs (``pairs20k``: the ``defaults`` row rerun) and on
  larger stored sets, those pairs plus further pairs of the same world (their own stream),
  same steps and batch: how many stored pairs the defaults need to come within 2x of the
  ceiling (whose 20 000-pair value is unchanged: regression on z has no label noise).

One JSON line per (mixing, variant) in ``results/fit_encoder/limits/limits.jsonl``
(existing lines are kept and not recomputed), then ``limits.md``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from suite import SUITE, _data, mix  # noqa: E402

OUT = Path("results/fit_encoder/limits")


def _whiten(h: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``h`` under the ZCA whitening fitted on ``ref`` (:func:`pycheck.encoders.whitening`)."""
    import torch

    from pycheck.encoders import whitening
    mean, transform = whitening(torch.from_numpy(ref), "zca")
    return (h - mean.numpy()) @ transform.numpy()


def variants(name: str):
    """``(variant, callable() -> R²)`` for mixing ``name``."""
    import pycheck
    from pycheck.experiments._common import fit_supervised
    from pycheck.train import embed, make_encoder
    from pycheck.worlds import gaussian_ou_pairs
    from scipy.linalg import orthogonal_procrustes

    z, zn, zt = _data(name)
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    _, n, rho, _ = SUITE[name]

    def sampler_for(seed):
        rng = np.random.default_rng([seed, 0x51])

        def draw(b):
            a, an = gaussian_ou_pairs(b, n, rho, rng)
            return mix(name, a), mix(name, an)
        return draw

    def ssl(**kw):
        enc = pycheck.fit_encoder(x, xn, progress=False, **kw)
        return pycheck.linear_r2(embed(enc, xt), zt)

    def ensemble():
        hs, hts = [], []
        for seed in range(3):
            enc = pycheck.fit_encoder(x, xn, progress=False, seed=seed)
            h = embed(enc, x)
            hs.append(_whiten(h, h))
            hts.append(_whiten(embed(enc, xt), h))
        avg = sum(ht @ orthogonal_procrustes(h, hs[0])[0] for h, ht in zip(hs, hts))
        return pycheck.linear_r2(avg, zt)

    def stored(total):
        xa, xna = x, xn
        if total > len(z):
            rng = np.random.default_rng([2026, sum(map(ord, name)), total])
            a, an = gaussian_ou_pairs(total - len(z), n, rho, rng)
            xa, xna = np.concatenate([x, mix(name, a)]), np.concatenate([xn, mix(name, an)])
        enc = pycheck.fit_encoder(xa, xna, progress=False)
        return pycheck.linear_r2(embed(enc, xt), zt)

    def ceiling(steps):
        enc = fit_supervised(x, z, make_encoder("residual-mlp", n, n), seed=0, steps=steps,
                             batch_size=1024, lr=1e-3)
        return pycheck.linear_r2(embed(enc, xt), zt)

    def fresh():
        return ssl(sampler=sampler_for(0))

    # "fresh-s18": "fresh" run again by session 18's code (rows are never recomputed)
    return [("defaults", ssl), ("fresh", fresh), ("fresh-s18", fresh),
            ("steps9000", lambda: ssl(steps=9000)),
            ("fresh-steps9000", lambda: ssl(steps=9000, sampler=sampler_for(0))),
            ("ensemble3", ensemble), ("ceiling", lambda: ceiling(3000)),
            ("ceiling9000", lambda: ceiling(9000)),
            *((f"pairs{k // 1000}k", lambda k=k: stored(k)) for k in (20000, 40000, 80000, 160000))]


def main(names: list[str], only: set[str] | None = None) -> int:
    import torch
    torch.set_num_threads(1)   # the suite's setting; bit-identical reruns
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "limits.jsonl"
    done = {(r["mixing"], r["variant"]) for r in map(json.loads, path.read_text().splitlines())
            } if path.exists() else set()
    for name in names:
        if name not in SUITE:
            raise SystemExit(f"unknown mixing {name!r}; valid: {', '.join(SUITE)}")
        todo = variants(name)
        if only and not only <= {v for v, _ in todo}:
            raise SystemExit(f"unknown variant(s) {sorted(only - {v for v, _ in todo})}; "
                             f"valid: {', '.join(v for v, _ in todo)}")
        for variant, fn in todo:
            if (name, variant) in done or (only and variant not in only):
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            r2 = fn()
            row = dict(mixing=name, half=SUITE[name][3], variant=variant, r2_hz=r2,
                       seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - c0)
            with path.open("a") as f:
                f.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
    rows = [json.loads(s) for s in path.read_text().splitlines()]
    table = ["| mixing | variant | R²(h→z) | 1 − R² | CPU s |", "|---|---|---|---|---|"]
    table += [f"| {r['mixing']} | {r['variant']} | {r['r2_hz']:.5f} | {1 - r['r2_hz']:.2e} | "
              f"{r['cpu_seconds']:.0f} |" for r in rows]
    (OUT / "limits.md").write_text("## Where fit_encoder's precision is lost "
                                   "(scripts/precision_limits.py)\n\n" + "\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("mixings", nargs="+", metavar="MIXING")
    p.add_argument("--only", type=lambda v: set(v.split(",")), default=None,
                   metavar="VARIANT,...", help="run only these variants")
    args = p.parse_args()
    raise SystemExit(main(args.mixings, args.only))
