"""L3: He_α/√α! is orthonormal under γ_n (‖He_k‖² = k!)."""
import sympy as sp

from pycheck.checks.hermite import hermite_orthogonality_exact, hermite_quadrature


def test_L3_checks_registered(checks_of):
    assert set(checks_of("L3")) == {"L3.hermite_orthogonality_exact", "L3.hermite_quadrature"}


def test_L3_orthogonality_exact_passes():
    assert hermite_orthogonality_exact(0).passed


def test_L3_orthogonality_exact_fails_for_physicists_hermite():
    # physicists' H_k are orthogonal under exp(−x²), not under γ_1
    assert not hermite_orthogonality_exact(0, poly=sp.hermite, max_degree=4).passed


def test_L3_orthogonality_exact_fails_for_monomials():
    assert not hermite_orthogonality_exact(0, poly=lambda k, x: x**k, max_degree=3).passed


def test_L3_quadrature_passes():
    r = hermite_quadrature(0)
    assert r.passed and r.figures["max_abs_error"] < 1e-12


def test_L3_quadrature_fails_with_too_few_nodes():
    # D nodes integrate only up to degree 2D − 1: the Gram matrix of degree-D functions breaks
    assert not hermite_quadrature(0, points=lambda degree: degree).passed
