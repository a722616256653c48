"""pycheck.theory: shapes, agreement with scipy, with quadrature and with Monte Carlo."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm
from scipy.special import comb, eval_hermitenorm

from pycheck import theory as T


def _quad_moments(h, points=None):
    """Exact mean and covariance of a polynomial encoder by tensor Gauss–Hermite."""
    nodes, w = T.gauss_hermite(points or int(h.alphas.max()) + 1, h.n)
    H = h(nodes)
    m = w @ H
    return m, (H - m).T @ (w[:, None] * (H - m))


@pytest.mark.parametrize("k", range(9))
def test_hermite_matches_scipy(k):
    x = np.linspace(-4, 4, 33)
    # both evaluate the same integer-coefficient polynomial: only rounding differs
    np.testing.assert_allclose(T.hermite(k, x), eval_hermitenorm(k, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n,degree", [(1, 5), (2, 3), (3, 4), (5, 2), (50, 1)])
def test_multi_indices_count_and_order(n, degree):
    a = T.multi_indices(n, degree)
    assert a.shape == (comb(n + degree, degree, exact=True), n)
    d = a.sum(axis=1)
    assert np.all(np.diff(d) >= 0) and d[0] == 0
    np.testing.assert_array_equal(a[1:n + 1], np.eye(n, dtype=int))
    assert len({tuple(r) for r in a}) == len(a)


def test_basis_shape_and_orthonormality():
    alphas = T.multi_indices(3, 3)
    z = np.random.default_rng(0).standard_normal((7, 3))
    assert T.basis(z, alphas).shape == (7, len(alphas))
    nodes, w = T.gauss_hermite(4, 3)
    assert nodes.shape == (64, 3) and w.shape == (64,) and abs(w.sum() - 1) < 1e-14
    P = T.basis(nodes, alphas)
    np.testing.assert_allclose(P.T @ (w[:, None] * P), np.eye(len(alphas)), atol=1e-12)


def test_mean_covariance_energies_against_quadrature():
    h = T.random_encoder(np.random.default_rng(1), 3, 3, n_out=2, mean_scale=1.0)
    m, C = _quad_moments(h)
    np.testing.assert_allclose(T.mean(h), m, atol=1e-12)
    np.testing.assert_allclose(T.covariance(h), C, atol=1e-12)
    e = T.chaos_energies(h)
    assert e.shape == (2, 4)
    # total energy = E‖h‖² = ‖mean‖² + tr Σ (Parseval)
    assert abs(e.sum() - (m @ m + np.trace(C))) < 1e-12
    assert T.linear_block(h).shape == (2, 3)


def test_alignment_closed_form_against_monte_carlo():
    rng = np.random.default_rng(2)
    h = T.random_encoder(rng, 2, 3, mean_scale=1.0)
    L = T.alignment_loss(h, 0.7)
    mc, se = T.alignment_monte_carlo(h, 0.7, 200_000, rng)
    assert abs(mc - L) < 4 * se        # 4 standard errors: false alarm 6e-5


def test_whiten_is_exact():
    h = T.whiten(T.random_encoder(np.random.default_rng(3), 4, 3, mean_scale=2.0))
    assert T.whitening_residual(h) < 1e-13 and np.abs(T.mean(h)).max() == 0
    with pytest.raises(np.linalg.LinAlgError):
        T.whiten(T.PolyEncoder(np.zeros((2, 6)), T.multi_indices(2, 2)))


def test_rotation_encoder_and_random_rotation():
    rng = np.random.default_rng(4)
    for n in (1, 2, 6):
        Q = T.random_rotation(rng, n)
        np.testing.assert_allclose(Q @ Q.T, np.eye(n), atol=1e-13)
        h = T.rotation_encoder(Q, 2)
        z = rng.standard_normal((5, n))
        np.testing.assert_allclose(h(z), z @ Q.T, atol=1e-13)


def test_ou_pairs_have_the_right_correlation():
    z, zp = T.ou_pairs(np.random.default_rng(5), 200_000, 2, 0.6)
    # correlation standard error ~ (1-ρ²)/sqrt(N) = 1.4e-3; 0.01 is 7 standard errors
    assert abs(np.mean(z * zp) - 0.6) < 0.01 and abs(np.var(zp) - 1) < 0.01


def test_deviation_closed_form_is_the_minimum():
    """D(h) equals E‖h − Q*z − b*‖² by quadrature, and no other (Q, b) does better."""
    rng = np.random.default_rng(6)
    h = T.random_encoder(rng, 3, 3, mean_scale=1.0, linear_scale=1.5)
    D, Q, b = T.deviation_from_rotation(h)
    nodes, w = T.gauss_hermite(4, 3)
    H = h(nodes)

    def risk(Q, b):
        return float(w @ np.sum((H - nodes @ Q.T - b) ** 2, axis=1))

    assert abs(risk(Q, b) - D) < 1e-12 * (1 + D)
    np.testing.assert_allclose(Q @ Q.T, np.eye(3), atol=1e-13)
    for _ in range(100):
        assert risk(T.random_rotation(rng, 3), b + 0.1 * rng.standard_normal(3)) >= D
        skew = rng.standard_normal((3, 3)) * 1e-3
        near = Q @ expm(skew - skew.T)                     # a rotation next to Q*
        assert risk(near, b + 1e-3 * rng.standard_normal(3)) >= D - 1e-12
    with pytest.raises(ValueError):
        T.deviation_from_rotation(T.random_encoder(rng, 3, 2, n_out=2))


def test_alignment_excess_is_measured_from_2n_1_minus_rho_and_needs_a_square_encoder():
    """ε = L − 2n(1 − ρ): zero for a rotation, the closed form's surplus otherwise; an encoder
    with n_out ≠ n has no T1 optimum to compare with and is refused. (A held-out hand-written
    bug, n → n_out in the formula, survived because non-square encoders were accepted with no
    defined meaning; with the refusal the two formulas agree on every accepted input.)"""
    rng = np.random.default_rng(4)
    rot = T.rotation_encoder(T.random_rotation(rng, 3), degree=2)
    assert T.alignment_excess(rot, 0.4) == pytest.approx(0.0, abs=1e-12)
    h = T.random_encoder(rng, 3, 3, mean_scale=1.0)
    assert T.alignment_excess(h, 0.4) == T.alignment_loss(h, 0.4) - 2 * 3 * (1 - 0.4)
    for n_out in (2, 4):
        with pytest.raises(ValueError, match="square"):
            T.alignment_excess(T.random_encoder(rng, 3, 2, n_out=n_out), 0.4)


def test_t3_bound_formula():
    B, dev = T.t3_bound(eps=0.2, delta=0.1, n=4, rho=0.5)
    assert math.isclose(B, (0.2 + 2 * 0.5 * 2 * 0.1) / (2 * 0.5 * 0.5))
    assert math.isclose(dev, B + (0.1 + B) ** 2)
    assert T.t3_bound(0.0, 0.0, 3, 0.3) == (0.0, 0.0)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(n=st.integers(1, 4), degree=st.integers(1, 3), rho=st.floats(0.01, 0.99),
       seed=st.integers(0, 2**32 - 1))
def test_alignment_equals_exact_quadrature(n, degree, rho, seed):
    """L4's closed form against exact Gauss–Hermite quadrature over (z, ε) ∈ ℝ^{2n}."""
    h = T.random_encoder(np.random.default_rng(seed), n, degree, mean_scale=1.0)
    nodes, w = T.gauss_hermite(degree + 1, 2 * n)
    z, e = nodes[:, :n], nodes[:, n:]
    L = float(w @ np.sum((h(rho * z + math.sqrt(1 - rho**2) * e) - h(z)) ** 2, axis=1))
    assert abs(L - T.alignment_loss(h, rho)) <= 1e-10 * (1 + L)   # exact rule: rounding only


