"""Argument checks shared by the package's public functions (NumPy only, no torch)."""
from __future__ import annotations

import contextlib
import contextvars

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


@contextlib.contextmanager
def context_value(var: contextvars.ContextVar, value):
    """``var`` set to ``value`` within the block, then reset (yields ``value``)."""
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)


#: the native kernels that did the work since the last :func:`kernels_used` reset, by name:
#: ``sigreg_cpp``, ``sigreg_compiled`` or ``sigreg_eager`` (SIGReg's statistic) and
#: ``coupling_cpp`` (the RealNVP encoder's couplings; ``coupling_torch`` when their C++
#: extension could not be built). Fallbacks give float32 results that differ in the last
#: bits, so every stored run records which did its work (session 44: a read-only ~/.cache
#: made a run fall back, and nothing in its file said so).
KERNELS_USED: set[str] = set()


#: the kit's kernels that failed to build or compile in this process (``sigreg_cpp``,
#: ``coupling_cpp``, ``sigreg_compiled``); the work then fell back to another kernel
KERNEL_FAILURES: set[str] = set()


#: the failures recorded in a checkpoint this run resumed from (:class:`pycheck.train._Resume`):
#: they belong to this run's record only, not to the process (a later run in the same worker
#: had them in its record and was flagged as mixed; session 46 review)
RESUMED_KERNEL_FAILURES: set[str] = set()


def kernels_used(reset: bool = False) -> list[str]:
    """The names in :data:`KERNELS_USED`, sorted; ``reset`` empties it afterwards."""
    names = sorted(KERNELS_USED)
    if reset:
        KERNELS_USED.clear()
    return names
