"""Cost per training step of the full scaling profile (batch 1024, fresh antithetic pairs, the
profile's options), measured with fit_encoder's own loop (holdout 0: no held-out evaluations), one
torch thread, one run at a time; extrapolated to the profile's 20 000 steps. Supervised: the ceiling's
loop (fit_supervised). One JSON line per (N, objective).

Usage: .venv/bin/python scripts/full_cost_probe.py N [N ...]
(session 12: results/scaling/full_cost_s12.jsonl, constant-bound encoder, independent normal pairs;
session 33: full_cost_s33.jsonl, the [full] table's qmc and learn_bound as the profile runs them,
beside one other single-thread run, as the profile's two workers run)
"""
import json
import sys
import time
import tomllib
from pathlib import Path

import torch

from pycheck.experiments._common import (_data, _encoder, _latent_sampler, _pair_sampler,
                                         fit_supervised)
from pycheck.train import fit_encoder, set_threads

set_threads(1)
cfg = tomllib.loads((Path(__file__).parent.parent / "experiments/scaling.toml").read_text())["full"]
B, STEPS = cfg["batch_size"], cfg["steps"]
for n in map(int, sys.argv[1:]):
    k = 40 if n <= 64 else 10 if n <= 256 else 4        # steps of the longer timed fit
    g, z, zn, _, _ = _data("realnvp", n, 0, cfg["rho"], 2000, 10)
    x, xn = g.forward(z), g.forward(zn)
    for obj in cfg["objectives"] + ["supervised"]:
        times = []
        for steps in (2, 2, k):                          # the first call compiles SIGReg
            t0 = time.perf_counter()
            if obj == "supervised":
                fit_supervised(x, z, _encoder("realnvp", n, 0, cfg["learn_bound"]), steps=steps,
                               batch_size=B, lr=cfg["lr"], seed=0,
                               sampler=_latent_sampler(g, n, 0, cfg["rho"], cfg["qmc"]))
            else:
                fit_encoder(x, xn, obj, encoder=_encoder("realnvp", n, 0, cfg["learn_bound"]),
                            steps=steps, batch_size=B, lr=cfg["lr"], seed=0, progress=False,
                            holdout=0,
                            sampler=_pair_sampler(g, n, 0, cfg["rho"], cfg["antithetic"],
                                                  cfg["qmc"]),
                            **cfg["options"].get(obj, {}))
            times.append(time.perf_counter() - t0)
        per_step = (times[2] - times[1]) / (k - 2)      # the set-up cancels
        print(json.dumps(dict(N=n, objective=obj, batch=B, step_s=per_step,
                              run_min_at_profile_steps=per_step * STEPS / 60,
                              torch_threads=torch.get_num_threads(), qmc=cfg["qmc"],
                              learn_bound=cfg["learn_bound"], session=33)), flush=True)
