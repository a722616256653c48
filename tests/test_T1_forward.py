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
                                    "T1.nonlinear_gap", "T1.gaussian_preserving_nonlinear",
                                    "T1.negative_rho_scope", "T1.rotational_drift_scope",
                                    "L4.alignment_identity"}   # T1's L is L4's closed form


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


# ---------------------------------------------------------------- survivors of the full
# mutation run of the check bodies (session 9, results/mutation/full_run_s9_t1_t2.md)
def _search_encoders(monkeypatch, seed, **kwargs):
    """``(n, degree, keyword arguments)`` of every raw encoder the hypothesis search draws."""
    calls, real = [], T.random_encoder

    def spy(rng, n, degree, **kw):
        calls.append((n, degree, kw))
        return real(rng, n, degree, **kw)
    with monkeypatch.context() as m:
        m.setattr(T, "random_encoder", spy)
        t1.lower_bound(seed, sweep=0, **kwargs)
    return calls


def test_T1_lower_bound_search_follows_the_seed_and_draws_mean_scale_1(monkeypatch):
    """The search is seeded by the check's seed (the same seed, the same examples; another
    seed, other examples) and every raw encoder has mean scale 1 (docstring)."""
    first, again, other = (_search_encoders(monkeypatch, s, examples=5) for s in (0, 0, 1))
    assert first == again and first != other
    assert [kw["mean_scale"] for _, _, kw in first + other] == [1.0] * 10


def test_T1_lower_bound_search_skips_encoders_it_cannot_whiten():
    """An example whose whitening raises ``LinAlgError`` (``T.whiten`` on a singular
    ``Σ_h``) is discarded by the search, neither counted as a violation nor a crash."""
    def whiten_or_refuse(h):
        if h.n <= 2:
            raise np.linalg.LinAlgError("refused")
        return T.whiten(h)
    r = t1.lower_bound(0, prepare=whiten_or_refuse, examples=20, sweep=0)
    assert r.passed and r.figures["hypothesis_passed"]


def _eps_for(scale, target):
    """The smallest float ``eps`` near ``target * scale`` with ``eps / scale >= target``."""
    e = np.nextafter(np.nextafter(target * scale, -np.inf), -np.inf)
    while e / scale < target:
        e = np.nextafter(e, np.inf)
    return float(e)


@pytest.mark.parametrize("target, passed", [(1e-12, False), (np.nextafter(1e-12, 1), True)])
def test_T1_nonlinear_gap_relative_eps_must_exceed_1e_12_strictly(monkeypatch, target, passed):
    """``eps / (2n(1−ρ)) > 1e-12`` is strict (a rotation has eps = 0 up to rounding): eps set
    per encoder so that ``eps / (2n(1−ρ))`` is the float 1e-12 where one exists (else the
    next float above) fails; one float above passes. ``E_nl`` is set to 1e-300 so that the
    slack ``(eps − 2ρ(1−ρ)E_nl)/(2n(1−ρ))`` stays >= 0 and only this bound decides."""
    monkeypatch.setattr(T, "alignment_excess",
                        lambda h, rho: _eps_for(2 * h.n * (1 - rho), target))
    monkeypatch.setattr(T, "nonlinear_energy", lambda h: 1e-300)
    r = t1.nonlinear_gap(0, encoders=40)
    assert r.figures["min_relative_eps"] == target and r.passed == passed


def test_T1_gaussian_preserving_band_is_closed(monkeypatch):
    """``h`` flips ``z_1`` exactly when ``lo <= |z_1| <= hi`` (docstring): both ends of the
    band flip, the floats just outside do not, and ``z_2`` is left alone."""
    maps, real = [], T.alignment_monte_carlo

    def spy(h, *args, **kwargs):
        maps.append(h)
        return real(h, *args, **kwargs)
    monkeypatch.setattr(T, "alignment_monte_carlo", spy)
    t1.gaussian_preserving_nonlinear(0, size=1000)
    z1 = np.array([0.5, 1.5, -0.5, -1.5, 1.0, np.nextafter(0.5, 0), np.nextafter(1.5, 2), 0.0])
    z = np.column_stack([z1, np.arange(8.0)])
    flipped = z.copy()
    flipped[:5, 0] *= -1
    assert np.array_equal(maps[0](z), flipped)


