"""L7: γₙ.map Q = γₙ for Q ∈ O(n) (rotations are feasible encoders)."""
import numpy as np

from pycheck.checks.t1 import rotation_invariance


def test_L7_checks_registered(checks_of):
    assert checks_of("L7") == ("L7.rotation_invariance",)


def test_L7_rotation_invariance_passes():
    r = rotation_invariance(0)
    assert r.passed and r.figures["maps"] == 20


def test_L7_rotation_invariance_fails_for_a_non_orthogonal_map():
    # a volume-preserving shear still changes the second moments
    r = rotation_invariance(0, transform=lambda rng, n: np.eye(n) + np.eye(n, k=1))
    assert not r.passed and r.figures["max_abs_moment"] > 0.1
