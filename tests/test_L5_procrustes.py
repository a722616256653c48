"""L5: min_{Q∈O(n)} ‖W − Q‖_F ≤ ‖WWᵀ − I‖_F."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.linalg import orthogonal_procrustes

from pycheck import theory as T
from pycheck.checks.hermite import procrustes_bound
from spies import record_calls
from test_check_domains import draws  # noqa: F401  (the recording generator, a fixture)


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


def test_L5_families_are_built_from_their_draws_as_stated(monkeypatch, draws):
    """Each family from its own draws (G (n, n), u, the rotation Q of each matrix), as the
    docstring states: ``G/sqrt(n)``, smallest singular value ``10^u`` (the others G's),
    ``Q + 10^u G``, ``Q diag(e^u)``; bit for bit where the statement is one float
    operation. The figures are recomputed from the matrices and their distances; seed 1
    draws no 1×1 rank-deficient matrix (W = 0, ratio exactly 1), so the max ratio is below 1
    and would show a wrong starting value."""
    from pycheck.checks import hermite
    dist = record_calls(monkeypatch, hermite, "_nearest_orthogonal_distance")
    rotations = record_calls(monkeypatch, T, "random_rotation")
    P = 8
    r = procrustes_bound(1, per_family=P)
    W = [args[0] for args, _ in dist]
    Q = [q for _, q in rotations]
    G = [out for m, a, out in draws if m == "standard_normal" and a[0][0] == a[0][1]]
    u = {a[:2]: [out for m, aa, out in draws if m == "uniform" and aa[:2] == a[:2]]
         for a in [(-12, -4), (-9, -1), (-3, 3)]}
    assert len(W) == len(Q) == len(G) == 6 * P
    for i in range(P):
        n = len(G[i])
        assert np.array_equal(W[i], G[i] / np.sqrt(n))
        s = np.linalg.svd(G[P + i], compute_uv=False)
        s_w = np.linalg.svd(W[P + i], compute_uv=False)
        # the smallest is 10^u in [1e-12, 1e-4], found to an absolute ~1e-16 |W|: relative
        # 1e-2 (11^u is off by a factor 1.1^-u > 1.46); the others rel. 1e-12
        assert s_w[-1] == pytest.approx(10.0 ** u[(-12, -4)][i], rel=1e-2)
        assert s_w[:-1] == pytest.approx(s[:-1], rel=1e-12)
        j = 3 * P + i
        assert np.array_equal(W[j], Q[j] + 10.0 ** u[(-9, -1)][i] * G[j])
        j = 5 * P + i
        assert np.array_equal(W[j], Q[j] * np.exp(u[(-3, 3)][i]))
    lhs = np.array([d for _, d in dist])
    rhs = np.array([np.linalg.norm(w @ w.T - np.eye(len(w))) for w in W])
    above = rhs > 1e-12 * (1 + rhs)
    assert r.figures["matrices"] == 6 * P
    assert r.figures["max_ratio"] == np.max(lhs[above] / rhs[above]) < 1
