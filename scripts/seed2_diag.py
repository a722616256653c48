"""Diagnose (issue 11, session 20): where the scaling world's seed 2 at N = 2 loses its
last 1e-3 of R²(h -> z). Usage: python scripts/seed2_diag.py OBJ STEPS BATCH [SEED] [N]."""
import json
import sys
import time

import numpy as np

import pycheck.experiments._common as C
from pycheck.metrics import linear_r2
from pycheck.train import embed, fit_encoder, set_threads, whitened_alignment

set_threads(1)
obj, steps, bs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
seed = int(sys.argv[4]) if len(sys.argv) > 4 else 2
n = int(sys.argv[5]) if len(sys.argv) > 5 else 2
extra = json.loads(sys.argv[6]) if len(sys.argv) > 6 else {}
rho = 0.5
opts = dict(scale_free=True, lam=0.003, lam_start=0.003, num_slices=128) if obj == "sigreg" else {}
opts.update(extra.get("opts", {}))
g, z, zn, zt, ztn = C._data("realnvp", n, seed, rho, 20000, 100000)
x, xt = g.forward(z), g.forward(zt)
t0 = time.perf_counter()
m = fit_encoder(x, g.forward(zn), obj, encoder=C._encoder("realnvp", n, extra.get("enc_seed", seed)), steps=steps,
                batch_size=bs, lr=extra.get("lr", 3e-3), seed=seed, progress=False,
                sampler=C._pair_sampler(g, n, seed, rho, True, True),
                holdout=extra.get("holdout", 0.1), ema=extra.get("ema", None), **opts)
h = embed(m, xt)
A, *_ = np.linalg.lstsq(np.c_[h, np.ones(len(h))], zt, rcond=None)
res = zt - np.c_[h, np.ones(len(h))] @ A
r = np.linalg.norm(zt, axis=1)
out = dict(obj=obj, steps=steps, bs=bs, seed=seed, n=n, extra=extra, r2=linear_r2(h, zt),
           best_step=getattr(m, "best_step", None), secs=round(time.perf_counter() - t0, 1))
# share of the residual variance by radius of z (chi distribution quantiles)
edges = np.quantile(r, [0, .5, .9, .99, 1])
out["res_share_by_radius"] = [float((res[(r >= a) & (r <= b)] ** 2).sum() / (res ** 2).sum())
                              for a, b in zip(edges[:-1], edges[1:])]
out["r2_bulk"] = linear_r2(h[r < edges[2]], zt[r < edges[2]])
out["wa_test"] = whitened_alignment(h, embed(m, g.forward(ztn)))  # 100 000 fresh pairs
out["heldout_curve"] = [(s, p["heldout"]) for s, p in m.history if "heldout" in p]
print(json.dumps(out))
