"""Trial hA: pycheck.fit_encoder with its defaults on six new invertible worlds.

    .venv/bin/python trial_hA/trial.py WORLD [WORLD ...]   # appends to trial_hA/results.jsonl

Per world (fit seed 0; data drawn from default_rng([0, world index])):
 1. 20 000 training pairs -> fit_encoder(x, x_next) with defaults; wall seconds, warnings,
    enc.selected, enc.heldout_objective.
 2. R²(h->z), R²(x->z) on 10 000 fresh pairs' first states, by OLS of z on [h, 1] fitted on
    the first 5 000 and scored on the other 5 000, mean R² over latent coordinates
    (computed here, not by pycheck).
 3. supervised ceiling: fit_supervised(x, z, make_encoder("residual-mlp", d, n), seed=0,
    steps=3000, batch_size=1024, lr=1e-3), as scripts/suite.py --supervised does.
 4. 2 000 fresh training pairs -> fit_encoder defaults; R²(h->z) vs R²(x->z).
"""
from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from worlds_new import WORLDS, mix  # noqa: E402

import pycheck  # noqa: E402
from pycheck.experiments._common import fit_supervised  # noqa: E402
from pycheck.train import embed, make_encoder  # noqa: E402

OUT = HERE / "results.jsonl"


def ou_pairs(n_pairs, n, rho, rng):
    z = rng.standard_normal((n_pairs, n))
    return z, rho * z + np.sqrt(1 - rho * rho) * rng.standard_normal((n_pairs, n))


def r2_ols(h, z, n_fit=5000):
    """Mean over latent coordinates of held-out R² of OLS z ~ [h, 1]."""
    a = np.c_[h, np.ones(len(h))]
    coef, *_ = np.linalg.lstsq(a[:n_fit], z[:n_fit], rcond=None)
    zt, pred = z[n_fit:], a[n_fit:] @ coef
    r2 = 1 - ((zt - pred) ** 2).sum(0) / ((zt - zt.mean(0)) ** 2).sum(0)
    return float(r2.mean()), [float(v) for v in r2]


def timed_fit(x, xn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        enc = pycheck.fit_encoder(x, xn)          # defaults
        secs = time.perf_counter() - t0
    msgs = [f"{w.category.__name__}: {w.message}" for w in caught]
    for m in msgs:
        print("WARNING:", m, flush=True)
    return enc, secs, msgs


def attrs(enc):
    out = {}
    for k in ("selected", "heldout_objective", "lam", "best_step", "heavy_tailed",
              "candidates", "train_seconds", "slowness", "coverage"):
        if hasattr(enc, k):
            v = getattr(enc, k)
            if isinstance(v, np.ndarray):
                v = v.tolist()
            out[k] = v
    if hasattr(enc, "lam_fits"):
        out["lam_fits"] = {str(k): v for k, v in enc.lam_fits.items()}
    return json.loads(json.dumps(out, default=lambda o: o.tolist() if hasattr(o, "tolist")
                                 else str(o)))


def run(name):
    family, n, rho = WORLDS[name]
    idx = list(WORLDS).index(name)
    rng = np.random.default_rng([0, idx])
    z, zn = ou_pairs(20000, n, rho, rng)
    zt, _ = ou_pairs(10000, n, rho, rng)
    z2, z2n = ou_pairs(2000, n, rho, rng)
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    x2, x2n = mix(name, z2), mix(name, z2n)
    row = dict(world=name, family=family, n=n, rho=rho, torch_threads=torch.get_num_threads())
    row["r2_xz"], row["r2_xz_coords"] = r2_ols(xt, zt)
    row["r2_xz_kit"] = pycheck.linear_r2(xt, zt)

    print(f"[{name}] fit_encoder 20k", flush=True)
    enc, secs, msgs = timed_fit(x, xn)
    h = embed(enc, xt)
    row |= dict(seconds_20k=secs, warnings_20k=msgs, enc_20k=attrs(enc))
    row["r2_hz_20k"], row["r2_hz_20k_coords"] = r2_ols(h, zt)
    row["r2_hz_20k_kit"] = pycheck.linear_r2(h, zt)

    print(f"[{name}] ceiling", flush=True)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sup = fit_supervised(x, z, make_encoder("residual-mlp", x.shape[1], z.shape[1]),
                             seed=0, steps=3000, batch_size=1024, lr=1e-3)
    row["seconds_ceiling"] = time.perf_counter() - t0
    row["warnings_ceiling"] = [f"{w.category.__name__}: {w.message}" for w in caught]
    row["r2_ceiling"], row["r2_ceiling_coords"] = r2_ols(embed(sup, xt), zt)
    row["ratio"] = (1 - row["r2_hz_20k"]) / (1 - row["r2_ceiling"])

    print(f"[{name}] fit_encoder 2k", flush=True)
    enc2, secs2, msgs2 = timed_fit(x2, x2n)
    row |= dict(seconds_2k=secs2, warnings_2k=msgs2, enc_2k=attrs(enc2))
    row["r2_hz_2k"], row["r2_hz_2k_coords"] = r2_ols(embed(enc2, xt), zt)
    row["margin_2k"] = row["r2_hz_2k"] - row["r2_xz"]
    with OUT.open("a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps({k: row[k] for k in ("world", "r2_xz", "r2_hz_20k", "r2_ceiling", "ratio",
                                          "seconds_20k", "r2_hz_2k", "margin_2k")}),
          flush=True)


if __name__ == "__main__":
    for w in sys.argv[1:]:
        run(w)
