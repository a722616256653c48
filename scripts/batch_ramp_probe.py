"""Probe (issue 11, session 17): a batch that grows over training, at the scaling world.

Usage: python scripts/batch_ramp_probe.py N OBJECTIVE STEPS LR B0 B1 SEED [OPTIONS_JSON]
The batch grows geometrically from B0 (step 0) to B1 (last step), rounded to even, with
the package's QMC pair sampler (scaling.toml's qmc = true). One JSON line.
"""
import json
import sys
import time

import pycheck.experiments._common as C
import pycheck.train as T
from pycheck.train import set_threads

set_threads(1)
n, obj, steps, lr, b0, b1, seed = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                   float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]),
                                   int(sys.argv[7]))
options = json.loads(sys.argv[8]) if len(sys.argv) > 8 else {}
_train = T._train


def ramp(step):
    return 2 * round(b0 * (b1 / b0) ** (step / max(1, steps - 1)) / 2)


def train_ramped(*args, **kw):
    kw["batch"] = ramp
    return _train(*args, **kw)


T._train = train_ramped
t = time.time()
r = C.train_and_measure(mixing="realnvp", n=n, objective=obj, seed=seed, rho=0.5, n_train=20000,
                        n_test=5000, steps=steps, batch_size=b0, lr=lr, encoder="realnvp",
                        fresh=True, antithetic=True, qmc=True, options=options)
print(json.dumps(dict(mode="ramp", n=n, obj=obj, steps=steps, lr=lr, b0=b0, b1=b1, seed=seed,
                      opts=options, r2=r["r2_hz"], secs=round(time.time() - t, 1))), flush=True)
