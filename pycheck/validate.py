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
