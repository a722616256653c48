"""Registry of numeric checks, one or more per theorem ID.

A check is a function ``fn(seed: int) -> CheckResult`` registered under a dotted name
``"<ID>.<what>"`` (e.g. ``"T1.lower_bound"``); the manifest lists these names per ID.
Every check must be able to fail: it measures something and compares it to a tolerance
that is stated (with its reason) in the result.
"""
from __future__ import annotations

import functools
import importlib
import operator
from dataclasses import dataclass, field
from typing import Callable

#: modules that register checks when imported
CHECK_MODULES = ("hermite", "t1", "t2", "t3", "t4", "anisotropic", "finite_sample")


@dataclass
class CheckResult:
    """Outcome of one check.

    passed    -- whether the measured figures meet the tolerance
    summary   -- one line saying what was measured
    figures   -- the numbers measured (worst-case slack, sample sizes, p-values, ...)
    tolerance -- the tolerance used and why it is the right one
    """

    passed: bool
    summary: str
    figures: dict = field(default_factory=dict)
    tolerance: str = ""


CheckFn = Callable[[int], CheckResult]
#: the registry, filled as the check modules are imported: empty after ``import
#: pycheck.checks`` alone; :func:`load_all` imports them all and returns it
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` under ``name``; names are unique. The registered function takes
    the seed as a non-negative integer (a NumPy integer too) and refuses anything else
    with a ``ValueError`` naming the check: called directly (session 43, a user's trial)
    ``None`` had passed with figures that changed from call to call, ``np.int64(3)`` had
    failed inside Hypothesis and ``-1`` inside NumPy without naming the seed."""

    def deco(fn: CheckFn) -> CheckFn:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")

        @functools.wraps(fn)
        def seeded(seed: int, *args, **kwargs) -> CheckResult:
            if isinstance(seed, bool) or not hasattr(seed, "__index__") or \
                    operator.index(seed) < 0:
                raise ValueError(f"check {name}: the seed must be a non-negative integer "
                                 f"(the same seed gives the same figures), got {seed!r}")
            return fn(operator.index(seed), *args, **kwargs)   # tolerances (tests)

        CHECKS[name] = seeded
        return seeded

    return deco


def load_all() -> dict[str, CheckFn]:
    """Import every check module (which registers its checks) and return the registry."""
    for mod in CHECK_MODULES:
        try:
            importlib.import_module(f"{__name__}.{mod}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{mod}":
                raise
    return CHECKS
