"""The scaling table's supervised ceiling at another budget (issue 11, session 27): one run
of ``supervised_reference`` exactly as ``pycheck reproduce scaling`` (quick profile) runs it
-- the matched RealNVP encoder, fresh QMC latents, the profile's lr for the ceiling at that
N -- except the steps and the batch; one JSON line appended to
``results/scaling/probes_s27.jsonl``.

Usage: python scripts/supervised_budget_probe.py N SEED STEPS BATCH
"""
import json
import sys
import time
import tomllib
from pathlib import Path

from pycheck.experiments._common import supervised_reference
from pycheck.experiments.scaling import _run_settings
from pycheck.train import set_threads

set_threads(1)
n, seed, steps, batch = map(int, sys.argv[1:5])
root = Path(__file__).resolve().parents[1]
cfg = tomllib.loads((root / "experiments" / "scaling.toml").read_text())["quick"]
_, _, lr, _ = _run_settings(cfg, n, ["vicreg"])["supervised"]
t0 = time.perf_counter()
r = supervised_reference(mixing="realnvp", n=n, seed=seed, rho=cfg["rho"],
                         n_train=cfg["n_train"], n_test=cfg["n_test"], steps=steps,
                         batch_size=batch, lr=lr, encoder="realnvp", fresh=True, qmc=True)
line = dict(probe="supervised_batch", n=n, obj="supervised", seed=seed, steps=steps,
            batch=batch, lr=lr, r2_hz=r["r2_hz"], train_seconds=round(r["train_seconds"], 1),
            wall=round(time.perf_counter() - t0, 1))
print(json.dumps(line), flush=True)
with open(root / "results" / "scaling" / "probes_s27.jsonl", "a") as f:
    f.write(json.dumps(line) + "\n")
