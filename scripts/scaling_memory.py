"""Peak memory of one full-profile scaling run at N = 1024, built from ``experiments/scaling.toml``'s
``[full]`` table as ``pycheck reproduce scaling --profile full`` builds it (fresh antithetic QMC pairs,
the learned-bound RealNVP encoder, n_train and n_test, batch, lr and the objective's options), but
only a few steps (memory does not grow with steps: fresh pairs, no stored training set).
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
from pycheck.experiments._common import supervised_reference, train_and_measure  # noqa: E402

obj = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
cfg = tomllib.loads((Path(__file__).parent.parent / "experiments/scaling.toml").read_text())["full"]
base = dict(mixing="realnvp", n=n, seed=0, rho=cfg["rho"], n_train=cfg["n_train"],
            n_test=cfg["n_test"], steps=steps, batch_size=cfg["batch_size"], lr=cfg["lr"],
            encoder="realnvp", fresh=cfg["fresh"], qmc=cfg["qmc"],
            learn_bound=cfg["learn_bound"])
t = time.time()
if obj == "supervised":
    r = supervised_reference(**base)
else:
    r = train_and_measure(objective=obj, antithetic=cfg["antithetic"],
                          options=cfg["options"].get(obj, {}), **base)
print(json.dumps(dict(objective=obj, N=n, steps=steps, train_seconds=r["train_seconds"],
                      wall=time.time() - t, r2_hz=r["r2_hz"],
                      max_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                      learn_bound=cfg["learn_bound"], torch=torch.__version__)))
