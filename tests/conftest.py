"""Shared fixtures for the per-ID test files: the manifest and the check registry."""
import os
import sys

import pytest
import torch

# The suite runs SIGReg's eager kernel: PYCHECK_SIGREG_COMPILE=0 turns off both kinds of
# fused kernel (the C++ ones, the default since session 39, and torch's compiled ones).
# Set when the default kernels were torch-compiled once per process (4 s of CPU with the
# cache warm, over 30 s cold), and kept so that the stored expectations of the tests stay
# the eager kernel's bits. The fused kernels are tested explicitly (against the eager one
# and LeJEPA's reference) in tests/test_sigreg_kernels.py; PYCHECK_SIGREG_COMPILE=1 runs
# the whole suite on the default ones.
os.environ.setdefault("PYCHECK_SIGREG_COMPILE", "0")

from pycheck.checks import load_all
from pycheck.manifest import load

if "MUTANT_UNDER_TEST" in os.environ:
    # mutmut forks one worker per mutant from a process that has already run tests.
    # GNU OpenMP's thread pool does not survive fork: a forked torch op then waits
    # forever on pool threads that do not exist (measured: 17 of 29 InfoNCE mutants
    # "timed out" with no CPU time). With one thread the pool is never created.
    torch.set_num_threads(1)

    @pytest.fixture(autouse=True, scope="session")
    def _empty_caches():
        """Each mutant's worker is forked from the process that ran the tests, so a filled
        ``lru_cache`` would answer for the mutated code below it (run 3: the 21 mutants of
        ``_gaussian_expectation`` under ``exact_counterexample_alignment`` all "survived",
        including ``total = None``, which cannot run)."""
        for module in [m for name, m in sys.modules.items() if name.startswith("pycheck")]:
            for obj in list(vars(module).values()):
                if callable(getattr(obj, "cache_clear", None)):
                    obj.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_kernel_records():
    """Each test starts with no kernel recorded as used or failed: some tests make a
    build or a compile fail on purpose, and the records are per process (pycheck.validate),
    so they had leaked into the runs of later tests."""
    from pycheck.validate import KERNEL_FAILURES, KERNELS_USED, RESUMED_KERNEL_FAILURES
    KERNEL_FAILURES.clear()
    KERNELS_USED.clear()
    RESUMED_KERNEL_FAILURES.clear()
    yield


@pytest.fixture(scope="session")
def manifest():
    return load()


@pytest.fixture(scope="session")
def registry():
    return load_all()


@pytest.fixture
def checks_of(manifest, registry):
    """``checks_of("T1")`` → the manifest's check names for that ID, all registered."""
    def get(id_):
        names = manifest.get(id_).checks
        assert names and all(n in registry for n in names), names
        return names
    return get
