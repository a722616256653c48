"""Shared fixtures for the per-ID test files: the manifest and the check registry."""
import os

import pytest
import torch

from pycheck.checks import load_all
from pycheck.manifest import load

if "MUTANT_UNDER_TEST" in os.environ:
    # mutmut forks one worker per mutant from a process that has already run tests.
    # GNU OpenMP's thread pool does not survive fork: a forked torch op then waits
    # forever on pool threads that do not exist (measured: 17 of 29 InfoNCE mutants
    # "timed out" with no CPU time). With one thread the pool is never created.
    torch.set_num_threads(1)


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
