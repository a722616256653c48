"""Peak memory of one full-profile scaling run at N = 1024: the task ``pycheck reproduce scaling
--profile full`` runs (``pycheck.experiments.scaling.run_tasks`` on ``experiments/scaling.toml``'s
``[full]`` table: fresh antithetic QMC pairs, the learned-bound RealNVP encoder, its n_train,
n_test, batch, lr and options), but only a few steps (memory does not grow with steps: fresh
pairs, no stored training set).
One JSON line to stdout; session 12 (constant bound, independent pairs) in
results/scaling/full_memory_N1024.jsonl, session 33 in results/scaling/full_memory_N1024_s33.jsonl.

Usage: python scripts/scaling_memory.py OBJECTIVE [N] [STEPS]   (one torch thread)
"""
import json
import resource
import sys
import time
import tomllib
from pathlib import Path

import torch

torch.set_num_threads(1)
from pycheck.experiments import scaling  # noqa: E402

obj = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
cfg = tomllib.loads((Path(__file__).parent.parent / "experiments/scaling.toml").read_text())["full"]
objectives = [o for o in cfg["objectives"] if o == obj]
tasks, _ = scaling.run_tasks(cfg, [n], [0], objectives)
fn, kwargs = tasks[f"realnvp-{obj}-N{n}-seed0"]
t = time.time()
r = fn(**dict(kwargs, steps=steps))
print(json.dumps(dict(objective=obj, N=n, steps=steps, train_seconds=r["train_seconds"],
                      wall=time.time() - t, r2_hz=r["r2_hz"],
                      max_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                      learn_bound=cfg["learn_bound"], torch=torch.__version__)))
