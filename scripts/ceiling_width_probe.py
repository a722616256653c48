"""Probe (issue 11, session 21): is the supervised ceiling of the scaling table at N = 64
(0.990 with both the quick and the paper's budget) set by the optimiser or by the matched
RealNVP encoder's conditioner nets (hidden width, layers)? And do the self-supervised
objectives follow a deeper encoder?

Usage: python scripts/ceiling_width_probe.py N STEPS HIDDEN N_LAYERS SEED [LR] [BATCH] [OBJ]
OBJ "supervised" (default): the scaling quick profile's supervised run (fresh QMC pairs,
lr 3e-3, batch 1024 by default). Otherwise the quick profile's run of that objective at N
(experiments/scaling.toml: its batch, lr and options; STEPS, and LR / BATCH when given,
override). Both with RealNVPEncoder(N, n_layers=N_LAYERS, hidden=HIDDEN). One JSON line
(appended by the caller to results/scaling/probes_s21.jsonl).
"""
import json
import sys
import tomllib
from pathlib import Path

import pycheck.experiments._common as C
from pycheck.encoders import RealNVPEncoder
from pycheck.experiments.scaling import _run_settings
from pycheck.train import set_threads

set_threads(1)
n, steps, hidden, layers, seed = (int(a) for a in sys.argv[1:6])
obj = sys.argv[8] if len(sys.argv) > 8 else "supervised"
cfg = tomllib.loads(Path("experiments/scaling.toml").read_text())["quick"]
# the quick profile's own settings at N (the supervised ceiling's included)
_, batch, lr, opts = _run_settings(cfg, n, ["sigreg", "vicreg", "infonce"])[obj]
lr = float(sys.argv[6]) if len(sys.argv) > 6 and sys.argv[6] != "-" else lr
batch = int(sys.argv[7]) if len(sys.argv) > 7 and sys.argv[7] != "-" else batch
C._encoder = lambda kind, n_, s: RealNVPEncoder(n_, n_layers=layers, hidden=hidden,
                                                 seed=10_000 + s)
common = dict(mixing="realnvp", n=n, seed=seed, rho=cfg["rho"], n_train=cfg["n_train"],
              n_test=cfg["n_test"], steps=steps, batch_size=batch, lr=lr, encoder="realnvp",
              fresh=True, qmc=True)
if obj == "supervised":
    res = C.supervised_reference(**common)
else:
    res = C.train_and_measure(objective=obj, options=opts, antithetic=True, **common)
print(json.dumps(dict(probe="ceiling_width", objective=obj, N=n, steps=steps, hidden=hidden,
                      n_layers=layers, seed=seed, lr=lr, batch=batch, r2_hz=res["r2_hz"],
                      train_seconds=round(res["train_seconds"], 1))))
