"""Failure injection, one condition at a time: each check must fail when exactly one of the
conditions it combines is broken and the others still hold (a check whose ``and`` became an
``or`` would pass these)."""
from fractions import Fraction

import numpy as np
import pytest

from pycheck import theory as T
from pycheck.checks import hermite, t1, t2, t3


def _whiten_then_shift(h):
    """Whitened, plus a mean of 0.1: L, E_nl and Σ_h are unchanged, only E h = 0 fails."""
    w = T.whiten(h)
    coef = w.coef.copy()
    coef[:, w.degrees == 0] = 0.1
    return T.PolyEncoder(coef, w.alphas)


def _whiten_then_stretch(h):
    """Whitened, then stretched by 5%: L rises (the slack stays positive), Σ_h = 1.1 I."""
    w = T.whiten(h)
    return T.PolyEncoder(1.05 * w.coef, w.alphas)


def _almost_linear(h):
    """Whitened with its nonlinear part shrunk to 1e-8: ε ≈ 2ρ(1−ρ)E_nl ≈ 1e-16 relative, so
    the gap inequality holds but ε > 0 cannot be told from rounding."""
    coef = h.coef.copy()
    coef[:, h.degrees >= 2] *= 1e-8
    return T.whiten(T.PolyEncoder(coef, h.alphas))


# ---------------------------------------------------------------- T1 feasibility (item 4)
def test_T1_lower_bound_fails_on_infeasible_encoders_above_the_bound():
    r = t1.lower_bound(0, prepare=_whiten_then_stretch, examples=20, sweep=20)
    assert r.figures["worst_relative_slack"] > 0           # the inequality itself holds
    assert not r.passed and r.figures["max_infeasibility"] > 0.05


def test_T1_nonlinear_gap_fails_on_a_mean_shift_alone():
    r = t1.nonlinear_gap(0, prepare=_whiten_then_shift, encoders=50)
    assert r.figures["worst_relative_slack"] >= -1e-12 and r.figures["min_relative_eps"] > 0
    assert not r.passed and r.figures["max_infeasibility"] >= 0.1


def test_T1_nonlinear_gap_fails_when_eps_is_not_positive():
    r = t1.nonlinear_gap(0, prepare=_almost_linear, encoders=50)
    assert r.figures["worst_relative_slack"] >= -1e-12 and r.figures["max_infeasibility"] < 1e-12
    assert not r.passed and r.figures["min_relative_eps"] < 1e-12


def test_T1_rotation_equality_fails_on_infeasibility_alone(monkeypatch):
    monkeypatch.setattr(t1, "infeasibility", lambda h: 1e-9)
    r = t1.rotation_equality(0)
    assert r.figures["max_rel_error"] <= 1e-12 and not r.passed


def test_T1_rotation_equality_fails_on_the_loss_alone(monkeypatch):
    exact = T.alignment_loss
    monkeypatch.setattr(T, "alignment_loss", lambda h, rho: exact(h, rho) * (1 + 1e-9))
    r = t1.rotation_equality(0)
    assert r.figures["max_whitening_residual"] <= 1e-12 and not r.passed


def _patch_series(monkeypatch, dL=0.0, e_factor=1.0):
    """Shift the exact Hermite-series alignment by ``dL`` or scale its E_nl."""
    exact = t1._band_map_l2

    def wrong(*args):
        L, e_nl = exact(*args)
        return L + dL, e_factor * e_nl
    monkeypatch.setattr(t1, "_band_map_l2", wrong)


def test_T1_gaussian_preserving_fails_when_monte_carlo_disagrees_with_the_series(monkeypatch):
    _patch_series(monkeypatch, dL=0.1)                     # 10 standard errors
    r = t1.gaussian_preserving_nonlinear(0, size=100_000)
    assert r.figures["ks_pvalue"] >= 1e-3 and r.figures["ci_lower"] > r.figures["bound_2n(1-rho)"]
    assert not r.passed and abs(r.figures["z_mc_vs_exact"]) > 4


def test_T1_gaussian_preserving_fails_when_the_gap_is_too_small(monkeypatch):
    _patch_series(monkeypatch, e_factor=10.0)
    r = t1.gaussian_preserving_nonlinear(0, size=100_000)
    assert abs(r.figures["z_mc_vs_exact"]) <= 4 and not r.passed


