"""Probe (issue 11, session 16): how the fresh training pairs are drawn, at a fixed budget.

Modes (every pair is a Gaussian-OU pair, so the expected loss is the same in all):
  anti2  the default: k = batch/2 states z, each with the two next states rho z +- s eps
         (pycheck.experiments._common.world_sampler, antithetic=True)
  anti4  k = batch/4 states, each with four next states rho z +- s eps1, rho z +- s eps2
         (fewer encoder rows per step: k + batch)
  state  k = batch/2 states z0 and -z0 (antithetic in the state too), each +- s eps0
  qmc    k = batch/2 states from a scrambled Sobol sequence mapped through the normal
         quantile (quasi-Monte Carlo over the state), each +- s eps
  qmc2   as qmc, with the state and the innovation from one 2N-dimensional Sobol point

Usage: python scripts/views_probe.py MODE N OBJECTIVE STEPS LR BATCH SEED [OPTIONS_JSON]
One JSON line (R²(h -> z) on fresh test pairs and seconds); results/scaling/probes_s16.jsonl.
(The session-16 probes of qmc and qmc2 drew their Sobol points with their own copy of the
sampler, clipping the uniforms at 1e-12 instead of machine epsilon; the qmc2 probe at N = 8
reproduces the scaling table's run to the digits shown.)
"""
import json
import math
import sys
import time

import numpy as np

import pycheck.experiments._common as C
from pycheck.train import set_threads

set_threads(1)
mode, n, obj, steps, lr, bs, seed = (sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                                     float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
options = json.loads(sys.argv[8]) if len(sys.argv) > 8 else {}


def pair_sampler(g, n, seed, rho, antithetic=True, qmc=False):
    """The modes anti2 and qmc2 are the package's own sampler (world_sampler with
    antithetic=True, qmc=False / True); the others are drawn here."""
    if mode in ("anti2", "qmc2"):
        return C_pair_sampler(g, n, seed, rho, antithetic=True, qmc=mode == "qmc2")
    rng = np.random.default_rng([seed, n, 0xF5E5])
    s = math.sqrt(1 - rho * rho)
    normals = C._sobol_normals(n, rng) if mode == "qmc" else None

    def sample(batch):
        if mode == "anti4":
            k = -(-batch // 4)
            z, e1, e2 = (rng.standard_normal((k, n)) for _ in range(3))
            zn = np.concatenate([rho * z + s * e1, rho * z - s * e1, rho * z + s * e2,
                                 rho * z - s * e2])[:batch]
        else:
            k = -(-batch // 2)
            if mode == "state":
                z0, e0 = rng.standard_normal((-(-k // 2), n)), rng.standard_normal((-(-k // 2), n))
                z, e = np.concatenate([z0, -z0])[:k], np.concatenate([e0, e0])[:k]
            else:                                             # qmc: the state only
                z, e = normals(k), rng.standard_normal((k, n))
            zn = np.concatenate([rho * z + s * e, rho * z - s * e])[:batch]
        return g.forward(z, np.float32), g.forward(zn, np.float32)
    return sample


if mode not in ("anti2", "anti4", "state", "qmc", "qmc2"):
    sys.exit(f"unknown mode {mode!r}")
C_pair_sampler = C._pair_sampler
C._pair_sampler = pair_sampler
t = time.time()
r = C.train_and_measure(mixing="realnvp", n=n, objective=obj, seed=seed, rho=0.5, n_train=20000,
                        n_test=5000, steps=steps, batch_size=bs, lr=lr, encoder="realnvp",
                        fresh=True, antithetic=True, options=options)
print(json.dumps(dict(mode=mode, n=n, obj=obj, steps=steps, lr=lr, bs=bs, seed=seed,
                      opts=options, r2=r["r2_hz"], secs=round(time.time() - t, 1))), flush=True)