def test_rho_is_checked_where_the_step_or_the_theorem_needs_it():
    """Session 43: alignment_loss(h, 1.5) was negative, NaN ρ gave NaN, ou_pairs(ρ = 1.5) a
    bare math domain error. The step and L4 exist for −1 ≤ ρ ≤ 1 (ρ ≤ 0 is SFA's AR(1) junk);
    T1's optimum and T3's bound need 0 < ρ < 1."""
    rng = np.random.default_rng(43)
    h = T.random_encoder(rng, 2, 2)
    for rho in (1.5, -1.01, math.nan, math.inf):
        with pytest.raises(ValueError, match=r"rho must lie in \[-1, 1\]"):
            T.alignment_loss(h, rho)
        with pytest.raises(ValueError, match=r"rho must lie in \[-1, 1\]"):
            T.ou_pairs(rng, 3, 2, rho)
        with pytest.raises(ValueError, match=r"rho must lie in \[-1, 1\]"):
            T.alignment_monte_carlo(h, rho, 10, rng)
    for rho in (2.0, 1.0, 0.0, -0.5, math.nan):
        with pytest.raises(ValueError, match=r"rho must lie in \(0, 1\) \(T1's optimum"):
            T.alignment_excess(h, rho)
    for rho in (np.array([0.5, 0.6]), [0.5], "0.5", True, 0.5 + 0j):
        with pytest.raises(ValueError, match="rho must be a real number"):
            T.alignment_loss(h, rho)
    # the closed range stays open to what the identity covers, numbers unchanged
    assert T.alignment_loss(h, -0.3) == pytest.approx(
        2 * (T.chaos_energies(h).sum(0) * (1 - (-0.3) ** np.arange(3))).sum(), rel=1e-15)
    assert T.alignment_loss(h, np.float32(0.5)) == T.alignment_loss(h, 0.5)
    z, zp = T.ou_pairs(rng, 4, 2, 0.0)
    assert z.shape == zp.shape == (4, 2)