def test_T1_gaussian_preserving_fails_when_the_normality_test_rejects(monkeypatch):
    from scipy import stats

    class Rejects:
        pvalue = 1e-6
    monkeypatch.setattr(stats, "kstest", lambda *a, **k: Rejects())
    r = t1.gaussian_preserving_nonlinear(0, size=100_000)
    assert abs(r.figures["z_mc_vs_exact"]) <= 4 and not r.passed


# ---------------------------------------------------------------- L4
def test_L4_fails_on_a_closed_form_off_by_1e_8():
    """Far inside the Monte-Carlo noise (|z| stays small), but the exact quadrature sees it."""
    r = hermite.alignment_identity(0, formula=lambda h, rho: T.alignment_loss(h, rho) * (1 + 1e-8),
                                   size=20_000)
    assert r.figures["max_abs_z"] <= 4 and r.figures["max_rel_error_quadrature"] > 1e-9
    assert not r.passed


def test_L4_fails_on_monte_carlo_alone():
    """A 20% error the quadrature does not use (only the MC z-score moves)."""
    r = hermite.alignment_identity(0, formula=lambda h, rho: T.alignment_loss(h, rho) * (
        1.2 if h.n == 3 and 2 * h.n > 4 else 1.0), size=20_000)
    assert r.figures["max_rel_error_quadrature"] <= 1e-10 and not r.passed


# ---------------------------------------------------------------- helpers the checks rely on
def test_positive_on_unit_interval_by_hand():
    import sympy as sp
    from pycheck.checks.hermite import RHO, _positive_on_unit_interval as pos
    assert pos(RHO * (1 - RHO))                          # roots at the ends only
    assert pos(RHO ** 2 + 1)
    assert not pos((RHO - sp.Rational(1, 3)) ** 2)       # a double root inside, positive at 1/2
    assert not pos(-RHO * (1 - RHO))                     # no root inside, negative
    assert not pos(RHO - 2)
    assert not pos(sp.Integer(0))


@pytest.mark.parametrize("scale", [1.3, 0.5])
def test_band_map_series_against_monte_carlo_off_the_symmetric_case(scale):
    """scale ≠ ±1 changes E u² (at ±1 the energy term vanishes): L and E_nl = E u² − (E u z)²
    from the Hermite series, against Monte Carlo (4 standard errors, false alarm 6e-5 each)."""
    band, rho, size = (0.5, 1.5), 0.5, 400_000
    L, e_nl = t1._band_map_l2(band, scale, rho, 1)
    u = lambda z: np.where((abs(z) >= band[0]) & (abs(z) <= band[1]), scale * z, z)  # noqa: E731
    mc, se = T.alignment_monte_carlo(u, rho, size, np.random.default_rng(2), n=1)
    assert abs(mc - L) < 4 * se
    z = np.random.default_rng(3).standard_normal(size)
    uz = u(z)
    e_mc = np.mean(uz ** 2) - np.mean(uz * z) ** 2
    # delta-method s.e. of E u² − (E uz)² is below 3 sd(u²)/√N; the series is exact to ~1e-12
    assert abs(e_mc - e_nl) < 4 * 3 * np.std(uz ** 2) / np.sqrt(size)
    assert e_nl > 1e-3


def test_load_all_skips_a_missing_check_module_but_not_a_missing_dependency(monkeypatch):
    import importlib

    import pycheck.checks as C
    monkeypatch.setattr(C, "CHECK_MODULES", C.CHECK_MODULES + ("not_written_yet",))
    assert C.load_all() is C.CHECKS                      # the absent module is skipped
    real = importlib.import_module

    def broken(name, *a):
        if name.endswith(".not_written_yet"):
            raise ModuleNotFoundError("No module named 'scipyy'", name="scipyy")
        return real(name, *a)
    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="scipyy"):
        C.load_all()


# ---------------------------------------------------------------- one violation is enough
def test_T4_counterexample_fails_for_a_uniform_scaling():
    """A = 2I multiplies every cost by 4 (relative value change exactly 3) but never changes
    an optimal plan: a changed value alone is not the counterexample the check promises."""
    from pycheck.checks import t4
    r = t4.dp_nonorthogonal_counterexample(0, A=2 * np.eye(2))
    assert r.figures["max_rel_value_diff"] == pytest.approx(3.0, rel=1e-12)
    assert r.figures["plans_changed"] == 0 and not r.passed


