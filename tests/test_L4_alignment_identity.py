"""L4: L(h) = 2 Σ_k Σ_{d≥1} (1 − ρ^d) e_{k,d}."""
import numpy as np

from pycheck import theory as T
from pycheck.checks.hermite import alignment_identity


def test_L4_checks_registered(checks_of):
    assert checks_of("L4") == ("L4.alignment_identity",)


def test_L4_alignment_identity_passes():
    r = alignment_identity(0)
    assert r.passed and r.figures["max_rel_error_quadrature"] < 1e-12


def _weighted(h, rho, shift):
    e = T.chaos_energies(h)
    d = np.arange(e.shape[1])
    return float(2 * (e.sum(axis=0) * (1 - rho ** (d + shift)) * (d >= 1)).sum())


def test_L4_alignment_identity_fails_with_weights_of_the_wrong_degree():
    # ρ^{d+1} instead of ρ^d
    assert not alignment_identity(0, formula=lambda h, rho: _weighted(h, rho, 1)).passed


def test_L4_alignment_identity_fails_with_linear_weights_everywhere():
    # 2(1 − ρ) Σ e: what L would be if every degree cost like degree 1
    r = alignment_identity(0, formula=lambda h, rho: 2 * (1 - rho) * T.chaos_energies(h)[:, 1:].sum())
    assert not r.passed
