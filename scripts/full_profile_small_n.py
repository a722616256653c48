"""The scaling experiment's full profile (the paper-size budget per run: 20 000 steps x 1024
pairs, experiments/scaling.toml [full]) at small N only, one seed, as configured (nothing
tuned): does that budget reach R²(h→z) >= 0.999 where the quick profile does not?

Usage: python scripts/full_profile_small_n.py OUT_DIR JOBS [N ...]   (default N: 2 4 8)
Writes OUT_DIR/scaling.{json,csv,md,png} and the runs, as `pycheck reproduce scaling`.
"""
import sys
import tomllib
from pathlib import Path

from pycheck.experiments import scaling


def main():
    out, jobs = Path(sys.argv[1]), int(sys.argv[2])
    dims = [int(n) for n in sys.argv[3:]] or [2, 4, 8]
    cfg = tomllib.loads(Path("experiments/scaling.toml").read_text())["full"]
    cfg = dict(cfg, dims=dims, objectives=["sigreg", "vicreg"], jobs=jobs, profile="full")
    summary = scaling.run(cfg, out, [0])
    for row in summary["rows"]:
        print({k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()})


if __name__ == "__main__":   # the workers are spawned: they import this file
    main()
