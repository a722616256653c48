"""Probe (session 35): where fit_encoder's held-out selection puts the best checkpoint on the suite.

    .venv/bin/python scripts/best_step_probe.py OUT.jsonl MIXING[,MIXING...]

The defaults on the suite's 20 000 pairs (``scripts/suite.py``'s worlds); per mixing the step of
the returned checkpoint (``best_step``, 0-based, of 3000), the read-out selected, the SIGReg
weight chosen and each weight's held-out objective. Behind ``pycheck.fitcmd.sample_hint``'s
threshold (the first half of the run): ``results/fit_encoder/probes-s35/best_step.jsonl``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suite  # noqa: E402


def main() -> int:
    import pycheck
    torch.set_num_threads(1)
    out = Path(sys.argv[1])
    for name in sys.argv[2].split(","):
        z, zn, _ = suite._data(name)
        enc = pycheck.fit_encoder(suite.mix(name, z), suite.mix(name, zn), progress=False)
        suite.record(out, dict(name=name, best_step=enc.best_step, selected=enc.selected,
                               lam=enc.lam, lam_fits={str(k): v["heldout_objective"]
                                                      for k, v in enc.lam_fits.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
