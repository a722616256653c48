"""Probe (session 12): SFA read-outs of a trained RealNVP encoder's hidden units on the scaling world.
Output: results/scaling/realnvp_sfa_s12.txt. Usage: python scripts/realnvp_sfa_probe.py N OBJECTIVE STEPS OPTIONS_JSON
"""
import sys, json, numpy as np, torch
torch.set_num_threads(1)
import os; sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pycheck.experiments._common import _data, _pair_sampler, _encoder, world_sampler
from pycheck.train import fit_encoder, embed
from pycheck.metrics import linear_r2
from pycheck.sfa import sfa_from_moments
n=int(sys.argv[1]); obj=sys.argv[2]; steps=int(sys.argv[3]); opts=json.loads(sys.argv[4])
g, z, zn, zt, ztn = _data("realnvp", n, 0, 0.5, 20000, 5000)
m = fit_encoder(g.forward(z), g.forward(zn), obj, encoder=_encoder("realnvp", n, 0), steps=steps, batch_size=256, lr=3e-3, seed=0, progress=False, sampler=_pair_sampler(g, n, 0, 0.5, True), **opts)

enc = m.encoder
@torch.no_grad()
def feats(x, which):
    xs = m.standardize(torch.from_numpy(x))
    k = enc.dim // 2
    halves = [xs[:, :k], xs[:, k:]]
    hid = []
    for c in enc.couplings:
        i = 0 if c.cond.start == 0 else 1
        hid.append(c.net[1](c.net[0](halves[i])))
        halves[1 - i] = c.transform(halves[i], halves[1 - i])
    y = torch.cat(halves, 1)
    parts = [y] + (hid[-which:] if which else [])
    return torch.cat(parts, 1).double().numpy()
h = embed(m, g.forward(zt))
print("trained", linear_r2(h, zt), flush=True)
draw = world_sampler(n, 123, 0.5)
for which in (1, 2, 4):
  for npairs in (100000, 400000):
    k = feats(g.forward(zt[:10]), which).shape[1]
    C = np.zeros((k, k)); Cd = np.zeros((k, k)); S = np.zeros(k); cnt = 0
    for _ in range(npairs // 20000):
        a, b = draw(20000)
        fa, fb = feats(g.forward(a), which), feats(g.forward(b), which)
        both = np.concatenate([fa, fb])
        S += both.sum(0); C += both.T @ both; d = fb - fa; Cd += d.T @ d; cnt += 20000
    mu = S / (2 * cnt); C = (C - 2 * cnt * np.outer(mu, mu)) / (2 * cnt - 1); Cd /= cnt
    ft = feats(g.forward(zt), which)
    for ridge in (1e-6, 1e-4):
        _, W, _ = sfa_from_moments(mu, C, Cd, n, ridge=ridge)   # = sfa_readout on all pairs
        hs = (ft - mu) @ W
        print(which, npairs, ridge, k, "sfa", round(linear_r2(hs, zt), 5), "oracle-span", round(linear_r2(ft, zt),5), flush=True)
