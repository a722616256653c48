"""A1 / A2: anisotropic worlds. Whitened minimiser linear iff max ρ² < min ρ, the gap constant
2(min ρ − max ρ²), the approximate bound; a Gaussian-preserving map that beats the rotations."""
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from pycheck import anisotropic as A
from pycheck import theory as T
from pycheck.audit import audit
from pycheck.checks import anisotropic as C

from test_audit import GOOD, entries, make_project   # rootdir-relative import (no package)

_TOL = 1e-12   # closed forms: float rounding of O(n) terms only

rates = st.lists(st.floats(0.02, 0.98), min_size=1, max_size=4)


def test_A1_A2_checks_registered(checks_of):
    assert set(checks_of("A1")) == {"A1.threshold_exact", "A1.whitened_gap",
                                    "A1.approximate_bound", "A1.monte_carlo"}
    assert set(checks_of("A2")) == {"A2.fold_beats_rotations", "A2.conditional_rearrangement"}


def test_A1_counterexample_exact_in_sympy():
    harmonic, rotation = C.exact_counterexample_alignment()
    assert harmonic == sp.Rational(29, 50) and rotation == sp.Rational(6, 5)


def test_A1_gap_constant_symbolically_reduces_to_T1():
    r = sp.symbols("rho", positive=True)
    assert sp.simplify((r - r**2) - r * (1 - r)) == 0


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(rho=rates, degree=st.integers(2, 3), seed=st.integers(0, 2**32 - 1))
def test_A1_whitened_alignment_at_least_whitened_minimum(rho, degree, seed):
    h = T.whiten(T.random_encoder(np.random.default_rng(seed), len(rho), degree, mean_scale=1.0))
    assert A.alignment_loss(h, rho) >= A.whitened_minimum(rho) - _TOL
    if A.linear_is_optimal(rho):
        eps = A.alignment_loss(h, rho) - A.rotation_alignment(rho)
        assert eps >= 2 * A.spectral_gap(rho) * T.nonlinear_energy(h) - _TOL


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(rho=rates)
def test_A1_minimum_is_linear_iff_threshold(rho):
    rho = np.asarray(rho)
    alphas, lam = A.slowest_indices(rho)
    linear = bool((alphas.sum(axis=1) == 1).all())
    if abs(A.spectral_gap(rho)) > 1e-9:           # away from ties the minimiser is unique
        assert linear == A.linear_is_optimal(rho)
    # the SFA encoder attains the minimum and is whitened
    h = A.sfa_encoder(rho)
    assert abs(A.alignment_loss(h, rho) - A.whitened_minimum(rho)) <= _TOL
    assert T.whitening_residual(h) <= _TOL


def test_A1_isotropic_rates_give_T1_and_T3():
    rho, n = 0.37, 3
    assert A.spectral_gap([rho] * n) == pytest.approx(rho * (1 - rho), abs=_TOL)
    assert A.rotation_alignment([rho] * n) == pytest.approx(2 * n * (1 - rho), abs=_TOL)
    assert A.anisotropic_bound(0.3, 0.2, [rho] * n) == pytest.approx(T.t3_bound(0.3, 0.2, n, rho))


def test_A1_sharp_encoder_attains_the_constant():
    rho = [0.6, 0.9, 0.82]
    h = A.sharp_encoder(rho, 0.8)
    eps = A.alignment_loss(h, rho) - A.rotation_alignment(rho)
    assert eps == pytest.approx(2 * A.spectral_gap(rho) * math.sin(0.8) ** 2, abs=_TOL)
    assert T.nonlinear_energy(h) == pytest.approx(math.sin(0.8) ** 2, abs=_TOL)


def test_A1_bad_rates_raise():
    for bad in ([], [0.5, 1.0], [0.0], [[0.5]], ["x"], [float("nan")]):
        with pytest.raises(ValueError):
            A.check_rhos(bad)
    with pytest.raises(ValueError, match="no anisotropic bound"):
        A.anisotropic_bound(0.1, 0.1, [0.9, 0.5])


def test_A1_checks_pass():
    # smaller samples than `pycheck verify` uses, to keep the suite fast
    for r in (C.threshold_exact(0, worlds=50), C.whitened_gap(0, encoders=200),
              C.approximate_bound(0, encoders=200)):
        assert r.passed, r.summary


def test_A1_checks_fail_on_wrong_ingredients():
    # the isotropic constant rho(1 - rho) with rho = max is too large for anisotropic worlds
    assert not C.whitened_gap(0, gap=lambda r: max(r) * (1 - max(r)), encoders=200).passed
    # a threshold at max rho < min rho (instead of max rho^2) misclassifies
    assert not C.threshold_exact(0, threshold=lambda r: max(r) <= min(r), worlds=50).passed
    # the isotropic bound at rho = max rho (ignoring the spread) is violated
    assert not C.approximate_bound(
        0, bound=lambda e, d, r: T.t3_bound(e, d, len(r), max(r)), encoders=300).passed


def test_A1_monte_carlo_check_fails_on_isotropic_formula():
    wrong = lambda h, rho: T.alignment_loss(h, float(np.mean(rho)))
    assert not C.monte_carlo(0, loss=wrong, size=50_000).passed


def test_A2_fold_beats_rotations_and_check_can_fail():
    assert C.fold_beats_rotations(0, size=100_000).passed
    # below the threshold region the fold map loses: the check must say so
    assert not C.fold_beats_rotations(0, rho=(0.9, 0.5), exact=None, size=40_000).passed
    # the harmonic pair (z_s, He_2(z_s)/sqrt 2) beats the rotations but is not Gaussian
    harmonic = lambda z: np.stack([z[:, 0], (z[:, 0] ** 2 - 1) / math.sqrt(2)], axis=1)
    assert not C.fold_beats_rotations(0, h=harmonic, exact=None, size=40_000).passed


def test_A2_fold_quadrature_independent_limit():
    # with both rates -> 0 the two steps are independent draws of N(0, 1) outputs: L -> 4
    # (1e-6: the rates 1e-7 themselves move L by O(1e-7); quadrature error ~1e-13)
    assert A.fold_alignment((1e-7, 1e-8)) == pytest.approx(4.0, abs=1e-6)


def test_A2_conditional_rearrangement_check():
    assert C.conditional_rearrangement(0, size=50_000).passed
    # the fold map is not a conditional rearrangement and does beat the rotations somewhere
    assert not C.conditional_rearrangement(0, h=A.GAUSSIAN_MAPS["fold"], size=50_000).passed


def test_audit_accepts_conjecture_without_lean(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries(T1={"status": "conjecture", "lean": "[]"}))
    assert audit(m, reg) == []
    (tmp_path / "p").mkdir()
    m, reg = make_project(tmp_path / "p", GOOD, entries(T1={"lean": "[]"}))
    assert any("no Lean declaration listed" in v for v in audit(m, reg))
