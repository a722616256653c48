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
from spies import record_calls_with_generator

_TOL = 1e-12   # closed forms: float rounding of O(n) terms only

rates = st.lists(st.floats(0.02, 0.98), min_size=1, max_size=4)


def test_A1_A2_checks_registered(checks_of):
    assert set(checks_of("A1")) == {"A1.threshold_exact", "A1.whitened_gap",
                                    "A1.approximate_bound", "A1.monte_carlo",
                                    "T3.ingredients"}   # D(h), which A1(c) bounds
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


def test_A1_checks_tell_a_looser_bound_and_a_tie_from_the_right_ones():
    """Session 45 (a trial's mutation test): the pre-session-45 bound, valid but with a
    further 2 delta sum_i (rho_i - min rho) in its numerator, and a criterion that calls an
    exact tie (g = 0) linear-optimal had passed every check."""
    def looser(eps, delta, rho):
        r = np.asarray(rho, dtype=float)
        g, lo = r.min() - r.max() ** 2, r.min()
        B = (eps + 2 * delta * ((1 - lo) * math.sqrt(r.size) + (r - lo).sum())) / (2 * g)
        return T.T3Bound(B, B + (delta + B) ** 2)
    result = C.approximate_bound(0, bound=looser, encoders=50)
    assert not result.passed and result.figures["shrunk_sharp_rel_error"] > 1e-3
    assert result.figures["worst_energy_slack"] > -1e-12      # valid: only the hand value fails
    result = C.threshold_exact(0, threshold=lambda r: A.spectral_gap(r) >= 0, worlds=20)
    assert not result.passed and not result.figures["exact_ties_ok"]
    assert C.threshold_exact(0, worlds=20).figures["exact_ties_ok"]


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


# ---------------------------------------------------------------- full mutation run, session 9
def _first_call_returns(monkeypatch, owner, name, change):
    """``owner.name`` with its first result replaced by ``change(args, result)``."""
    real, calls = getattr(owner, name), []

    def first_changed(*args):
        out = real(*args)
        calls.append(args)
        return change(args, out) if len(calls) == 1 else out
    monkeypatch.setattr(owner, name, first_changed)


@pytest.mark.parametrize("past, passed", [(False, True), (True, False)])
def test_A1_whitened_gap_minimum_slack_exactly_minus_tol_passes(monkeypatch, past, passed):
    """``(L − whitened min)/(2n) >= −1e-12`` is non-strict: the first encoder's loss in the
    arbitrary world set to 0 and its whitened minimum to ``b``, a float found by search with
    ``(0 − b)/(2n)`` the float −1e-12 exactly (passes); one float more (fails)."""
    losses = {"calls": 0}
    real_loss = A.alignment_loss

    def loss(h, rho):
        losses["calls"] += 1                       # per encoder: its own world, then `any`
        return 0.0 if losses["calls"] == 2 else real_loss(h, rho)

    def minimum(args, out):
        two_n, b = 2 * len(args[0]), 2 * len(args[0]) * _TOL
        while (0.0 - b) / two_n != -_TOL:
            b = np.nextafter(b, 0.0 if -b / two_n < -_TOL else 1.0)
        return np.nextafter(b, 1.0) if past else b
    monkeypatch.setattr(A, "alignment_loss", loss)
    _first_call_returns(monkeypatch, A, "whitened_minimum", minimum)
    r = C.whitened_gap(0, encoders=30)
    assert (r.figures["worst_minimum_slack"] == -_TOL) != past
    assert r.figures["worst_gap_slack"] > -_TOL and r.passed == passed


@pytest.mark.parametrize("past, passed", [(False, True), (True, False)])
def test_A1_approximate_bound_deviation_slack_exactly_minus_tol_passes(monkeypatch, past,
                                                                       passed):
    """``bound − D >= −1e-12`` is non-strict: the first encoder's deviation bound set to 0 and
    its ``D`` to the float 1e-12 (slack −1e-12 exactly: passes), or one float more (fails)."""
    d = np.nextafter(_TOL, 1.0) if past else _TOL
    _first_call_returns(monkeypatch, A, "anisotropic_bound",
                        lambda a, out: out._replace(deviation=0.0))
    _first_call_returns(monkeypatch, T, "deviation_from_rotation", lambda a, out: (d, *out[1:]))
    r = C.approximate_bound(0, bound=A.anisotropic_bound, encoders=30)
    assert r.figures["worst_deviation_slack"] == -d
    assert r.figures["worst_energy_slack"] > -_TOL and r.passed == passed


