"""Probe (issue 11, session 8): the SFA read-out of the two default fits stacked.

    .venv/bin/python scripts/stack_probe.py MIXING

The lam = 0 and lam = 0.3 fits of a suite mixing (fit_encoder defaults otherwise), their
outputs concatenated (2n features) and the SFA read-out fitted on the first 18 000 training
pairs: R²(h -> z) and the whitened alignment on 10 000 fresh pairs against each fit alone.
One JSON line per mixing in results/fit_encoder/probes-s8/stack.jsonl. Result on the tuning
half: no gain (within 1e-4 or worse), so it is not a candidate of fit_encoder.
"""
import json
import sys
from pathlib import Path

import numpy as np
import torch

import pycheck
from pycheck.sfa import sfa_readout
from pycheck.train import embed, whitened_alignment
from pycheck.worlds import gaussian_ou_pairs

sys.path.insert(0, str(Path(__file__).parent))
from suite import SUITE, _data, mix  # noqa: E402

torch.set_num_threads(1)   # as the suite: bit-identical reruns
name = sys.argv[1]
z, zn, zt = _data(name); _, n, rho, _ = SUITE[name]
x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
zf, zfn = gaussian_ou_pairs(10000, n, rho, np.random.default_rng(7))
xf, xfn = mix(name, zf), mix(name, zfn)
fits = [pycheck.fit_encoder(x, xn, progress=False, lam=l) for l in (0.0, 0.3)]
row = dict(mixing=name)
for l, f in zip((0, 0.3), fits):
    row[f"r2_{l}"] = pycheck.linear_r2(embed(f, xt), zt)
    row[f"ho_{l}"] = f.heldout_objective
# stacked features, readout fitted on the first 18000 pairs, evaluated on the last 2000 and on fresh
H = np.concatenate([embed(f, x) for f in fits], 1); Hn = np.concatenate([embed(f, xn) for f in fits], 1)
Ht = np.concatenate([embed(f, xt) for f in fits], 1)
Hf = np.concatenate([embed(f, xf) for f in fits], 1); Hfn = np.concatenate([embed(f, xfn) for f in fits], 1)
for ridge in (1e-6, 1e-3):
    mean, w, _ = sfa_readout(H[:18000], Hn[:18000], n, ridge=ridge)
    row[f"r2_stack_{ridge:g}"] = pycheck.linear_r2((Ht - mean) @ w, zt)
    row[f"wa_stack_last2000_{ridge:g}"] = whitened_alignment((H[18000:] - mean) @ w, (Hn[18000:] - mean) @ w)
    row[f"wa_stack_fresh_{ridge:g}"] = whitened_alignment((Hf - mean) @ w, (Hfn - mean) @ w)
for l, f in zip((0, 0.3), fits):
    row[f"wa_fresh_{l}"] = whitened_alignment(embed(f, xf), embed(f, xfn))
print(json.dumps(row), flush=True)
open("results/fit_encoder/probes-s8/stack.jsonl", "a").write(json.dumps(row) + "\n")
