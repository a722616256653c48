"""Reacher quick profile at several SIGReg weights: does the ordering hold (issue 15, item 2)?

    .venv/bin/python scripts/reacher_lam_sweep.py [--lams 0.01 0.03 0.1 0.3 1] [--seed 0]
        [--out results/reacher/sweep_lam] [--jobs 2]

Each weight runs the ``[quick]`` table of experiments/reacher.toml with only ``lam``
changed, one seed, into ``OUT/lam<weight>/`` (resumable; the rendered data is the quick
profile's, linked from results/reacher/cache when present). Writes ``OUT/sweep.json`` and
``OUT/sweep.md``: per weight, the deviations (rad), the bank R², the ratio
trajectory / Gaussian-OU with its 95% bootstrap CI over the start-goal pairs, and the
fraction of pairs on which the trajectory plan deviates more.
"""
from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_weight(lam: float, seed: int, out: Path) -> dict:
    from pycheck.experiments import reacher as exp
    cfg = tomllib.loads((ROOT / "experiments" / "reacher.toml").read_text())["quick"]
    cfg |= dict(lam=lam, seeds=[seed])
    out.mkdir(parents=True, exist_ok=True)
    shared = ROOT / "results" / "reacher" / "cache"
    if shared.is_dir() and not (out / "cache").exists():
        os.symlink(shared, out / "cache")  # same data parameters: same cache files
    s = exp.run(cfg, out, [seed])
    keys = ("deviation_ou", "deviation_trajectory", "r2_ou", "r2_trajectory",
            "path_ratio_ou", "deviation_ratio_traj_over_ou",
            "deviation_ratio_traj_over_ou_ci", "frac_pairs_traj_deviates_more")
    return dict(lam=lam, seed=seed, **{k: s[k] for k in keys})


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lams", type=float, nargs="+", default=[0.01, 0.03, 0.1, 0.3, 1.0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(ROOT / "results" / "reacher" / "sweep_lam"))
    p.add_argument("--jobs", type=int, default=1, help="parallel training processes")
    a = p.parse_args()
    if any(not lam > 0 for lam in a.lams):
        p.error(f"every SIGReg weight must be > 0, got {a.lams}")
    from pycheck.executors import LocalExecutor, use
    from pycheck.store import write_table
    out = Path(a.out)
    with use(LocalExecutor(a.jobs)):
        rows = [run_weight(lam, a.seed, out / f"lam{lam:g}") for lam in a.lams]
    write_table(out, "sweep", [{k: v for k, v in r.items() if not k.endswith("_ci")}
                               | {"ratio_ci_lo": r["deviation_ratio_traj_over_ou_ci"][0],
                                  "ratio_ci_hi": r["deviation_ratio_traj_over_ou_ci"][1]}
                               for r in rows],
                title="Reacher quick profile: SIGReg weight sweep",
                note="Deviations in rad from the oracle's joint-space line; ratio = "
                     "trajectory / Gaussian-OU with a 95% bootstrap CI over start-goal pairs.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