def test_A1_monte_carlo_encoders_are_degree_3_with_unit_scales(monkeypatch):
    """Four encoders, n = 2, 2, 3, 3, each of degree 3 with coefficients its standard normal
    draws times 1 (mean), 1/sqrt(n) (degree 1) or 1/sqrt(M_d) (degree d, M_d indices),
    replayed from a copy of the generator; the z-scores are reported to 2 decimals."""
    made = record_calls_with_generator(monkeypatch, T, "random_encoder")
    r = C.monte_carlo(0, size=2_000)
    assert [h.n for _, h in made] == [2, 2, 3, 3]
    for twin, h in made:
        assert np.array_equal(h.alphas, T.multi_indices(h.n, 3))
        raw, degree = twin.standard_normal(h.coef.shape), h.alphas.sum(axis=1)
        sd = np.where(degree == 0, 1.0, np.where(degree == 1, 1 / math.sqrt(h.n),
                                                 1 / np.sqrt(np.bincount(degree)[degree])))
        assert np.array_equal(h.coef[:, 0], raw[:, 0])
        np.testing.assert_allclose(h.coef, raw * sd, rtol=1e-15)   # x/sqrt(m) vs x*(1/sqrt(m))
    assert all(z == round(z, 2) for z in r.figures["z_scores"])
    assert max(map(abs, r.figures["z_scores"])) == round(r.figures["max_abs_z"], 2)


def test_A2_fold_without_a_quadrature_value_reports_nan_and_z_0():
    r = C.fold_beats_rotations(0, exact=None, size=20_000)
    assert math.isnan(r.figures["L_quadrature"]) and r.figures["quadrature_z"] == 0.0


def test_A1_threshold_exact_fails_when_no_nonlinear_encoder_beats_the_rotations():
    """The nonlinear side of (a): in worlds with g < 0 the harmonic encoder must beat the
    rotations; a 'harmonic' encoder that is the identity does not, and the check fails."""
    r = C.threshold_exact(0, worlds=60,
                          harmonic=lambda rho, theta: T.rotation_encoder(np.eye(len(rho)), 1))
    assert r.figures["nonlinear_worlds"] > 0 and not r.passed
    assert r.figures["nonlinear_worlds_not_below"] == r.figures["nonlinear_worlds"]


def _slowest_indices_by_listing(rho, count=None):
    """The enumeration slowest_indices used before session 43, kept as the reference: every
    α with ρ^α ≥ min ρ, depth first, fully sorted (exponential in n / min ρ)."""
    r = A.check_rhos(rho)
    n = r.size
    count = n if count is None else count
    floor = r.min() * (1 - 1e-12)
    found = []

    def extend(i, alpha, w):
        if i == n:
            if sum(alpha):
                found.append((w, tuple(alpha)))
            return
        k = 0
        while w * r[i] ** k >= floor:
            extend(i + 1, alpha + [k], w * r[i] ** k)
            k += 1

    extend(0, [], 1.0)
    found.sort(key=lambda t: (-t[0], sum(t[1]), tuple(-a for a in t[1])))
    top = found[:count]
    return np.array([a for _, a in top], dtype=int), np.array([w for w, _ in top])


def test_A1_slowest_indices_best_first_equals_the_full_listing():
    """Same multi-indices, same weights bit for bit, same order, ties included: random rates
    and rates drawn from a few values with exact power ties (0.5² = 0.25, 0.8 = 0.8)."""
    rng = np.random.default_rng(43)
    for trial in range(400):
        n = int(rng.integers(1, 5))
        if trial % 2:
            rho = rng.uniform(0.2, 0.9, n)
        else:
            rho = rng.choice([0.25, 0.5, 0.8, 0.64, 0.3], n)
        for count in range(1, n + 1):
            a_new, w_new = A.slowest_indices(rho, count)
            a_old, w_old = _slowest_indices_by_listing(rho, count)
            np.testing.assert_array_equal(a_new, a_old, err_msg=str((rho, count)))
            np.testing.assert_array_equal(w_new, w_old, err_msg=str((rho, count)))


def test_A1_slowest_indices_is_fast_when_min_rho_is_small():
    """The listing took 128 s here (every α with 0.99^|α| ≥ 0.02); best first pops n."""
    import time
    start = time.perf_counter()
    m = A.whitened_minimum((0.99, 0.99, 0.99, 0.02))
    alphas, _ = A.slowest_indices((0.999, 0.998, 0.997, 0.996, 0.01))
    A.sfa_encoder((0.99, 0.99, 0.99, 0.02))
    assert time.perf_counter() - start < 1.0
    assert m == pytest.approx(2 * (3 * 0.01 + (1 - 0.99**2)), abs=_TOL)   # e_1..e_3, 2e_1
    # weights 0.999, 0.999² = 0.998001, 0.998, 0.999³ = 0.997003, 0.999·0.998 = 0.997002
    np.testing.assert_array_equal(alphas[:, :2], [[1, 0], [2, 0], [0, 1], [3, 0], [1, 1]])
    assert not alphas[:, 2:].any()


