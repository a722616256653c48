"""Argument checks shared by the package's public functions (NumPy only, no torch)."""
from __future__ import annotations

import numpy as np


def check_int(name: str, v, low: int = 1, high: int | None = None) -> int:
    """``v`` as an int in ``[low, high]`` (``high=None``: below 2^63, what torch's and
    NumPy's generators take); a float, bool or string is refused (``3.0`` steps is more
    likely a mistake than an intent, and ``inf`` has no integer value). ``ValueError``
    naming ``name`` otherwise."""
    top = 2**63 - 1 if high is None else high
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not low <= v <= top:
        bound = f"in [{low}, 2^63)" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {bound}, got {v!r}")
    return int(v)


def reraise_interruption(err: BaseException) -> None:
    """Raise ``err`` again if it stops the run from outside rather than reports a failure:
    submitit's exceptions (its SIGUSR2 handler raises ``UncompletedJobError``, a
    ``RuntimeError``, when SLURM's time limit nears). Called first in every ``except
    Exception`` that falls back or re-words: in session 43 a time-limit signal that came
    while a SLURM job loaded the C++ kernels was taken for a failed build, the job went on
    with the fallback kernels, and stored numbers that differed from a local run's."""
    if type(err).__module__.split(".")[0] == "submitit":
        raise err
