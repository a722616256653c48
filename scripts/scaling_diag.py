"""Diagnose one scaling-world fit (seed 0, RealNVP mixing, rho 0.5, fresh pairs, 256 x STEPS at
lr 3e-3): R²(h -> z), R²(z -> h), the range of Cov(h)'s eigenvalues, the extreme singular values of
the least-squares map z -> h and the share of Var h not linear in z (resid_frac); one JSON line.
The "diag" rows of results/scaling/probes_s11.jsonl (session 11).

Usage: python scripts/scaling_diag.py N OBJECTIVE STEPS OPTIONS_JSON
"""
import sys, json, numpy as np, torch
torch.set_num_threads(1)
from pycheck.experiments._common import _data, _pair_sampler, _encoder
from pycheck.train import fit_encoder, embed
from pycheck.metrics import linear_r2
n=int(sys.argv[1]); obj=sys.argv[2]; steps=int(sys.argv[3]); opts=json.loads(sys.argv[4])
g, z, zn, zt, ztn = _data("realnvp", n, 0, 0.5, 20000, 5000)
m = fit_encoder(g.forward(z), g.forward(zn), obj, encoder=_encoder("realnvp", n, 0), steps=steps, batch_size=256, lr=3e-3, seed=0, progress=False, sampler=_pair_sampler(g, n, 0, 0.5), **opts)
h = embed(m, g.forward(zt))
c = np.cov(h.T); ev = np.linalg.eigvalsh(c)
# linear part of h: regress h on z
A,*_ = np.linalg.lstsq(np.c_[zt, np.ones(len(zt))], h, rcond=None)
res = h - np.c_[zt, np.ones(len(zt))] @ A
print(json.dumps(dict(n=n, obj=obj, opts=opts, r2_hz=linear_r2(h, zt), r2_zh=linear_r2(zt, h),
      cov_eig_min_max=[float(ev.min()), float(ev.max())], lin_sv=np.linalg.svd(A[:-1], compute_uv=False)[[0,-1]].tolist(),
      resid_frac=float(res.var(0).sum()/h.var(0).sum()))), flush=True)
