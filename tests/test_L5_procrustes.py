"""L5: min_{Q∈O(n)} ‖W − Q‖_F ≤ ‖WWᵀ − I‖_F."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.linalg import orthogonal_procrustes

from pycheck.checks.hermite import procrustes_bound


def test_L5_checks_registered(checks_of):
    assert checks_of("L5") == ("L5.procrustes_bound",)


def test_L5_procrustes_bound_passes():
    r = procrustes_bound(0)
    assert r.passed and r.figures["matrices"] >= 4000


def test_L5_procrustes_bound_fails_for_half_the_bound():
    # the bound is attained at W = 0 (both sides 1 for n = 1), so half of it must fail
    rhs = lambda W: 0.5 * float(np.linalg.norm(W @ W.T - np.eye(len(W))))  # noqa: E731
    assert not procrustes_bound(0, rhs=rhs, per_family=100).passed


def test_L5_procrustes_bound_fails_for_the_spectral_norm():
    # ‖·‖₂ is too small in dimension ≥ 5 (W = (1+t) I: √n t vs 2t + t²)
    rhs = lambda W: float(np.linalg.norm(W @ W.T - np.eye(len(W)), 2))  # noqa: E731
    assert not procrustes_bound(0, rhs=rhs, per_family=100).passed


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(W=st.integers(1, 5).flatmap(
    lambda n: arrays(float, (n, n), elements=st.floats(-10, 10, allow_subnormal=False))))
def test_L5_procrustes_bound_hypothesis(W):
    Q, _ = orthogonal_procrustes(np.eye(len(W)), W)
    rhs = np.linalg.norm(W @ W.T - np.eye(len(W)))
    assert np.linalg.norm(W - Q) <= rhs + 1e-10 * (1 + rhs)   # float rounding only