def test_A1_approximate_bound_refuses_what_t3_bound_refuses():
    """A negative δ was accepted (T3's bound refuses it), NaN ε or δ gave a NaN bound."""
    for eps, delta, what in [(0.1, -0.1, "delta"), (0.1, math.nan, "delta"),
                             (0.1, math.inf, "delta"), (math.nan, 0.1, "eps"),
                             (math.inf, 0.1, "eps"), ("0.1", 0.1, "eps")]:
        for bound in (lambda: A.anisotropic_bound(eps, delta, (0.6, 0.5)),
                      lambda: T.t3_bound(eps, delta, 2, 0.5)):
            with pytest.raises(ValueError, match=f"^{what} "):
                bound()


def test_public_theory_functions_name_bad_arguments():
    """Session 45 (a trial of the theory API): each of these raised a TypeError or an
    IndexError, or returned a number that means nothing (an alignment of 0 for negative
    multi-indices, NaN encoders, a sign-flip value for one coordinate, a dict of NaN)."""
    import pycheck.sfa as S
    from pycheck import worlds as W
    rng = np.random.default_rng(0)
    cases = [
        (lambda: S.sfa_excess_independent([0.5], [0.2], 100), "rho must be a real number"),
        (lambda: S.sfa_excess_independent("0.5", [0.2], 100), "rho must be a real number"),
        (lambda: S.sfa_excess_independent(0.5, ["a"], 100), "junk autocorrelations must be "
                                                           "real numbers"),
        (lambda: W.gennorm_pairs(10, 2, "2", 0.5, rng), "alpha must be a real number"),
        (lambda: W.gennorm_pairs(10, 2, np.array([2.0]), 0.5, rng), "alpha must be a real"),
        (lambda: W.gaussian_to_gennorm(np.ones(2), True), "alpha must be a real number"),
        (lambda: A.sign_flip_exact_alignment([0.5]), "needs n >= 2"),
        (lambda: A.weights(np.array([1, 0]), [0.5, 0.5]), "alphas must be a 2-D array"),
        (lambda: A.weights(np.array([[1.0, 0.0]]), [0.5, 0.5]), "non-negative integer"),
        (lambda: T.rotation_encoder(np.ones(3)), "Q must be a matrix"),
        (lambda: A.slowest_indices([0.5, 0.4], 2.5), "count must be an integer in [1, 2]"),
        (lambda: A.slowest_indices([0.5, 0.4], 3), "count must be an integer in [1, 2]"),
        (lambda: A.sharp_encoder([0.5, 0.4], math.nan), "theta must be finite"),
        (lambda: A.sharp_encoder([0.5, 0.4], "1"), "theta must be a real number"),
        (lambda: A.gaussian_map_search([0.9, 0.5], 0, rng), "size must be an integer in [2,"),
        (lambda: T.PolyEncoder(np.ones((1, 2)), np.array([[0], [-1]])), "with negative entries"),
        (lambda: T.PolyEncoder(np.ones((1, 2)), np.array([[0.0], [1.0]])), "dtype float64"),
        (lambda: T.PolyEncoder(np.array([[1.0, np.nan]]), np.array([[0], [1]])),
         "non-finite entries"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=None) as err:
            call()
        assert message in str(err.value), (message, str(err.value))
    # what stays valid
    assert A.slowest_indices([0.5, 0.4], np.int64(2))[0].shape == (2, 2)
    assert A.sign_flip_exact_alignment([0.9, 0.5]) > 0
    assert np.isfinite(A.sharp_encoder([0.5, 0.4], np.float32(0.3)).coef).all()
    T.rotation_encoder(np.eye(2).tolist())


def test_A2_conditional_rearrangement_fails_when_the_pairs_are_not_the_stated_world(monkeypatch):
    """Its excess test is one-sided (a proved inequality), so it passed with uniform latents in
    the pair sampler (session 48, a user's mutation trial); the sign-flip map's exact alignment
    on the same pairs now sees them."""
    from pycheck import anisotropic as A
    from pycheck.checks import anisotropic as C

    def uniform_pairs(n, rho, rng):
        r = np.asarray(rho, dtype=float)
        z = rng.uniform(-math.sqrt(3), math.sqrt(3), (int(n), r.size))
        return z, r * z + np.sqrt(1 - r * r) * rng.standard_normal(z.shape)
    assert C.conditional_rearrangement(0, size=50_000).passed
    monkeypatch.setattr(A, "anisotropic_ou_pairs", uniform_pairs)
    r = C.conditional_rearrangement(0, size=50_000)
    assert not r.passed and r.figures["sign_flip_max_abs_z"] > 4