def test_t3_bound_refuses_a_bad_n_eps_or_delta():
    """n = 0 gave a bound, n = −1 a math domain error, NaN ε a NaN bound (session 43)."""
    for n in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match=r"^n must be an integer in \[1, 2\^63\)"):
            T.t3_bound(0.1, 0.1, n, 0.5)
    with pytest.raises(ValueError, match="^eps must be finite, got nan"):
        T.t3_bound(math.nan, 0.1, 2, 0.5)
    with pytest.raises(ValueError, match=r"^delta = \|\|Cov h - I\|\|_F must be finite and >= 0"):
        T.t3_bound(0.1, -1e-3, 2, 0.5)
    assert T.t3_bound(-0.01, 0.1, 2, 0.5).energy > 0      # a negative ε is a valid input


def test_random_encoder_n_out_zero_is_refused_not_read_as_default():
    rng = np.random.default_rng(0)
    for n_out in (0, -1, 1.5):
        with pytest.raises(ValueError, match=r"^n_out must be an integer in \[1, 2\^63\)"):
            T.random_encoder(rng, 2, 2, n_out=n_out)
    assert T.random_encoder(rng, 2, 2, n_out=1).n_out == 1
    assert T.random_encoder(rng, 3, 2).n_out == 3


def test_alignment_monte_carlo_size_and_dimension():
    """size 0 divided by zero, size 1 gave a NaN s.e.; a plain callable (no attribute n) needs
    n=, and says so instead of an AttributeError."""
    rng = np.random.default_rng(1)
    h = T.random_encoder(rng, 2, 2)
    for size in (0, 1):
        with pytest.raises(ValueError, match=r"^size must be an integer in \[2, 2\^63\)"):
            T.alignment_monte_carlo(h, 0.5, size, rng)
    with pytest.raises(ValueError, match="needs the latent dimension: pass n="):
        T.alignment_monte_carlo(lambda z: z, 0.5, 100, rng)
    mean, se = T.alignment_monte_carlo(lambda z: z, 0.5, 20_000, rng, n=2)
    assert abs(mean - 2 * 2 * (1 - 0.5)) < 5 * se             # E‖z' − z‖² = 2n(1 − ρ)


def test_poly_encoder_and_multi_indices_refuse_mismatched_shapes():
    """A coefficient width that does not match the multi-indices became a NumPy broadcast
    error at the first use; multi_indices(0, d) a reshape error: γ_0 has nothing to index."""
    alphas = T.multi_indices(2, 2)                               # M = 6
    for coef in (np.zeros((2, 5)), np.zeros(6), np.zeros((1, 2, 6))):
        with pytest.raises(ValueError, match=r"coef must have shape \(n_out, M\) and alphas"):
            T.PolyEncoder(coef, alphas)
    with pytest.raises(ValueError, match=r"^n must be an integer in \[1, 2\^63\), got 0"):
        T.multi_indices(0, 2)
    with pytest.raises(ValueError, match=r"^the degree must be an integer in \[0, 2\^63\)"):
        T.multi_indices(2, -1)
    assert T.multi_indices(3, 0).shape == (1, 3)
