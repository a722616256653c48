"""Issue 11 item 2 probe: does fit_encoder's default end below the linear map at few pairs?

    .venv/bin/python scripts/small_pairs_probe.py --set A --pairs 2000 --out results/fit_encoder/small-pairs-s38/A.jsonl

Worlds: the suite's 24 mixings (``scripts/suite.py``; n = d) and 12 overcomplete worlds
(n latents seen through d > n channels, tanh or leaky-ReLU of a random linear map at a
scale from nearly linear to strongly bent), a Gaussian-OU world each. Set "A" / "B" is a fixed
split (every other world by its position in the list, before any run), A for choosing a
rule, B for reporting it unchanged. Per world: R²(x -> z) and R²(h -> z) on 10 000 fresh
pairs, the selected read-out, every candidate's held-out whitened alignment, and the R² of
every candidate (recomputed here by re-running the selection's read-outs). The files
``candidates-{A,B}.jsonl`` (seeds 0-1) were written by the code before session 38's change (its
candidates had no kurtosis), ``new-seed2-*`` and ``new-20000-*`` by an intermediate rule of that
session (margin 1, no worse on any leading outputs, kurtosis; not adopted); every candidate is
recorded, so ``scripts/small_pairs_replay.py`` replays any rule on any of them.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suite  # noqa: E402

OVER = {  # name: (n, d, rho, nonlinearity, scale)
    "tanh-3to6-lin": (3, 6, 0.8, "tanh", 0.3),
    "tanh-3to6-bent": (3, 6, 0.8, "tanh", 1.0),
    "tanh-2to8-lin": (2, 8, 0.5, "tanh", 0.4),
    "tanh-4to12-mid": (4, 12, 0.9, "tanh", 0.7),
    "leaky-3to6": (3, 6, 0.5, "leaky", 1.0),
    "leaky-2to5": (2, 5, 0.9, "leaky", 1.0),
    "tanh-5to10-lin": (5, 10, 0.3, "tanh", 0.3),
    "tanh-3to9-bent": (3, 9, 0.3, "tanh", 1.5),
    "leaky-4to8": (4, 8, 0.8, "leaky", 1.0),
    "tanh-2to4-mid": (2, 4, 0.8, "tanh", 0.7),
    "sin-3to6": (3, 6, 0.5, "sin", 0.5),
    "sin-2to6": (2, 6, 0.9, "sin", 0.8),
}
WORLDS = list(suite.SUITE) + list(OVER)
SETS = {"A": WORLDS[0::2], "B": WORLDS[1::2]}


def over_mix(name: str, z: np.ndarray) -> np.ndarray:
    n, d, _, kind, s = OVER[name]
    rng = np.random.default_rng([sum(map(ord, name)), n, d])
    a = rng.standard_normal((n, d)) / math.sqrt(n)
    b = 0.3 * rng.standard_normal(d)
    t = s * (z @ a) + b
    x = {"tanh": np.tanh, "sin": np.sin,
         "leaky": lambda u: np.where(u > 0, u, 0.2 * u)}[kind](t) / s
    return x @ suite._rotation(d, rng)


def world(name: str, pairs: int, seed: int):
    from pycheck.worlds import gaussian_ou_pairs
    if name in OVER:
        n, _, rho, _, _ = OVER[name]
        f = lambda z: over_mix(name, z)  # noqa: E731
    else:
        _, n, rho, _ = suite.SUITE[name]
        f = lambda z: suite.mix(name, z)  # noqa: E731
    rng = np.random.default_rng([38, seed, sum(map(ord, name))])
    z, zn = gaussian_ou_pairs(pairs, n, rho, rng)
    zt, _ = gaussian_ou_pairs(10000, n, rho, rng)
    return f(z), f(zn), f(zt), zt


def _hook(train, xt, zt, calls):
    """Record, for every read-out selection, each candidate's held-out prefix alignments
    (coordinates in their SFA order, Cholesky-whitened in that order: the first k whitened
    coordinates span the first k outputs), the paired difference to the linear candidate
    per prefix with its standard error, and the candidate's R² on the test pairs: any
    selection rule can then be replayed from the file."""
    import torch

    import pycheck
    orig_sfa, orig_sb = train._sfa_select, train._significant_best
    cur = {}

    def terms(h, hn):
        c = np.cov(np.concatenate([h, hn]), rowvar=False).reshape(h.shape[1], h.shape[1])
        w = np.linalg.solve(np.linalg.cholesky(c), (hn - h).T)
        return np.cumsum(w * w, axis=0).T          # (M, n): prefix sums per pair

    def sfa(model, data, held):
        cur["m"], cur["data"], cur["held"] = model, data, held
        return orig_sfa(model, data, held)

    def sb(cands):
        m, held = cur["m"], cur["held"]
        f = m.encoder
        with torch.no_grad():
            xs = m.standardize(torch.from_numpy(xt))
            phi_t = f.features(xs).double().numpy()
            h_t = f(xs).double().numpy()
        phi, phin = train._embed_pairs(f, held, method="features")
        rows, lin = [], None
        for name, per_pair, readout, kurt in cands:
            if readout is None:   # trained: order its outputs as fit_encoder will
                w, b = (t.double().cpu().numpy() for t in f.readout())
                readout = train._slowest_first(
                    (w, b), *train._embed_pairs(f, cur["data"], method="features"))
            hh, hhn = phi @ readout[0] + readout[1], phin @ readout[0] + readout[1]
            try:
                t = terms(hh, hhn)
            except np.linalg.LinAlgError:
                continue
            ht = phi_t @ readout[0] + readout[1]
            rows.append(dict(name=name, full=float(per_pair.mean()), t=t,
                             r2=pycheck.linear_r2(ht, zt), kurtosis=kurt))
            if name.startswith("linear"):
                lin = t
        n_out = rows[0]["t"].shape[1]
        for r in rows:
            t = r.pop("t")
            r["prefix"] = (t.mean(0) / np.arange(1, n_out + 1)).tolist()
            if lin is not None:
                dd = lin - t
                r["gain"] = (dd.mean(0)).tolist()
                r["gain_se"] = (dd.std(0) / math.sqrt(len(dd))).tolist()
        calls.append(rows)
        return orig_sb(cands)

    train._sfa_select, train._significant_best = sfa, sb
    return orig_sfa, orig_sb


def main() -> int:
    import torch

    import pycheck
    from pycheck import train
    from pycheck.train import embed
    p = argparse.ArgumentParser()
    p.add_argument("--set", choices=("A", "B"), required=True)
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--options", default="{}")
    p.add_argument("--out", required=True)
    p.add_argument("--only", default=None)
    p.add_argument("--candidates", action="store_true",
                   help="record every candidate's prefix alignments and R² (see _hook)")
    args = p.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    done = set()
    if out.is_file():
        done = {(r["world"], r["pairs"], r["seed"]) for r in map(json.loads, out.read_text().splitlines())}
    for name in SETS[args.set]:
        if args.only and name not in args.only.split(","):
            continue
        if (name, args.pairs, args.seed) in done:
            continue
        x, xn, xt, zt = world(name, args.pairs, args.seed)
        calls: list = []
        restore = _hook(train, xt, zt, calls) if args.candidates else None
        t0 = time.perf_counter()
        enc = pycheck.fit_encoder(x, xn, progress=False, seed=args.seed, **json.loads(args.options))
        row = dict(world=name, pairs=args.pairs, seed=args.seed, n=zt.shape[1], d=x.shape[1],
                   r2_xz=pycheck.linear_r2(xt, zt), r2_hz=pycheck.linear_r2(embed(enc, xt), zt),
                   selected=getattr(enc, "selected", ""), lam=getattr(enc, "lam", None),
                   heldout=getattr(enc, "heldout_objective", None),
                   candidates=getattr(enc, "candidates", {}),
                   seconds=round(time.perf_counter() - t0, 1))
        row["below_linear"] = bool(row["r2_hz"] < row["r2_xz"] - 1e-6)  # float32 read-out
        if restore:
            train._sfa_select, train._significant_best = restore
            row["calls"] = calls
        suite.record(out, row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
