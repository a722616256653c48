"""A user's many-channel data: 3 latents seen through 100 tanh channels (session 36).

    .venv/bin/python scripts/wide_channels_probe.py [OUT.jsonl]

The world: z Gaussian-OU in 3 dimensions (rho = 0.8), x = tanh(z A^T / sqrt(3) + b) with A
(100 x 3) and b (100) standard normal (b scaled by 0.5), seed 5; 20 000 training pairs and
5 000 fresh test pairs. Defined after every default was fixed, run once. Rows (one JSON line
each, appended to OUT, default ``results/fit_encoder/probes-s36/wide.jsonl``):

* ``defaults``: ``pycheck.fit_encoder(x, x_next, seed=0, dim_out=3)``; R²(h -> z) on the test
  pairs, the read-out it selected and its candidates' held-out objectives;
* ``ceiling``: the same residual MLP regressed on z (fit_supervised, 3000 steps);
* ``linear``: R²(x -> z), the best any linear map of x can do;
* ``sfa ridge R`` / ``sfa pca K``: the linear SFA read-out of the standardised x with a ridge
  (relative to the mean variance) or on the leading K principal components, fitted on the
  first 90% of the training pairs; ``heldout``: its whitened alignment on the last 10%
  (what fit_encoder would judge it by), ``r2``: R²(h -> z) on the test pairs.

``--limit`` instead: SFA of the standardised x on 200 000 further pairs (``sfa 200000 pairs``)
and :func:`pycheck.sfa.sfa_excess_delta` at 18 000 pairs from them (T1's first-order variance
term for the linear read-out, manifest ID ``S1``).

One torch thread.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

import pycheck
from pycheck.experiments._common import fit_supervised
from pycheck.sfa import sfa_excess_delta, sfa_readout
from pycheck.train import embed, make_encoder, whitened_alignment


def world(seed: int = 5, n: int = 3, d: int = 100, rho: float = 0.8):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((d, n)), 0.5 * rng.standard_normal(d)

    def pairs(m):
        z = rng.standard_normal((m, n))
        zn = rho * z + np.sqrt(1 - rho**2) * rng.standard_normal((m, n))
        g = (lambda v: np.tanh(v @ a.T / np.sqrt(n) + b))
        return g(z), g(zn), z
    return pairs(20_000), pairs(5_000), pairs


def main(out: Path, only: str = "") -> None:
    torch.set_num_threads(1)
    (x, xn, z), (xt, xtn, zt), more = world()
    rows = []
    if only == "limit":
        # T1's variance term for the linear read-out of x (S1): its first-order prediction
        # at the 18 000 training pairs, and SFA on 200 000 further pairs (its large-sample
        # limit), from the same world
        big, big_next, _ = more(200_000)
        mu, sd = big.mean(0), big.std(0)
        b, bn = (big - mu) / sd, (big_next - mu) / sd
        mean, w, _ = sfa_readout(b, bn, 3, ridge=1e-6)
        rows.append(dict(row="sfa 200000 pairs", r2=pycheck.linear_r2(
            ((xt - mu) / sd - mean) @ w, zt)))
        rows.append(dict(row="predicted excess at 18000 pairs",
                         excess=sfa_excess_delta(b, bn, 3, 18_000)))
        _write(out, rows)
        return
    t0 = time.perf_counter()
    enc = pycheck.fit_encoder(x, xn, seed=0, dim_out=3, progress=False)
    rows.append(dict(row="defaults", r2=pycheck.linear_r2(embed(enc, xt), zt),
                     selected=enc.selected, lam=enc.lam, candidates=enc.candidates,
                     seconds=time.perf_counter() - t0))
    t0 = time.perf_counter()
    sup = fit_supervised(x, z, make_encoder("residual-mlp", 100, 3), steps=3000,
                         batch_size=1024, lr=1e-3, seed=0)
    rows.append(dict(row="ceiling", r2=pycheck.linear_r2(embed(sup, xt), zt),
                     seconds=time.perf_counter() - t0))
    rows.append(dict(row="linear", r2=pycheck.linear_r2(xt, zt)))
    mu, sd = x.mean(0), x.std(0)
    s, sn, st = (x - mu) / sd, (xn - mu) / sd, (xt - mu) / sd
    k = int(0.9 * len(s))
    cov = np.cov(np.r_[s[:k], sn[:k]].T)
    evals, vecs = np.linalg.eigh(cov)
    vecs = vecs[:, ::-1]
    variants = [(f"sfa ridge {r:g}", np.eye(100), r) for r in (1e-6, 1e-4, 1e-2, 1e-1)]
    variants += [(f"sfa pca {m}", vecs[:, :m], 1e-6) for m in (5, 10, 20, 40)]
    for name, proj, ridge in variants:
        mean, w, _ = sfa_readout(s[:k] @ proj, sn[:k] @ proj, 3, ridge=ridge)
        held = whitened_alignment((s[k:] @ proj - mean) @ w, (sn[k:] @ proj - mean) @ w)
        rows.append(dict(row=name, heldout=held,
                         r2=pycheck.linear_r2((st @ proj - mean) @ w, zt)))
    _write(out, rows)


def _write(out: Path, rows: list[dict]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        for r in rows:
            print(json.dumps(r))
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(Path(args[0] if args else "results/fit_encoder/probes-s36/wide.jsonl"),
         "limit" if "--limit" in sys.argv else "")