def test_T3_whitened_corollary_reports_the_violation_it_fails_on():
    """With the bound halved, the reported minimum slack is a violation (< -1e-9), not the
    best case: the figure must agree with the verdict."""
    r = t3.whitened_corollary(0, bound=lambda B: 0.5 * B, count=50)
    assert not r.passed and r.figures["violations"] > 0
    assert r.figures["min_rel_slack"] < -1e-9


@pytest.mark.parametrize("field, figure", [("energy", "worst_energy_slack"),
                                           ("deviation", "worst_deviation_slack")])
def test_A1_approximate_bound_fails_on_one_violated_encoder(field, figure):
    """The bound made false (-1) for the first encoder only: the check fails and reports it."""
    from pycheck import anisotropic as A
    from pycheck.checks import anisotropic
    calls = []

    def wrong_once(eps, delta, rho):
        calls.append(1)
        b = A.anisotropic_bound(eps, delta, rho)
        return b._replace(**{field: -1.0}) if len(calls) == 1 else b
    r = anisotropic.approximate_bound(0, bound=wrong_once, encoders=30)
    assert not r.passed and r.figures[figure] < -1


def test_T4_rotation_invariance_fails_when_two_plans_tie(monkeypatch):
    """A second action sequence exactly as cheap as the optimum makes "the optimal plan maps
    to the optimal plan" ambiguous: the check must fail on the tie (gap 0) alone."""
    from pycheck.checks import t4
    exact = t4.sequence_costs
    monkeypatch.setattr(t4, "sequence_costs", lambda *a: np.append(exact(*a), exact(*a).min()))
    r = t4.dp_rotation_invariance(0, problems=4)
    assert r.figures["min_rel_optimality_gap"] == 0 and r.figures["policy_mismatches"] == 0
    assert not r.passed


def test_T1_gaussian_preserving_fails_on_a_variance_off_by_3_percent(monkeypatch):
    """Scale −1.03 on the band raises Var h_1 by ~1.5% (z-score 6 at 10⁵ samples) and keeps
    the gap and the series; with the KS test made to accept, only the variance check fails."""
    from scipy import stats

    class Accepts:
        pvalue = 0.5
    monkeypatch.setattr(stats, "kstest", lambda *a, **k: Accepts())
    r = t1.gaussian_preserving_nonlinear(0, scale=-1.03, size=100_000)
    assert r.figures["max_mean_z"] <= 4 and abs(r.figures["z_mc_vs_exact"]) <= 4
    assert r.figures["ci_lower"] > r.figures["bound_2n(1-rho)"]
    assert r.figures["max_var_z"] > 5 and not r.passed


@pytest.mark.parametrize("which", ["mean", "cov"])
def test_T2_affine_pushforward_fails_on_one_law_off_by_1e_6(which):
    """T2's preimage law made wrong by 1e-6 (mean shifted along A⁻¹ or covariance scaled),
    far above the rounding of 1e-13 the tolerance allows, on one draw of 40 only."""
    from pycheck.checks.t2 import _gaussian_preimage
    calls = []

    def wrong_once(A, b):
        calls.append(1)
        m, S = _gaussian_preimage(A, b)
        if len(calls) == 1:
            m, S = (m + 1e-6 * np.linalg.solve(A, np.ones(len(b))), S) if which == "mean" \
                else (m, (1 + 1e-6) * S)
        return m, S
    r = t2.affine_pushforward(0, law=wrong_once, draws=40)
    figure = "max_mean_error" if which == "mean" else "max_cov_error"
    assert r.figures[figure] == pytest.approx(1e-6, rel=1e-3) and not r.passed


def test_L4_reports_the_relative_error_of_a_closed_form_off_by_1e_8():
    """The quadrature's relative error figure is the injected error itself (1e-8), up to the
    ~1e-16 / 1e-8 = 1e-8 relative rounding of a difference of two O(1) numbers."""
    r = hermite.alignment_identity(0, formula=lambda h, rho: T.alignment_loss(h, rho) * (1 + 1e-8),
                                   size=20_000)
    assert r.figures["max_rel_error_quadrature"] == pytest.approx(1e-8, rel=1e-3)


