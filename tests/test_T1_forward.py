"""T1: under whitening L(h) ≥ 2n(1−ρ), with equality exactly at rotations."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycheck import theory as T
from pycheck.checks import t1


def test_T1_checks_registered(checks_of):
    assert set(checks_of("T1")) == {"T1.lower_bound", "T1.rotation_equality",
                                    "T1.nonlinear_gap", "T1.gaussian_preserving_nonlinear"}


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(n=st.integers(1, 5), degree=st.integers(1, 4), rho=st.floats(1e-3, 1 - 1e-3),
       nonlin=st.floats(0, 3), seed=st.integers(0, 2**32 - 1))
def test_T1_alignment_lower_bound(n, degree, rho, nonlin, seed):
    h = T.random_whitened_encoder(np.random.default_rng(seed), n, degree, nonlin)
    target = 2 * n * (1 - rho)
    # exact closed forms; 1e-12 relative covers float rounding
    assert T.alignment_loss(h, rho) >= target * (1 - 1e-12)
    assert T.alignment_excess(h, rho) >= 2 * rho * (1 - rho) * T.nonlinear_energy(h) - 1e-12 * target


def test_T1_lower_bound_check_passes():
    r = t1.lower_bound(0)
    assert r.passed and r.figures["hypothesis_passed"]


def _underscaled(h):
    """Whitened, then shrunk by 5%: violates E hhᵀ = I (and L drops below the bound)."""
    w = T.whiten(h)
    return T.PolyEncoder(0.95 * w.coef, w.alphas)


def test_T1_lower_bound_fails_on_non_whitened_encoders():
    r = t1.lower_bound(0, prepare=_underscaled, examples=30, sweep=50)
    assert not r.passed and not r.figures["hypothesis_passed"]
    assert r.figures["worst_relative_slack"] < -0.05


def test_T1_rotation_equality_passes():
    assert t1.rotation_equality(0).passed


def test_T1_rotation_equality_fails_off_the_orthogonal_group():
    # a 0.1% scaling of a rotation is no longer an optimum (nor whitened)
    assert not t1.rotation_equality(0, perturb=lambda Q: 1.001 * Q).passed


def test_T1_nonlinear_gap_passes():
    r = t1.nonlinear_gap(0)
    # degree-2 encoders attain the constant 2ρ(1−ρ) exactly (up to float rounding)
    assert r.passed and abs(r.figures["min_ratio_degree2"] - 1) < 1e-6


def test_T1_nonlinear_gap_fails_without_whitening():
    assert not t1.nonlinear_gap(0, prepare=lambda h: h, encoders=200).passed


def test_T1_nonlinear_gap_fails_if_nonlinearity_were_not_penalized(monkeypatch):
    # pretend every degree costs 1 − ρ (what a non-Gaussian-OU world could give): no gap
    def flat(h, rho):
        return float(2 * (1 - rho) * T.chaos_energies(h)[:, 1:].sum())
    monkeypatch.setattr(T, "alignment_loss", flat)
    assert not t1.nonlinear_gap(0, encoders=200).passed


def test_T1_gaussian_preserving_nonlinear_passes():
    r = t1.gaussian_preserving_nonlinear(0)
    assert r.passed and r.figures["ci_lower"] > r.figures["bound_2n(1-rho)"]


def test_T1_gaussian_preserving_nonlinear_fails_when_not_gaussian_preserving():
    # scaling z_1 by 1.3 in the band moves mass: h(z) is not N(0, I), KS must reject
    r = t1.gaussian_preserving_nonlinear(0, scale=1.3)
    assert not r.passed and r.figures["ks_pvalue"] < 1e-3


def test_T1_gaussian_preserving_nonlinear_fails_for_a_rotation():
    # band [0, ∞): h is the reflection z_1 → −z_1, a rotation: L equals the bound
    r = t1.gaussian_preserving_nonlinear(0, band=(0.0, math.inf))
    assert not r.passed and abs(r.figures["L_exact"] - r.figures["bound_2n(1-rho)"]) < 1e-9


@pytest.mark.parametrize("band", [(0.5, 1.5), (0.0, 0.3), (2.0, 4.0)])
def test_T1_band_flip_exact_alignment_against_monte_carlo(band):
    L, e_nl = t1._band_map_l2(band, -1.0, 0.5, 1)
    h = lambda z: np.where((abs(z) >= band[0]) & (abs(z) <= band[1]), -z, z)  # noqa: E731
    mc, se = T.alignment_monte_carlo(h, 0.5, 200_000, np.random.default_rng(1), n=1)
    assert abs(mc - L) < 4 * se and e_nl > 0     # 4 standard errors: false alarm 6e-5
