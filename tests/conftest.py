"""Shared fixtures for the per-ID test files: the manifest and the check registry."""
import pytest

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
