"""The tails of A1.monte_carlo's and L2.mehler_monte_carlo's z-scores over many seeds
(session 37, after both switched to exact standard errors as L4 had in session 36).

    .venv/bin/python scripts/mc_tail_probe.py FIRST LAST [OUT.txt]

Runs both checks as `pycheck verify` does at every seed in [FIRST, LAST) and writes (default
``results/verify/a1_l2_tail.txt``): A1's 4 z-scores per seed (shares beyond |z| = 3, 3.5
and 4 against the normal tails) and L2's largest |z| of 160 per seed (the share of seeds
beyond 4, and beyond the check's 4.5, against the family-wise normal rates).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.stats import norm

from l4_tail_probe import write_report   # this folder is on sys.path when run as a script
from pycheck.checks.anisotropic import monte_carlo
from pycheck.checks.hermite import mehler_monte_carlo


def main(first: int, last: int, out: Path) -> None:
    a1, l2 = [], []
    for seed in range(first, last):
        a1.extend(monte_carlo(seed).figures["z_scores"])
        r = mehler_monte_carlo(seed)
        l2.append(r.figures["max_abs_z"])
        tests = r.figures["tests"]
    a1, l2 = np.abs(np.array(a1)), np.array(l2)
    tail = lambda z: 2 * norm.sf(z)
    fam = lambda z: 1 - (1 - tail(z)) ** tests
    lines = [f"seeds {first}-{last - 1}",
             f"A1.monte_carlo: {a1.size} z-scores (exact s.e.); share beyond |z| = 3: "
             f"{np.mean(a1 > 3):.2e} (normal {tail(3):.1e}), 3.5: {np.mean(a1 > 3.5):.2e} "
             f"({tail(3.5):.1e}), 4: {np.mean(a1 > 4):.2e} ({tail(4):.1e}); max {a1.max():.2f}",
             f"L2.mehler_monte_carlo: {l2.size} seeds, largest |z| of {tests} (exact s.e.); "
             f"share of seeds beyond 4: {np.mean(l2 > 4):.2e} (normal family {fam(4):.1e}), "
             f"beyond 4.5 (the check fails): {np.mean(l2 > 4.5):.2e} ({fam(4.5):.1e}); "
             f"median {np.median(l2):.2f}, max {l2.max():.2f}"]
    write_report(lines, out)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]),
         Path(sys.argv[3] if len(sys.argv) > 3 else "results/verify/a1_l2_tail.txt"))
