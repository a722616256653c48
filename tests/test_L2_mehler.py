"""L2: Mehler's eigen-relation E[He_α(z') | z] = ρ^{|α|} He_α(z)."""
import numpy as np
import pytest
import sympy as sp
from scipy.linalg import hadamard

from pycheck.checks.hermite import mehler_exact, mehler_monte_carlo


def test_L2_checks_registered(checks_of):
    assert set(checks_of("L2")) == {"L2.mehler_exact", "L2.mehler_monte_carlo"}


def test_L2_mehler_exact_passes():
    assert mehler_exact(0).passed


def test_L2_mehler_exact_fails_for_physicists_hermite():
    # H_k (physicists') are not eigenfunctions of this OU step
    assert not mehler_exact(0, poly=sp.hermite, max_degree=4).passed


def test_L2_mehler_exact_fails_for_wrong_eigenvalue():
    assert not mehler_exact(0, eigen=lambda rho, k: rho ** (k + 1), max_degree=3).passed


def test_L2_mehler_monte_carlo_passes():
    r = mehler_monte_carlo(0)
    assert r.passed and r.figures["max_abs_z"] <= 4.5


def test_L2_mehler_monte_carlo_detects_a_one_percent_error():
    # eigenvalue off by 1%: must already be far outside the z-score tolerance
    r = mehler_monte_carlo(0, eigen=lambda rho, k: rho**k * np.where(k > 0, 1.01, 1.0))
    assert not r.passed and r.figures["max_abs_z"] > 4.5


def _exact_moments(monkeypatch):
    """Make every Monte-Carlo moment exact: He_k at a fixed point is 0 and over the noise
    sample alternates ±1 (mean exactly 0, spread > 0), and the basis over the 16 pairs is
    the first 10 columns of a Hadamard matrix H (``H₁₀ᵀH₁₀/16 = I``, squares all 1): the
    cross-moment's spread is exactly 0 on the diagonal and sqrt(1/15) off it; part (c)'s
    degree-4 moments are columns 1-5 (mean exactly 0)."""
    from pycheck import theory as T
    monkeypatch.setattr(T, "hermite", lambda k, x: np.where(np.arange(np.size(x)) % 2, 1.0, -1.0)
                        if np.ndim(x) else 0.0)
    # part (c)'s five degree-4 moments of z' (mean 0): Hadamard columns 1-5, whose means are 0
    monkeypatch.setattr(T, "basis", lambda z, alphas: hadamard(16)[
        :, slice(0, 10) if len(alphas) == 10 else slice(1, len(alphas) + 1)].astype(float))


@pytest.mark.parametrize("diagonal, max_z", [(1.0, 0.0), (0.5, np.inf)])
def test_L2_monte_carlo_moment_with_zero_spread_scores_0_if_exact_else_inf(
        monkeypatch, diagonal, max_z):
    """A cross-moment with zero sample spread (the constant φ_0 on real draws) has z-score
    0 when it equals its target and ∞ when it does not, whatever its spread divides; here
    all of part (b)'s diagonal has zero spread, and its target ``eigen(0.6, |α|)`` is made
    1 (all moments exact: every z is 0) or 1/2 on one entry (that z is ∞)."""
    _exact_moments(monkeypatch)

    def eigen(rho, k):
        if np.ndim(k) == 0:
            return rho**k
        target = np.ones(len(k))
        target[3] = diagonal
        return target
    # the exact variances as the crafted sample's: none on (b)'s diagonal, 1 elsewhere
    r = mehler_monte_carlo(0, eigen=eigen, size=16, conditional_variance=lambda *a: 1.0,
                           cross_variances=lambda rho, alphas: 1.0 - np.eye(len(alphas)))
    assert r.figures["max_abs_z"] == max_z and r.passed is (max_z == 0)


def test_L2_monte_carlo_fails_when_the_pair_sampler_draws_laplace_noise(monkeypatch):
    """Unit-variance symmetric noise matches the Gaussian's moments up to degree 3, so parts
    (a) and (b) passed with Laplace noise in the sampler (session 48, a user's mutation
    trial); part (c)'s degree-4 moments of z' see it (E He_4(z') = 3 (1 - rho^2)^2)."""
    import math
    from pycheck import theory as T

    def laplace_pairs(rng, size, n, rho):
        z = rng.standard_normal((size, n))
        return z, rho * z + math.sqrt(1 - rho**2) * rng.laplace(0, 1 / math.sqrt(2), (size, n))
    monkeypatch.setattr(T, "ou_pairs", laplace_pairs)
    r = mehler_monte_carlo(0, size=20_000)
    assert not r.passed and r.figures["max_abs_z"] > 20
