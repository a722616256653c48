"""One Reacher run with config overrides: how the quick profile's data and steps were chosen.

    .venv/bin/python scripts/reacher_probe.py '{"ou_chains": 720, "steps": 4000}' [ENCODER] [SEED]

Loads ``[quick]`` of experiments/reacher.toml, applies the JSON overrides, renders (cached
under /tmp/reacher-exp/cache) and trains one encoder (default ``gauss-OU``, seed 0), then
prints one JSON line: deviation (rad), path-length ratio, bank R², held-out OU R², CPU
seconds, and the same scores of the trained last layer before the closed-form read-out
(``head``). The lines behind the config's comment are in results/reacher/probes.jsonl.
"""
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

from pycheck.experiments import reacher as X
from pycheck.experiments._common import torch_threads

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    over = json.loads(argv[0]) if argv else {}
    enc = argv[1] if len(argv) > 1 else "gauss-OU"
    seed = int(argv[2]) if len(argv) > 2 else 0
    cfg = tomllib.loads((ROOT / "experiments" / "reacher.toml").read_text())["quick"] | over
    cfg = X.check_config(cfg)
    t0 = time.time()
    with torch_threads(cfg):
        data = X._Data(cfg, Path("/tmp/reacher-exp"))
        t1 = time.time()
        r = X.run_one(data, enc, seed)
    print(json.dumps(dict(over=over, enc=enc, seed=seed, render_s=round(t1 - t0),
                          cpu=r["cpu_seconds"], dev=float(np.mean(r["deviation"])),
                          path=float(np.mean(r["path_ratio"])), r2_bank=r["r2_bank"],
                          r2_hz=r["r2_hz"], head=r.get("trained_head"))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
