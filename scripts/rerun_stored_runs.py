"""Rerun stored scaling runs with the current code and compare R²(h -> z) with the stored value
(what a code change does to results made before it).

Usage: python scripts/rerun_stored_runs.py RUN [RUN ...]   (names of results/scaling/runs/*.json)
Session 39: after SIGReg's C++ node became the default and InfoNCE got a hand-written backward;
results in results/scaling/rerun_s39.txt. Session 40: after the RealNVP encoder's C++ coupling
kernels, addmm biases and unbind views; results/scaling/rerun_s40.txt."""
import importlib
import json
import sys
import time
from pathlib import Path

root = Path(__file__).resolve().parents[1]
for name in sys.argv[1:]:
    stored = json.loads((root / "results" / "scaling" / "runs" / f"{name}.json").read_text())
    task = stored["_task"]
    module, fn = task["fn"].rsplit(".", 1)
    t0 = time.perf_counter()
    new = getattr(importlib.import_module(module), fn)(**task["kwargs"])
    print(f"{name}: stored R²(h->z) {stored['r2_hz']:.10f}, now {new['r2_hz']:.10f}, "
          f"difference {new['r2_hz'] - stored['r2_hz']:+.2e} ({time.perf_counter() - t0:.0f} s)",
          flush=True)