# ---------------------------------------------------------------- faults just past a threshold
def test_T1_gaussian_preserving_fails_on_a_series_off_by_4_5_standard_errors(monkeypatch):
    """The Monte-Carlo and series values must agree within 4 s.e.: a series shifted so that
    they differ by exactly 4.5 s.e. (same seed, so the same draws) fails."""
    r0 = t1.gaussian_preserving_nonlinear(0, size=100_000)
    _patch_series(monkeypatch, dL=(r0.figures["z_mc_vs_exact"] + 4.5) * r0.figures["L_stderr"])
    r = t1.gaussian_preserving_nonlinear(0, size=100_000)
    assert r.figures["z_mc_vs_exact"] == pytest.approx(-4.5, rel=1e-9) and not r.passed


def test_T1_gaussian_preserving_fails_on_a_variance_4_5_standard_errors_off(monkeypatch):
    """Scale −1.021 on the band: Var h_1 off by 4.51 s.e. of a variance estimate, √(2/N)
    (measured on seed 0), just past the threshold of 4; KS made to accept."""
    from scipy import stats

    class Accepts:
        pvalue = 0.5
    monkeypatch.setattr(stats, "kstest", lambda *a, **k: Accepts())
    r = t1.gaussian_preserving_nonlinear(0, scale=-1.021, size=100_000)
    assert 4.3 < r.figures["max_var_z"] < 4.8 and not r.passed


def test_T3_whitened_corollary_fails_on_a_bound_too_small_by_1e_6():
    """Some whitened encoders sit on the bound (slack ~1e-14, rounding); a bound lowered by
    1e-6 must be seen as violated there."""
    assert t3.whitened_corollary(0, count=100).figures["min_rel_slack"] < 1e-9
    r = t3.whitened_corollary(0, bound=lambda B: B + B * B - 1e-6, count=100)
    assert r.figures["violations"] > 0 and not r.passed


def test_A1_whitened_gap_fails_on_one_encoder_with_a_gap_too_large():
    """The spectral gap made 10³ times too large for the first encoder only: ε ≥ 2g E_nl is
    then violated there (E_nl > 0 for every drawn encoder), and that one case must fail."""
    from pycheck import anisotropic as A
    from pycheck.checks import anisotropic
    calls = []

    def wrong_once(rho):
        calls.append(1)
        return A.spectral_gap(rho) * (1e3 if len(calls) == 1 else 1.0)
    r = anisotropic.whitened_gap(0, gap=wrong_once, encoders=20)
    assert r.figures["worst_gap_slack"] < 0 and not r.passed


@pytest.mark.parametrize("values", [(Fraction(29, 50), Fraction(7, 5)),
                                    (Fraction(3, 5), Fraction(6, 5))])
def test_A1_threshold_exact_fails_when_one_exact_value_is_wrong(monkeypatch, values):
    """SymPy's two exact alignments (harmonic 29/50, rotations 6/5) must both be right."""
    import sympy as sp
    from pycheck.checks import anisotropic
    monkeypatch.setattr(anisotropic, "exact_counterexample_alignment",
                        lambda: tuple(sp.Rational(v.numerator, v.denominator) for v in values))
    r = anisotropic.threshold_exact(0, worlds=20)
    assert r.figures["threshold_disagreements"] == 0 and not r.passed


def test_A1_whitened_gap_passes_where_a_tiny_gap_amplifies_rounding():
    """Seed 121 draws a sharp encoder whose ratio eps / (2g E_nl) is off by 1.4e-9 from
    rounding alone (the fixed 1e-9 tolerance before session 35 failed it); measured against
    its own rounding scale it passes."""
    from pycheck.checks import anisotropic
    r = anisotropic.whitened_gap(121)
    assert r.figures["sharp_ratio_error"] > 1e-9
    assert r.passed and r.figures["sharp_ratio_error_over_scale"] <= 100


def test_A1_whitened_gap_fails_when_the_sharp_constant_is_off_by_a_millionth():
    """A gap 1e-6 too small keeps eps >= 2g E_nl true but breaks the sharp equality."""
    from pycheck import anisotropic as A
    from pycheck.checks import anisotropic
    r = anisotropic.whitened_gap(0, gap=lambda rho: A.spectral_gap(rho) * (1 - 1e-6),
                                 encoders=20)
    assert r.figures["worst_gap_slack"] >= 0
    assert r.figures["sharp_ratio_error_over_scale"] > 100 and not r.passed
