"""Shared fixtures for the per-ID test files: the manifest and the check registry."""
import os

import pytest

# SIGReg compiles its kernels by default (once per process, dtype and knot count: 4 s of
# CPU with torch's cache warm, over 30 s cold). The suite runs the eager kernel instead,
# so that every test process and CLI subprocess does not pay that; the compiled kernels
# are tested explicitly in tests/test_sigreg_kernels.py. PYCHECK_SIGREG_COMPILE=1 runs
# the whole suite on them.
os.environ.setdefault("PYCHECK_SIGREG_COMPILE", "0")

from pycheck.checks import load_all
from pycheck.manifest import load


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
