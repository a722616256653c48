"""Probe (issue 11, session 20): can the fresh-pair checkpoint rule (last unless an earlier
checkpoint is better by MARGIN_SE paired standard errors) see overfitting on stored pairs?
A 2D sheared Gaussian-OU world (rho 0.3) with a few hundred stored pairs, VICReg, trained
read-out, lr 3e-3: prints the held-out curve, the checkpoint the minimum keeps (best_step)
and the paired z-score of last-minus-best that _select_checkpoint would test.
Usage: .venv/bin/python scripts/overfit_checkpoint_probe.py
"""
import math
import sys

import numpy as np

import pycheck.train as T
from pycheck.train import fit_encoder
from pycheck.worlds import gaussian_ou_pairs

sys.path.insert(0, "tests")
from test_engine import _shear  # noqa: E402

_select = T._select_checkpoint


def _report(best, last):
    if last is not None and last[1] is not None and math.isfinite(last[0]):
        d = last[3] - best[3]
        se = d.std() / math.sqrt(d.size)
        print(f"  best step {best[2]} ({best[0]:.4f}), last {last[2]} ({last[0]:.4f}), "
              f"paired z {d.mean() / se:.2f} on {d.size} held-out pairs")
    return _select(best, last)


def _train_prefer_last(*args, _orig=T._train, **kw):
    return _orig(*args, **dict(kw, prefer_last=True))   # only to get the z-score printed


T._select_checkpoint = _report
T._train = _train_prefer_last
for n, steps, seed in [(400, 600, 0), (400, 600, 1), (300, 400, 2)]:
    z, zn = gaussian_ou_pairs(n, 2, 0.3, np.random.default_rng(seed))
    enc = fit_encoder(_shear(z), _shear(zn), "vicreg", steps=steps, batch_size=256,
                      progress=False, readout="trained", lr=3e-3)
    held = [(s, round(p["heldout"], 4)) for s, p in enc.history if "heldout" in p]
    print(f"{n} pairs, {steps} steps, seed {seed}: returned step {enc.best_step}; "
          f"held-out curve {held[::3]} ... {held[-1]}")
