"""Probe (issue 11, session 20): does self-supervised training stay at the supervised
solution? The scaling world's encoder is first regressed on the true z (the ceiling's
fit), then trained with a self-supervised objective from there (same input whitening:
holdout = 0 fits it on the same 20 000 stored pairs). If R²(h -> z) drifts down from the
ceiling, the objective's optimum as trained (finite batch, sampler, encoder) is not at
h = Qz; if it stays, the self-supervised run from scratch stops short of it.
Usage: python scripts/oracle_init_probe.py OBJ STEPS BATCH SEED N [LR]"""
import copy
import json
import sys
import time

import pycheck.experiments._common as C
from pycheck.metrics import linear_r2
from pycheck.train import embed, fit_encoder, set_threads, whitened_alignment

set_threads(1)
obj, steps, bs, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lr = float(sys.argv[6]) if len(sys.argv) > 6 else 3e-3
rho = 0.5
g, z, zn, zt, ztn = C._data("realnvp", n, seed, rho, 20000, 100000)
x, xt = g.forward(z), g.forward(zt)
t0 = time.perf_counter()
sup = C.fit_supervised(x, z, C._encoder("realnvp", n, seed), steps=6000, batch_size=1024, lr=3e-3,
                       seed=seed, sampler=C._latent_sampler(g, n, seed, rho, qmc=True))
r2_sup = linear_r2(embed(sup, xt), zt)
xtn = g.forward(ztn)
wa_sup = whitened_alignment(embed(sup, xt), embed(sup, xtn))   # on 100 000 fresh test pairs
opts = dict(scale_free=True, lam=0.003, lam_start=0.003, num_slices=128) if obj == "sigreg" else {}
m = fit_encoder(x, g.forward(zn), obj, encoder=copy.deepcopy(sup.encoder), steps=steps,
                batch_size=bs, lr=lr, seed=seed, progress=False, holdout=0,
                sampler=C._pair_sampler(g, n, seed, rho, True, True), **opts)
print(json.dumps(dict(obj=obj, steps=steps, bs=bs, seed=seed, n=n, lr=lr, r2_supervised=r2_sup,
                      r2_after=linear_r2(embed(m, xt), zt), wa_supervised=wa_sup,
                      wa_after=whitened_alignment(embed(m, xt), embed(m, xtn)),
                      wa_z=whitened_alignment(zt, ztn), secs=round(time.perf_counter() - t0, 1))))
