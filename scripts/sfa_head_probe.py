"""Probe: a closed-form polynomial SFA head on a trained scaling-world encoder.

Train one encoder as the scaling experiment does (seed 0 = the tuning seed), then fit,
label-free, the slow-feature read-out of polynomial features of its output h (degree 2:
h, h_i h_j; degree 3 adds h_i h_j h_k) on fresh pairs from a stream apart from training's,
and measure R²(head -> z) on the run's test pairs beside R²(h -> z).

Usage: python scripts/sfa_head_probe.py N OBJECTIVE STEPS BATCH DEGREE N_PAIRS [OPTIONS_JSON]
"""
import itertools, json, sys, time
import numpy as np
import torch
torch.set_num_threads(1)
from pycheck.experiments._common import _data, _encoder, _pair_sampler, world_sampler
from pycheck.metrics import linear_r2
from pycheck.sfa import sfa_from_moments
from pycheck.train import embed, fit_encoder

n, obj, steps, bs, degree, n_pairs = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                      int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]))
opts = json.loads(sys.argv[7]) if len(sys.argv) > 7 else {}
seed, rho = 0, 0.5
g, z, z_next, zt, zt_next = _data("realnvp", n, seed, rho, 20000, 5000)
t = time.time()
model = fit_encoder(g.forward(z), g.forward(z_next), obj, encoder=_encoder("realnvp", n, seed),
                    steps=steps, batch_size=bs, lr=3e-3, seed=seed, progress=False,
                    sampler=_pair_sampler(g, n, seed, rho, True), **opts)
secs = time.time() - t
h_test = embed(model, g.forward(zt))


def feats(h, mu, sd):
    h = (h - mu) / sd
    cols = [h]
    if degree >= 2:
        i, j = np.triu_indices(n)
        cols.append(h[:, i] * h[:, j])
    if degree >= 3:
        idx = np.array(list(itertools.combinations_with_replacement(range(n), 3)))
        cols.append(h[:, idx[:, 0]] * h[:, idx[:, 1]] * h[:, idx[:, 2]])
    return np.concatenate(cols, 1)


mu, sd = h_test.mean(0), h_test.std(0)
draw = world_sampler(n, seed + 777, rho)      # a stream apart from training's and the test's
k = None
for chunk in range(0, n_pairs, 20000):
    za, zb = draw(min(20000, n_pairs - chunk))
    fa, fb = feats(embed(model, g.forward(za)), mu, sd), feats(embed(model, g.forward(zb)), mu, sd)
    if k is None:
        k = fa.shape[1]; s1 = np.zeros(k); s2 = np.zeros((k, k)); sd2 = np.zeros((k, k)); m = 0
    s1 += fa.sum(0) + fb.sum(0); s2 += fa.T @ fa + fb.T @ fb; d = fb - fa; sd2 += d.T @ d
    m += fa.shape[0]
mean = s1 / (2 * m)
cov = s2 / (2 * m) - np.outer(mean, mean)
out = dict(n=n, obj=obj, steps=steps, bs=bs, degree=degree, n_pairs=n_pairs, opts=opts,
           features=k, train_secs=round(secs, 1), r2_h=linear_r2(h_test, zt))
ft = feats(h_test, mu, sd)
for ridge in (1e-8, 1e-6, 1e-4):
    mean_, w, slow = sfa_from_moments(mean, cov, sd2 / m, n, ridge=ridge)
    out[f"r2_head_ridge{ridge:g}"] = linear_r2((ft - mean_) @ w, zt)
print(json.dumps(out), flush=True)