def test_T1_nonlinear_gap_fails_when_degree_2_encoders_do_not_attain_the_bound(monkeypatch):
    """The constant 2ρ(1−ρ) is sharp: eps 1% above it everywhere keeps every slack >= 0 but
    degree-2 encoders no longer attain the bound, and the check must fail (session 37: it
    said 'no slack to hide in' without testing it)."""
    real = T.alignment_excess
    monkeypatch.setattr(T, "alignment_excess", lambda h, rho: 1.01 * real(h, rho))
    r = t1.nonlinear_gap(0, encoders=200)
    assert r.figures["worst_relative_slack"] >= 0 and not r.passed
    assert r.figures["max_relative_gap_degree2"] > 1e-11
    monkeypatch.setattr(T, "alignment_excess", real)
    assert t1.nonlinear_gap(0, encoders=200).passed


def test_T1_fold_is_exactly_gaussian_and_even():
    z = np.random.default_rng(3).standard_normal(200_000)
    y = t1.fold(z)
    assert np.array_equal(y, t1.fold(-z))
    from scipy import stats
    assert stats.kstest(y, "norm").pvalue > 1e-3
    # the tails keep their precision (Phi^-1(|2 Phi(z) - 1|) loses it at |z| ~ 8)
    assert np.isfinite(t1.fold(np.array([9.0, 30.0]))).all()


def test_T1_negative_rho_scope_passes_and_reports_the_gap():
    r = t1.negative_rho_scope(0)
    assert r.passed and r.figures["ci_upper"] < r.figures["rotation_L"] == 3.0
    assert r.figures["he2_whitened_L_exact"] == pytest.approx(1.5)


@pytest.mark.parametrize("rho", [0.5, 0.2])
def test_T1_negative_rho_scope_fails_at_positive_rho(rho):
    # at rho > 0 T1 holds: the fold is above the rotations, and the check must say so
    r = t1.negative_rho_scope(0, rho=rho, size=100_000)
    assert not r.passed and r.figures["L_monte_carlo"] > r.figures["rotation_L"]


def test_T1_negative_rho_scope_fails_for_a_map_that_is_not_gaussian():
    # |z_1| is even (it beats the rotations at rho = -0.5) but not Gaussian: KS must reject
    r = t1.negative_rho_scope(0, size=100_000,
                              h=lambda z: np.abs(z) - math.sqrt(2 / math.pi))
    assert not r.passed and r.figures["ks_pvalue"] < 1e-3


def test_T1_negative_rho_scope_fails_for_a_rotation():
    r = t1.negative_rho_scope(0, size=100_000, h=lambda z: -z)
    assert not r.passed and abs(r.figures["L_monte_carlo"] - 3.0) < 0.05


def test_T1_rotational_drift_scope_passes_and_reports_the_gap():
    r = t1.rotational_drift_scope(0)
    # every rotation: 2n - 2 rho tr R = 4 exactly at the quarter turn
    assert r.passed and r.figures["rotation_L"] == pytest.approx(4.0, abs=1e-12)
    assert r.figures["ci_upper"] < 2.5       # 2.21 +- 0.005 (seed 0, 400 000 pairs)


def test_T1_angle_fold_is_standard_gaussian_and_turn_blind():
    from scipy import stats
    rng = np.random.default_rng(3)
    z = rng.standard_normal((200_000, 2))
    y = t1.angle_fold(z, 4)
    for j in range(2):
        assert stats.kstest(y[:, j], "norm").pvalue > 1e-3
    assert abs(np.corrcoef(y.T)[0, 1]) < 4 / math.sqrt(len(z))
    quarter = z @ np.array([[0.0, -1.0], [1.0, 0.0]]).T      # the drift's turn, no noise
    assert np.allclose(t1.angle_fold(quarter, 4), y, atol=1e-6)


def test_T1_rotational_drift_scope_fails_without_a_turn():
    # k = 1: R = I, T1's own world, where the rotations are optimal (L = 0.4)
    r = t1.rotational_drift_scope(0, k=1, size=100_000)
    assert not r.passed and r.figures["L_monte_carlo"] > r.figures["rotation_L"]


def test_T1_rotational_drift_scope_fails_for_a_rotation():
    r = t1.rotational_drift_scope(0, size=100_000, h=lambda z: z)
    assert not r.passed and abs(r.figures["L_monte_carlo"] - 4.0) < 0.05


def test_T1_rotational_drift_scope_fails_for_a_map_that_is_not_gaussian():
    # the squared radius and the angle's fold: turn-blind, below the rotations, not Gaussian
    def h(z):
        y = t1.angle_fold(z, 4)
        y[:, 0] = np.sum(z ** 2, axis=1) / 2 - 1
        return y
    r = t1.rotational_drift_scope(0, size=100_000, h=h)
    assert not r.passed and r.figures["ci_upper"] < r.figures["rotation_L"]
    assert r.figures["ks_pvalue_min"] < 1e-3
