"""L2: Mehler's eigen-relation E[He_α(z') | z] = ρ^{|α|} He_α(z)."""
import numpy as np
import sympy as sp

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
