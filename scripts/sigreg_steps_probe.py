"""Is SIGReg's shortfall at N = 32 / 64 in the scaling quick profile its step budget?
(issue 11, session 24). One run exactly as ``pycheck reproduce scaling`` (quick profile)
runs it -- ``train_and_measure`` with the profile's SIGReg settings at that N, fresh
antithetic QMC pairs, the matched RealNVP encoder -- except ``steps`` (and, from session
25, optionally the batch); one JSON line appended to ``results/scaling/probes_s25.jsonl``
(session 24's rows: ``probes_s24.jsonl``).

Usage: python scripts/sigreg_steps_probe.py N SEED STEPS [OBJECTIVE [BATCH]]
(BATCH, session 25: the pairs per step instead of the profile's). The environment variable
PROBES names the file under results/scaling/ the line is appended to (session 27:
``probes_s27.jsonl``; default ``probes_s25.jsonl``).
"""
import json
import os
import sys
import time
import tomllib
from pathlib import Path

from pycheck.experiments._common import train_and_measure
from pycheck.experiments.scaling import _run_settings
from pycheck.train import set_threads

set_threads(1)
n, seed, steps = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
obj = sys.argv[4] if len(sys.argv) > 4 else "sigreg"
root = Path(__file__).resolve().parents[1]
cfg = tomllib.loads((root / "experiments" / "scaling.toml").read_text())["quick"]
_, batch, lr, opts = _run_settings(cfg, n, [obj])[obj]
batch = int(sys.argv[5]) if len(sys.argv) > 5 else batch
t0 = time.perf_counter()
r = train_and_measure(mixing="realnvp", n=n, objective=obj, seed=seed, rho=cfg["rho"],
                      n_train=cfg["n_train"], n_test=cfg["n_test"], steps=steps,
                      batch_size=batch, lr=lr, encoder="realnvp", options=opts,
                      fresh=True, antithetic=True, qmc=True)
line = dict(probe="sigreg_steps", n=n, obj=obj, seed=seed, steps=steps, batch=batch, lr=lr,
            opts=opts, r2_hz=r["r2_hz"], train_seconds=round(r["train_seconds"], 1),
            wall=round(time.perf_counter() - t0, 1))
print(json.dumps(line), flush=True)
with open(root / "results" / "scaling" / os.environ.get("PROBES", "probes_s25.jsonl"), "a") as f:
    f.write(json.dumps(line) + "\n")
