"""Pairs at lag k from one sequence: does a longer lag identify better at a fixed length?

T1's gap against a bent encoder is rho (1 - rho) per unit of nonlinear energy (PAPER, T3),
largest at rho = 0.5; a slow world (rho = 0.9) seen as one sequence gives pairs (x_t,
x_{t+k}) of correlation rho^k for every k. This probe fits the defaults (lambda = 0, one
fit) on the T - k pairs at lag k of one OU sequence of length T through a mixing, and
scores R²(h -> z) on a fresh sequence. Session 25; appends to
``results/fit_encoder/lags-s25/lags.jsonl``.

Usage: ``.venv/bin/python scripts/lag_probe.py MIXING N RHO LAGS [T] [SEED]`` (LAGS: ``3`` or
``1,2`` for the pairs of both lags stacked)
(MIXING: a name of :func:`pycheck.mixings.make_mixing`).
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

import pycheck
from pycheck.mixings import make_mixing
from pycheck.train import embed


def ou_sequence(t: int, n: int, rho: float, rng) -> np.ndarray:
    z = np.empty((t, n))
    z[0] = rng.standard_normal(n)
    eps = rng.standard_normal((t, n)) * np.sqrt(1 - rho ** 2)
    for i in range(1, t):
        z[i] = rho * z[i - 1] + eps[i]
    return z


def main():
    mixing, n, rho = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    lags = [int(v) for v in sys.argv[4].split(",")]  # "1,2": the pairs of both lags stacked
    t = int(sys.argv[5]) if len(sys.argv) > 5 else 20001
    seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    g = make_mixing(mixing, n, seed)
    z = ou_sequence(t, n, rho, rng)
    zt = ou_sequence(10000, n, rho, rng)
    x, xt = g.forward(z), g.forward(zt)
    t0 = time.time()
    a = np.concatenate([x[:-k] for k in lags])
    b = np.concatenate([x[k:] for k in lags])
    enc = pycheck.fit_encoder(a, b, seed=seed, lam=0, progress=False)
    h = embed(enc, xt)
    row = dict(probe="lag", mixing=mixing, n=n, rho=rho, lag=sys.argv[4], T=t, seed=seed,
               pairs=len(a), r2_xz=pycheck.linear_r2(xt, zt), r2_hz=pycheck.linear_r2(h, zt),
               selected=enc.selected, best_step=int(enc.best_step),
               seconds=round(time.time() - t0, 1))
    print(json.dumps(row), flush=True)
    out = Path(__file__).resolve().parents[1] / "results/fit_encoder/lags-s25/lags.jsonl"
    with out.open("a") as f:
        f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
