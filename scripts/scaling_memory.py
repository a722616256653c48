"""Peak memory of one full-profile scaling run at N = 1024 (fresh pairs, n_train 20000, n_test 20000,
batch 1024), 5 steps only (memory does not grow with steps); output: results/scaling/full_memory_N1024.jsonl.
Usage: python scripts/scaling_memory.py sigreg"""
import json, resource, sys, time
import torch
torch.set_num_threads(1)
from pycheck.experiments._common import train_and_measure
t = time.time()
obj = sys.argv[1]
r = train_and_measure(mixing="realnvp", n=1024, objective=obj, seed=0, rho=0.5, n_train=20000,
                      n_test=20000, steps=5, batch_size=1024, lr=1e-3, encoder="realnvp",
                      options={"num_slices": 256} if obj == "sigreg" else {}, fresh=True)
print(json.dumps(dict(objective=obj, N=1024, steps=5, train_seconds=r["train_seconds"],
                      wall=time.time() - t,
                      max_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6)))
