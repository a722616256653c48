"""Each check's verdict exactly at its tolerance (issue #17, session 8).

The contract of every tolerance is non-strict, as the ``tolerance`` text of each result
states it: an error passes when it is ``<= tol``, a slack when it is ``>= -tol``, a power
when it is ``>= min_power``. A mutant that makes one comparison strict (``<=`` → ``<``)
or flips it the other way (``<=`` → ``>``) differs from the check only when a figure sits
exactly on its tolerance, which a continuous figure never does by chance. So the tolerance is
moved onto the figure: the check is run once, the tolerance (a keyword argument, or the
module constant it reads) is set to the figure the run reported (the largest one, where
one tolerance bounds several figures), and the same seed must pass; one float further
(``numpy.nextafter``) it must fail. The run is deterministic, so the figures are the same.
"""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from pycheck import anisotropic as A
from pycheck.checks import anisotropic as check_a
from pycheck.checks import hermite, t1, t2


def _error(figure):
    return lambda r: r.figures[figure]


def _slack(*figures):
    """The tolerance at which the smallest of these slacks sits exactly on ``>= -tol``."""
    return lambda r: -min(r.figures[f] for f in figures)


# (check, keyword arguments, where the tolerance lives, the tolerance at which the check sits
# exactly on its boundary); every case reads "passes iff binding <= tol"
CASES = [
    # hypothesis only (sweep=0): the worst slack is an example's, checked by its `assert`
    (t1.lower_bound, {"examples": 20, "sweep": 0}, (t1, "_LOWER_TOL"),
     _slack("worst_relative_slack")),
    (t1.lower_bound, {"examples": 1, "sweep": 40}, (t1, "_LOWER_TOL"),
     _slack("worst_relative_slack")),
    (t1.lower_bound, {"examples": 5, "sweep": 20}, (t1, "_FEASIBLE_TOL"),
     _error("max_infeasibility")),
    (t1.rotation_equality, {}, "rel_tol", _error("max_rel_error")),
    (t1.rotation_equality, {}, (t1, "_FEASIBLE_TOL"), _error("max_whitening_residual")),
    (t1.nonlinear_gap, {"encoders": 40}, (t1, "_FEASIBLE_TOL"), _error("max_infeasibility")),
    (t1.rotation_invariance, {}, "tol", _error("max_abs_moment")),
    (hermite.hermite_quadrature, {}, "tol", _error("max_abs_error")),
    (hermite.alignment_identity, {"size": 2_000}, "z_max", _error("max_abs_z")),
    (hermite.alignment_identity, {"size": 2_000}, "rel_tol", _error("max_rel_error_quadrature")),
    (hermite.mehler_monte_carlo, {"size": 5_000}, "z_max", _error("max_abs_z")),
    (hermite.first_chaos, {}, "tol", _error("max_rel_error")),
    (check_a.threshold_exact, {"worlds": 40}, (check_a, "_TOL"),
     lambda r: max(abs(r.figures["L_closed_form"] - 0.58),
                   abs(A.whitened_minimum([0.9, 0.5]) - 0.58), r.figures["max_minimum_error"])),
    (check_a.whitened_gap, {"encoders": 30}, (check_a, "_TOL"),
     _slack("worst_gap_slack", "worst_minimum_slack")),
    (check_a.approximate_bound, {"encoders": 30}, (check_a, "_TOL"),
     lambda r: max(-r.figures["worst_energy_slack"], -r.figures["worst_deviation_slack"],
                   r.figures["isotropic_rel_error"])),
]


def _run(check, kwargs, where, tol, monkeypatch):
    if isinstance(where, str):
        return check(0, **kwargs, **{where: tol})
    monkeypatch.setattr(*where, tol)
    return check(0, **kwargs)


@pytest.mark.parametrize("check, kwargs, where, binding", CASES,
                         ids=[f"{c.__name__}-{w if isinstance(w, str) else w[1]}"
                              for c, _, w, _ in CASES])
def test_a_figure_exactly_at_its_tolerance_passes_and_one_float_past_fails(
        check, kwargs, where, binding, monkeypatch):
    first = check(0, **kwargs)
    assert first.passed
    at = binding(first)
    assert math.isfinite(at)
    on = _run(check, kwargs, where, at, monkeypatch)
    assert binding(on) == at and on.passed
    past = _run(check, kwargs, where, np.nextafter(at, -np.inf), monkeypatch)
    assert binding(past) == at and not past.passed


def test_T2_power_exactly_at_the_minimum_passes_and_one_float_above_fails():
    """``power >= min_power``: the least power of the three latents is the binding one."""
    kwargs = {"reps": 40, "size": 2_000}
    worst = min(t2.normality_test_power(0, **kwargs).figures["power"].values())
    assert 0 < worst < 1
    assert t2.normality_test_power(0, **kwargs, min_power=worst).passed
    assert not t2.normality_test_power(0, **kwargs,
                                       min_power=np.nextafter(worst, np.inf)).passed


# ---------------------------------------------------------------- thresholds written in the body
# Where the tolerance is a literal of the check, the figure is moved onto it instead: a spy
# returns the exact quantities except one, which is set so that the figure equals the literal
# in floating point (or lies just past it).
def test_T3_random_polynomials_slack_of_exactly_minus_1e_9_is_not_a_violation(monkeypatch):
    """A violation is a relative slack ``< -1e-9``: with ``B = 0`` the energy slack is
    ``-E_nl`` exactly, so ``E_nl = 1e-9`` sits on the boundary (and ``D = 0`` keeps the
    deviation slack positive)."""
    from pycheck import theory as T
    from pycheck.checks import t3
    exact, count = T.t3_quantities, {"n": 0}

    def on_the_boundary(h, rho):
        q = exact(h, rho)
        count["n"] += 1
        if count["n"] == 1:
            return q._replace(nonlinear_energy=1e-9, deviation=0.0,
                              bound=q.bound._replace(energy=0.0))
        return q
    monkeypatch.setattr(T, "t3_quantities", on_the_boundary)
    r = t3.bound_random_polynomials(0, per_family=4)
    assert r.figures["worst_relative_slack_energy"] == -1e-9
    assert r.figures["violations"] == 0 and r.passed


def _tightness_with(monkeypatch, change, steps=24):
    """``bound_tightness`` with ``change(k, q, path)`` applied to the quantities of step
    ``k`` of its path (the extremal family is left exact)."""
    from pycheck import theory as T
    from pycheck.checks import t3
    exact, path = T.t3_quantities, []

    def changed(h, rho):
        q = exact(h, rho)
        if len(path) < steps:
            q = change(len(path), q, path)
            path.append(q)
        return q
    monkeypatch.setattr(T, "t3_quantities", changed)
    return t3.bound_tightness(0, steps=steps)


def test_T3_tightness_fails_when_the_bound_stalls_at_one_step(monkeypatch):
    """Strict decrease of the bound: at the last step the bound equals the one before (D
    stays below it, |eps| + delta still decreases), so only ``< 0`` is broken."""
    r = _tightness_with(monkeypatch, lambda k, q, path: q._replace(
        bound=q.bound._replace(deviation=path[-1].bound.deviation)) if k == 23 else q)
    assert r.figures["final_bound"] < 1e-5 and r.figures["final_abs_eps_plus_delta"] < 1e-5
    assert not r.passed


def test_T3_tightness_allows_D_within_1e_9_of_the_bound(monkeypatch):
    """``D <= bound (1 + 1e-9)``: D set 5e-10 above the bound at one step is rounding."""
    r = _tightness_with(monkeypatch, lambda k, q, path: q._replace(
        deviation=q.bound.deviation * (1 + 5e-10)) if k == 12 else q)
    assert r.passed


def test_T3_tightness_fails_when_the_final_bound_is_2e_5(monkeypatch):
    """The bound must end below 1e-5: 2e-5 added to every bound of the path keeps it
    strictly decreasing and above D, so only the end point is wrong."""
    r = _tightness_with(monkeypatch, lambda k, q, path: q._replace(
        bound=q.bound._replace(deviation=q.bound.deviation + 2e-5)))
    assert 2e-5 < r.figures["final_bound"] < 3e-5              # 2e-5 + the true 3.4e-6
    assert r.figures["final_abs_eps_plus_delta"] < 1e-5 and not r.passed


def test_T3_tightness_ratio_boundary_is_unreachable_in_floats():
    """``|E_nl/B - 1| < 1e-9`` against ``<= 1e-9`` (an equivalent mutant): for a ratio in
    [1/2, 2] the difference ``r - 1`` is exact (Sterbenz) and a multiple of 2^-53, while the
    float 1e-9 is not, so the figure can never equal the tolerance."""
    from fractions import Fraction
    assert (Fraction(1e-9) * 2**53).denominator != 1


def _plans(monkeypatch, values):
    """``t4.plan`` returning ``values[i]`` (value, plan) on its i-th call, and a default
    beyond them."""
    from pycheck.checks import t4
    calls = {"n": 0}

    def fake(*args):
        i = calls["n"]
        calls["n"] += 1
        return values[i] if i < len(values) else (1.0, (0, 0, 0, 0))
    monkeypatch.setattr(t4, "plan", fake)


def test_T4_counterexample_needs_a_value_change_above_1e_6(monkeypatch):
    """A difference counts when the value changes by more than 1e-6 relative: values 1e6
    and 1e6 + 1 differ by exactly 1e-6 (1/1e6 rounds to the float 1e-6), with one plan
    changed, so the check must fail; 1e6 + 2 (2e-6) must pass and report 2e-6."""
    from pycheck.checks import t4
    same, other = (0, 0, 0, 0), (1, 0, 0, 0)
    _plans(monkeypatch, [(1e6, same), (1e6 + 1, other)])
    r = t4.dp_nonorthogonal_counterexample(0, problems=3)
    assert r.figures["max_rel_value_diff"] == 1e-6 and r.figures["plans_changed"] == 1
    assert not r.passed
    _plans(monkeypatch, [(1e6, same), (1e6 + 2, other)])
    r = t4.dp_nonorthogonal_counterexample(0, problems=3)
    assert r.figures["max_rel_value_diff"] == 2e-6 and r.figures["plans_changed"] == 1
    assert r.passed


def test_A2_fold_margin_is_four_standard_errors(monkeypatch):
    """``excess + 4 se < 0``: an excess of -4.5 se beats the rotations, -3.5 se does not
    (the fold's Monte Carlo L, and so its quadrature z, unchanged)."""
    real = A.gaussian_map_search

    def excess_at(z):
        def search(*args, **kwargs):
            out = real(*args, **kwargs)
            L, L_se, _, ex_se = out["map"]
            out["map"] = (L, L_se, -z * ex_se, ex_se)
            return out
        return search
    monkeypatch.setattr(A, "gaussian_map_search", excess_at(4.5))
    assert check_a.fold_beats_rotations(0, size=20_000).passed
    monkeypatch.setattr(A, "gaussian_map_search", excess_at(3.5))
    assert not check_a.fold_beats_rotations(0, size=20_000).passed


def test_T2_projection_identity_must_hold_in_both_dimensions():
    """A prediction right for n = 2 and wrong for n = 3 (an extra ``κ u1 u2 u3``, zero in
    two dimensions) must fail the identity figure, not only the Monte Carlo."""
    def predicted(kappa, u):
        return t2._sum4(kappa, u) + (kappa * u[0] * u[1] * u[2] if len(u) >= 3 else 0)
    assert t2._projection_identity(2, predicted) and not t2._projection_identity(3, predicted)
    r = t2.gennorm_projection_kurtosis(0, predicted=predicted)
    assert r.figures["identity_n2_n3"] is False and not r.passed


def _kstest_with_pvalue(monkeypatch, p):
    """``scipy.stats.kstest`` returning the p-value ``p`` (statistic as computed)."""
    from scipy import stats
    real = stats.kstest

    def fixed(*args, **kwargs):
        return SimpleNamespace(statistic=real(*args, **kwargs).statistic, pvalue=p)
    monkeypatch.setattr(stats, "kstest", fixed)


@pytest.mark.parametrize("check, level", [(t1.gaussian_preserving_nonlinear, 5e-4),
                                          (check_a.fold_beats_rotations, 2.5e-4),
                                          (check_a.conditional_rearrangement, 2.5e-4)])
def test_a_KS_p_value_on_the_level_is_feasible(monkeypatch, check, level):
    """Feasibility is ``KS p >= level`` (5e-4 for T1's one statistic since session 46, its
    four z-tests taking the rest of 1e-3; 2.5e-4 for A2's four since session 36): on the boundary the check passes, one float below it fails (every
    other figure is the true one)."""
    _kstest_with_pvalue(monkeypatch, level)
    assert check(0, size=20_000).passed
    _kstest_with_pvalue(monkeypatch, np.nextafter(level, 0))
    assert not check(0, size=20_000).passed


def test_T2_singular_covariance_boundary_is_1e_12_relative(monkeypatch):
    """(b) needs the smallest eigenvalue of Cov(Az + b) to be <= 1e-12 of the largest:
    eigenvalues (1e-12, 1) sit on the boundary and pass, (2e-12, 1) fail."""
    for ratio, passed in ((1e-12, True), (2e-12, False)):
        monkeypatch.setattr(np.linalg, "eigvalsh", lambda S, r=ratio: np.array([r, 1.0]))
        r = t2.affine_pushforward(0, draws=20)
        assert r.figures["max_relative_min_eigenvalue"] == ratio and r.passed == passed


# Monte-Carlo margins: the spy returns dyadic values (exact in floating point), so that a
# z-score or a confidence limit lands exactly on the check's literal.
def _series_and_monte_carlo(monkeypatch, L_mc, L_exact, e_nl, se=0.125):
    from pycheck import theory as T
    monkeypatch.setattr(T, "alignment_monte_carlo", lambda *a, **k: (L_mc, se))
    monkeypatch.setattr(t1, "_band_map_l2", lambda *a: (L_exact, e_nl))
    return t1.gaussian_preserving_nonlinear(0, size=20_000)        # n = 2, rho = 1/2: bound 2


def test_T1_gaussian_preserving_monte_carlo_within_4_se_of_the_series(monkeypatch):
    """|z| <= 4 between Monte Carlo and the series: z = 0.5 / 0.125 = 4 exactly passes (the
    gap inequality at its equality case), one ulp further fails."""
    L = 2.0 + 2**-10
    r = _series_and_monte_carlo(monkeypatch, L + 0.5, L, 2**-9)
    assert r.figures["z_mc_vs_exact"] == 4.0 and r.passed
    r = _series_and_monte_carlo(monkeypatch, L + 0.5, np.nextafter(L, 0), 2**-9)
    assert not r.passed


def test_T1_gaussian_preserving_CI_must_lie_strictly_above_the_bound(monkeypatch):
    """L_MC - 4 se > 2n(1-rho): a lower end exactly at the bound 2 fails."""
    r = _series_and_monte_carlo(monkeypatch, 2.5, 2.25, 0.0)
    assert r.figures["ci_lower"] == r.figures["bound_2n(1-rho)"] == 2.0 and not r.passed
    assert _series_and_monte_carlo(monkeypatch, 2.5 + 2**-20, 2.25, 0.0).passed


def _fold_with(monkeypatch, map_result, sign_flip, quadrature=1.0):
    """``fold_beats_rotations`` with its Monte Carlo replaced by ``(L, se, excess, se)``
    tuples and the exact sign-flip and fold values set to ``quadrature``."""
    monkeypatch.setattr(A, "gaussian_map_search",
                        lambda *a, **k: {"map": map_result, "sign_flip": sign_flip})
    monkeypatch.setattr(A, "sign_flip_exact_alignment", lambda rho: 1.0)
    return check_a.fold_beats_rotations(0, size=20_000, exact=lambda rho: quadrature)


@pytest.mark.parametrize("map_result, sign_flip, passed", [
    ((1.5, 0.125, -1.0, 0.125), (1.5, 0.125, 0, 0), True),        # both z exactly 4
    ((1.5, 0.125, -1.0, 0.125), (1.5 + 2**-40, 0.125, 0, 0), False),
    ((1.5 + 2**-40, 0.125, -1.0, 0.125), (1.5, 0.125, 0, 0), False),
    ((1.5, 0.125, -0.5, 0.125), (1.5, 0.125, 0, 0), False),       # excess + 4 se = 0
    ((1.5, 0.125, -0.5 - 2**-40, 0.125), (1.5, 0.125, 0, 0), True),
])
def test_A2_fold_z_scores_and_margin_at_their_literals(monkeypatch, map_result, sign_flip,
                                                        passed):
    """|z| <= 4 against the exact sign-flip and quadrature values, excess + 4 se < 0
    (strictly): z = 0.5 / 0.125 and -0.5 + 4 * 0.125 are exact."""
    assert _fold_with(monkeypatch, map_result, sign_flip).passed == passed


def test_A2_conditional_excess_of_exactly_minus_4_se_passes(monkeypatch):
    """The excess at -4 se exactly passes, a hair below fails; the sign-flip sanity at
    |z| = 4 exactly passes, a hair above fails (its value is each world's exact one + 0.5)."""
    exact = A.sign_flip_exact_alignment
    for excess, sf_se, passed in ((-0.5, 0.125, True), (-0.5 - 2**-40, 0.125, False),
                                  (-0.25, 0.125, True), (-0.25, 0.125 - 2**-40, False)):
        monkeypatch.setattr(A, "gaussian_map_search", lambda rho, *a, ex=excess, sf=sf_se, **k: {
            "map": (1.0, 0.1, ex, 0.125), "sign_flip": (exact(rho) + 0.5, sf, 0.0, 0.0)})
        r = check_a.conditional_rearrangement(0, size=20_000)
        assert r.figures["min_excess_z"] == excess / 0.125 and r.passed == passed


def test_T2_gaussian_positive_case_binomial_p_of_exactly_5e_4_passes(monkeypatch):
    from scipy import stats
    for p, passed in ((5e-4, True), (np.nextafter(5e-4, 0), False)):
        monkeypatch.setattr(stats, "binomtest", lambda *a, p=p: SimpleNamespace(pvalue=p))
        assert t2.gaussian_positive_case(0, reps=20, size=100).passed == passed


def test_T3_whitened_corollary_boundaries(monkeypatch):
    """A violation is a relative excess > 1e-9 and the hypothesis is delta <= 1e-9: with
    eps = 0 (so B = 0) and D = 1e-9 the slack is -1e-9 exactly, and delta = 1e-9, so the
    check passes on both boundaries; delta one float above 1e-9 fails."""
    from pycheck import theory as T
    from pycheck.checks import t3
    exact = T.t3_quantities
    for delta, passed in ((1e-9, True), (np.nextafter(1e-9, 1), False)):
        first = {"done": False}

        def boundary(h, rho, delta=delta):
            q = exact(h, rho)
            if first["done"]:
                return q
            first["done"] = True
            return q._replace(eps=0.0, deviation=1e-9, delta=delta)
        monkeypatch.setattr(T, "t3_quantities", boundary)
        r = t3.whitened_corollary(0, count=20)
        assert r.figures["min_rel_slack"] == -1e-9 and r.figures["max_delta"] == delta
        assert r.figures["violations"] == 0 and r.passed == passed


def test_T3_extremal_ratio_must_exceed_0_999(monkeypatch):
    """D / bound on the extremal family must end strictly above 0.999: the last ratio set to
    0.999 exactly (still increasing from the one before, 0.995) fails."""
    from pycheck import theory as T
    from pycheck.checks import t3
    exact, count = T.t3_quantities, {"n": 0}

    def last_at(h, rho):
        q = exact(h, rho)
        count["n"] += 1
        if count["n"] == 24 + 4:
            return q._replace(deviation=0.999, bound=q.bound._replace(deviation=1.0))
        return q
    monkeypatch.setattr(T, "t3_quantities", last_at)
    r = t3.bound_tightness(0)
    assert r.figures["extremal_D_over_bound"][-1] == 0.999 and not r.passed


def test_T3_extremal_eps_must_be_below_1e_12(monkeypatch):
    from pycheck import theory as T
    from pycheck.checks import t3
    exact, count = T.t3_quantities, {"n": 0}

    def eps_at(h, rho):
        q = exact(h, rho)
        count["n"] += 1
        return q._replace(eps=1e-12) if count["n"] == 24 + 2 else q
    monkeypatch.setattr(T, "t3_quantities", eps_at)
    assert not t3.bound_tightness(0).passed


def test_T4_conjugacy_residual_of_exactly_1e_12_passes(monkeypatch):
    from pycheck.checks import t4
    for residual, passed in ((1e-12, True), (np.nextafter(1e-12, 1), False)):
        monkeypatch.setattr(t4, "conjugacy_residual", lambda *a, r=residual: r)
        r = t4.dp_rotation_invariance(0, problems=6)
        assert r.figures["conjugacy_residual"] == residual and r.passed == passed


def _t4_values(monkeypatch, *, dq=0.0, d_orbit=0.0, d_brute=0.0, gap=1e6, V=1e12):
    """T4's planner and brute force with chosen values, the plans the true DP's: every
    problem's optimal value is ``V``, its conjugate's ``V + dq``; brute force finds the DP's
    plan at ``V + d_brute`` and every other sequence at ``V + gap``; the Q-orbit problem
    has values ``V`` and ``V + d_orbit``. With ``V = 1e12`` the relative figures are
    correctly rounded quotients of integers: ``100 / 1e12`` is the float 1e-10."""
    from pycheck.checks import t4
    real_plan, calls, last = t4.plan, {"n": 0}, {}

    def plan(*args):
        _, pol = real_plan(*args)
        calls["n"] += 1
        if calls["n"] % 2:                             # P of a problem, or the orbit's P
            last["pol"] = pol
            return V, pol
        return V + (d_orbit if calls["n"] > 2 * problems else dq), pol

    def costs(s0, goal, actions, horizon, lam):
        out = np.full(len(actions) ** horizon, V + gap)
        out[np.ravel_multi_index(last["pol"], (len(actions),) * horizon)] = V + d_brute
        return out
    problems = 6
    monkeypatch.setattr(t4, "plan", plan)
    monkeypatch.setattr(t4, "sequence_costs", costs)
    return t4.dp_rotation_invariance(0, problems=problems)


@pytest.mark.parametrize("values, passed", [
    ({"dq": 100.0, "d_orbit": 100.0, "d_brute": 1.0, "gap": 1e5}, True),   # all on the edge
    ({"dq": 101.0}, False),                      # values equal to 1e-10 relative
    ({"d_orbit": 101.0}, False),                 # the Q-orbit problem likewise
    ({"d_brute": 2.0}, False),                   # DP = brute force to 1e-12
    ({"gap": 1e4}, False),                       # optimum unique by a margin > 1e-8 (strict)
])
def test_T4_tolerances_at_their_literals(monkeypatch, values, passed):
    r = _t4_values(monkeypatch, **values)
    assert r.passed == passed
    assert r.figures["max_rel_value_diff"] == values.get("dq", 0.0) / 1e12
    assert r.figures["dp_vs_brute_force"] == values.get("d_brute", 0.0) / 1e12


@pytest.mark.parametrize("term", ["closed_form", "minimum"])
def test_A1_counterexample_values_at_the_tolerance(monkeypatch, term):
    """Each of the two closed-form values at rho = (0.9, 0.5) must be within _TOL of 0.58
    (non-strict): one of them moved by 2^-30 (far above the rounding of the other figures)
    passes with _TOL set to its error and fails one float below."""
    real_loss, real_min = A.alignment_loss, A.whitened_minimum
    if term == "closed_form":
        monkeypatch.setattr(A, "alignment_loss", lambda h, rho: real_loss(h, rho) + 2**-30)
        error = abs(real_loss(A.sfa_encoder([0.9, 0.5]), [0.9, 0.5]) + 2**-30 - 0.58)
        kwargs = {}
    else:
        kwargs = {"minimum": lambda rho: real_min(rho) + (2**-30 if list(rho) == [0.9, 0.5]
                                                          else 0.0)}
        error = abs(real_min([0.9, 0.5]) + 2**-30 - 0.58)
    for tol, passed in ((error, True), (np.nextafter(error, 0), False)):
        monkeypatch.setattr(check_a, "_TOL", tol)
        assert check_a.threshold_exact(0, worlds=20, **kwargs).passed == passed


def test_T2_gennorm_exact_values_must_match_the_closed_form_to_1e_40():
    """An exponent off by 1e-12 (except at alpha = 2, which stays Gaussian) moves every
    excess kurtosis by ~1e-12: inside scipy's 1e-9 comparison, far outside the symbolic
    1e-40, so only the closed-form comparison catches it."""
    import sympy as sp
    r = t2.gennorm_projection_kurtosis(0, exponent=lambda a: a + (a - 2) / sp.Integer(10)**12)
    assert r.figures["excess_kurtosis"]["2"] == 0 and r.figures["identity_n2_n3"]
    assert not r.passed


@pytest.mark.parametrize("z, passed", [(3.5, True), (4.5, False), (-4.5, False)])
def test_T2_gennorm_monte_carlo_z_threshold_is_4(monkeypatch, z, passed):
    """The Laplace law's predicted kurtosis is moved so that its Monte-Carlo z-score is
    ``z`` (the uniform's stays true): |z| <= 4 passes, 4.5 fails."""
    from scipy import stats
    batches = _spy_kurtosis(monkeypatch, stats)

    def predicted(kappa, u):
        if not isinstance(u, np.ndarray) or kappa != 3.0:
            return t2._sum4(kappa, u)
        k = batches[-1]
        return k.mean() - z * k.std(ddof=1) / math.sqrt(20)
    r = t2.gennorm_projection_kurtosis(0, predicted=predicted)
    assert r.figures["mc_z_scores"][0] == pytest.approx(z, rel=1e-9) and r.passed == passed


def _spy_kurtosis(monkeypatch, stats):
    outputs, real = [], stats.kurtosis

    def spy(*args, **kwargs):
        outputs.append(real(*args, **kwargs))
        return outputs[-1]
    monkeypatch.setattr(stats, "kurtosis", spy)
    return outputs


@pytest.mark.parametrize("law, value, passed", [
    ("laplace", 3 + 2**-40, True), ("laplace", 3 + 2**-39, False), ("laplace", 3 - 2**-39, False),
    ("uniform", -1.2 - 2**-40, True), ("uniform", -1.2 + 2**-39, False),
])
def test_T2_scipy_kurtosis_compared_to_1e_12(monkeypatch, law, value, passed):
    """scipy's excess kurtosis of each law must equal the exact value to 1e-12: 2^-40
    (9e-13) is rounding, 2^-39 (1.8e-12) is a wrong value."""
    from scipy import stats
    monkeypatch.setattr(getattr(stats, law), "stats", lambda moments: value)
    assert t2.laplace_uniform_kurtosis(0).passed == passed


# ---------------------------------------------------------------- after reading the held-out
# samples of session 8
def test_T2_gennorm_scipy_comparison_is_1e_9(monkeypatch):
    """scipy's gennorm kurtosis off by 1e-6 (the exact values untouched) must fail."""
    from scipy import stats
    real = stats.gennorm

    class Off:
        def __init__(self, *args, **kwargs):
            self.frozen = real(*args, **kwargs)

        def stats(self, moments):
            return self.frozen.stats(moments=moments) + 1e-6
    monkeypatch.setattr(stats, "gennorm", Off)
    assert not t2.gennorm_projection_kurtosis(0).passed


def test_A1_approximate_bound_deviation_slack_of_zero_passes(monkeypatch):
    """D equal to its bound on every encoder (slack exactly 0 >= -_TOL) passes."""
    from pycheck import theory as T
    last = {}

    def bound(eps, delta, rho):
        last["b"] = A.anisotropic_bound(eps, delta, rho)
        return last["b"]
    monkeypatch.setattr(T, "deviation_from_rotation", lambda h: (last["b"].deviation, None))
    r = check_a.approximate_bound(0, bound=bound, encoders=20)
    assert r.figures["worst_deviation_slack"] == 0.0 and r.passed


def test_A1_approximate_bound_energy_slack_exactly_at_minus_tol_passes(monkeypatch):
    """``worst_e >= -_TOL`` is non-strict: E_nl raised 1e-3 above B on every encoder makes
    the energy slack the binding figure; ``_TOL`` set to exactly its negation passes, and
    one float less fails (the deviation slack and the isotropic error stay far inside)."""
    from pycheck import theory as T
    last = {}

    def bound(eps, delta, rho):
        last["b"] = A.anisotropic_bound(eps, delta, rho)
        return last["b"]
    monkeypatch.setattr(T, "nonlinear_energy", lambda h: last["b"].energy + 1e-3)
    first = check_a.approximate_bound(0, bound=bound, encoders=20)
    at = -first.figures["worst_energy_slack"]
    assert not first.passed and 0.5e-3 < at < 2e-3
    assert first.figures["worst_deviation_slack"] > -1e-12
    monkeypatch.setattr(check_a, "_TOL", at)
    on = check_a.approximate_bound(0, bound=bound, encoders=20)
    assert on.figures["worst_energy_slack"] == -at and on.passed
    monkeypatch.setattr(check_a, "_TOL", math.nextafter(at, 0.0))
    assert not check_a.approximate_bound(0, bound=bound, encoders=20).passed


def test_T1_gaussian_preserving_gap_at_equality_in_floating_point_passes(monkeypatch):
    """eps >= 2rho(1-rho) E_nl (1 - 1e-9) holds with equality: E_nl = 4.376048033015854 and
    L = 4.188024014319903 (found by a search) make both sides the same float, which the
    first assertion confirms; the Monte Carlo sits on the series (z = 0)."""
    e_nl, L = 4.376048033015854, 4.188024014319903
    assert L - 2.0 == 2 * 0.5 * (1 - 0.5) * e_nl * (1 - 1e-9)
    r = _series_and_monte_carlo(monkeypatch, L, L, e_nl)
    assert r.figures["z_mc_vs_exact"] == 0.0 and r.passed


def test_T3_tightness_final_bound_of_exactly_1e_5_fails(monkeypatch):
    """The bound must end strictly below 1e-5: the path's bounds raised (still decreasing,
    still above D) so that the last one is the float 1e-5 exactly."""
    steps = 24

    def raise_bound(k, q, path):
        new = 1e-5 if k == steps - 1 else q.bound.deviation + 1e-5 * (steps - k)
        return q._replace(bound=q.bound._replace(deviation=new))
    r = _tightness_with(monkeypatch, raise_bound, steps)
    assert r.figures["final_bound"] == 1e-5 and not r.passed


def test_A2_fold_quadrature_value_equal_to_the_rotations_fails(monkeypatch):
    """The fold must be strictly below every rotation's 2 sum(1 - rho): a quadrature value
    equal to it fails, however the Monte Carlo looks."""
    rot = A.rotation_alignment((0.95, 0.5))
    r = _fold_with(monkeypatch, (rot + 0.25, 0.125, -1.0, 0.125), (1.5, 0.125, 0, 0),
                   quadrature=rot)
    assert r.figures["L_quadrature"] == r.figures["L_rotation"] and not r.passed


@pytest.mark.parametrize("z, passed", [(4.4, True), (4.6, False)])
def test_A1_monte_carlo_z_threshold_is_4_5(monkeypatch, z, passed):
    """The closed form of the first encoder moved to ``mean - z se`` of its own pairs
    (recomputed from the spied draws; se exact, from the quadrature moments): |z| <= 4.5
    passes, 4.6 fails."""
    pairs, real, size = [], A.anisotropic_ou_pairs, 110_000
    monkeypatch.setattr(A, "anisotropic_ou_pairs",
                        lambda *a: pairs.append(real(*a)) or pairs[-1])
    first = {"done": False}

    def loss(h, rho):
        if first["done"]:
            return A.alignment_loss(h, rho)
        first["done"] = True
        from pycheck.checks.hermite import _alignment_moments
        v = np.concatenate([((h(zn) - h(z0)) ** 2).sum(1) for z0, zn in pairs])
        m1, m2 = _alignment_moments(h, rho)
        return v.mean() - z * math.sqrt((m2 - m1 * m1) / size)
    r = check_a.monte_carlo(0, loss=loss, size=size)
    assert r.figures["z_scores"][0] == pytest.approx(z, abs=0.01) and r.passed == passed


def test_T4_straight_line_decode_fails_with_a_wrong_decode(monkeypatch):
    """The straight-line part alone (session 45: it runs the experiments' planner): a decoder
    that returns the bank's first item for one interior waypoint (off the segment) leaves
    the planning problems exact and fails the 1e-12 tolerance by far."""
    from pycheck import planning as P
    from pycheck.checks import t4
    real = P.decode_plans

    def off_by_one(h_bank, plans):
        idx = real(h_bank, plans)
        idx[0, 5] = 0
        return idx
    monkeypatch.setattr(P, "decode_plans", off_by_one)
    r = t4.dp_rotation_invariance(0, problems=6)
    assert r.figures["max_rel_value_diff"] <= 1e-10 and r.figures["orbit_permutation_ok"]
    assert r.figures["straight_line_error"] > 1e-3 and not r.passed


# ---------------------------------------------------------------- session 8, second pass:
# the literals the first pass reached only just past them
def _gaussian_preserving_on(monkeypatch, column1, size):
    """``gaussian_preserving_nonlinear`` whose feasibility sample ``z`` is crafted: column 0
    alternates ±1 (flipped by the band map to ∓1: mean 0, variance 1), column 1 is
    ``column1`` (outside the band's column, so ``h`` keeps it). KS p is set to 1 and the Monte
    Carlo to 3 ± 0.125 on an exact series 3 (z = 0, CI lower end 2.5 > 2), so only the mean
    and variance z-scores decide."""
    from pycheck import theory as T
    z = np.stack([np.resize([1.0, -1.0], size), column1], axis=1)
    monkeypatch.setattr(np.random, "default_rng",
                        lambda seed: SimpleNamespace(standard_normal=lambda shape: z.copy()))
    monkeypatch.setattr(T, "alignment_monte_carlo", lambda *a, **k: (3.0, 0.125))
    monkeypatch.setattr(t1, "_band_map_l2", lambda *a: (3.0, 0.0))
    _kstest_with_pvalue(monkeypatch, 1.0)
    return t1.gaussian_preserving_nonlinear(0, size=size)


def test_T1_gaussian_preserving_mean_z_of_exactly_4_passes(monkeypatch):
    """Mean z = |mean| sqrt(size): 64 values, half 1.5 and half -0.5 (variance 1), have mean
    0.5 and z = 0.5 * 8 = 4 exactly; one value raised by 2^-20 puts z just above 4."""
    column = np.resize([1.5, -0.5], 64)
    r = _gaussian_preserving_on(monkeypatch, column, 64)
    assert r.figures["max_mean_z"] == 4.0 and r.figures["max_var_z"] == 0.0 and r.passed
    column[0] += 2**-20
    r = _gaussian_preserving_on(monkeypatch, column, 64)
    assert 4.0 < r.figures["max_mean_z"] < 4.001 and not r.passed


def test_T1_gaussian_preserving_variance_z_of_exactly_4_passes(monkeypatch):
    """Variance z = |var - 1| / sqrt(2 / size): with 32 samples the denominator is 0.25, and
    the pattern (2, -2, 0, 0) has mean 0 and variance 2, so z = 4 exactly; the 2s moved one
    float outwards put z just above 4."""
    for a, passed in ((2.0, True), (np.nextafter(2.0, 3.0), False)):
        r = _gaussian_preserving_on(monkeypatch, np.resize([a, -a, 0.0, 0.0], 32), 32)
        assert r.figures["max_mean_z"] == 0.0
        assert (r.figures["max_var_z"] == 4.0) == passed and r.passed == passed
        assert passed or r.figures["max_var_z"] > 4.0


def _t2_with_sum(monkeypatch, changed):
    """``t2`` sees a NumPy whose ``np.sum(x, axis)`` is ``changed(x, axis, true sum)``."""
    import types
    real = np.sum
    proxy = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np) if not k.startswith("__")})
    proxy.sum = lambda x, axis=None: changed(x, axis, real(x, axis=axis))
    monkeypatch.setattr(t2, "np", proxy)


@pytest.mark.parametrize("offset, passed", [(-0.5e-15, True), (-2e-15, False)])
def test_T2_sum_u4_minus_1_over_n_tolerates_1e_15(monkeypatch, offset, passed):
    """``min(sum u^4 - 1/n) >= -1e-15``: every row's sum of ``u^4`` set to ``1/n + offset``
    (rounded); -0.5e-15 is rounding, -2e-15 is not. Exactly -1e-15 cannot be reached:
    ``x - 1/n`` for x near ``1/n`` is a multiple of ulp(1/n) (>= 2^-59 for n <= 64), and the
    float 1e-15 is not."""
    from fractions import Fraction
    assert (Fraction(1e-15) * 2**59).denominator != 1
    _t2_with_sum(monkeypatch, lambda x, axis, true: (
        np.full(len(x), 1 / x.shape[1] + offset) if axis == 1 else true))
    r = t2.gennorm_projection_kurtosis(0)
    # 1/n + offset is rounded to ulp(1/2) = 2^-53 at worst
    assert r.figures["min_sum_u4_minus_1_over_n"] == pytest.approx(offset, abs=2**-53)
    assert r.passed == passed


class _AffineDraws(np.random.Generator):
    """One affine map in ``n = 3`` with ``A = 2I`` and ``b = 0`` exactly: its first two
    ``standard_normal`` draws (the noise of ``A`` and ``b``) are zeros."""

    def integers(self, *args, **kwargs):
        return 3

    def standard_normal(self, size=None, *args, **kwargs):
        self.calls = getattr(self, "calls", 0) + 1
        real = super().standard_normal(size, *args, **kwargs)
        return np.zeros_like(real) if self.calls <= 2 else real


@pytest.mark.parametrize("part, factor", [("mean", 2), ("cov", 4)])
def test_T2_affine_pushforward_errors_of_exactly_100_rounding_scales_pass(monkeypatch, part,
                                                                         factor):
    """With ``A = 2I``, ``b = 0`` every product is exact and cond(A) = 1, so both rounding
    scales are the float64 epsilon: the mean error is ``2 m`` and the covariance error ``4 S``
    off the diagonal, so a law with ``m_0`` or ``S_01`` = 100 eps over ``factor`` (a power of
    2, exact) gives an error of exactly 100 eps, which passes; one float more fails."""
    monkeypatch.setattr(np.random, "default_rng",
                        lambda seed: _AffineDraws(np.random.PCG64(seed)))
    figure = "max_mean_error" if part == "mean" else "max_cov_error"
    limit = 100 * np.finfo(float).eps
    for error, passed in ((limit, True), (np.nextafter(limit, 1.0), False)):
        def law(A, b, e=error / factor):
            m, S = np.zeros(3), np.eye(3) / 4
            if part == "mean":
                m[0] = e
            else:
                S[0, 1] = S[1, 0] = e
            return m, S
        r = t2.affine_pushforward(0, law=law, draws=1)
        assert r.figures[figure] == error and r.passed == passed


def _t4_with_conjugate(monkeypatch, orbit_offset):
    """``dp_rotation_invariance`` whose last ``conjugate`` call (the Q-orbit's relabelled
    action set) returns the true set with one coordinate moved by ``orbit_offset``."""
    from pycheck.checks import t4
    real, problems, calls = t4.conjugate, 6, {"n": 0}

    def conjugate(actions, L, sigma=None):
        calls["n"] += 1
        out = real(actions, L, sigma)
        if calls["n"] == 2 * problems + 1:                    # plan's P' and the residual's
            out = out.copy()
            out[0, 0] += orbit_offset
        return out
    monkeypatch.setattr(t4, "conjugate", conjugate)
    return t4.dp_rotation_invariance(0, problems=problems)


@pytest.mark.parametrize("offset, passed", [(0.5e-12, True), (-2e-12, False), (2e-12, False)])
def test_T4_orbit_action_set_equal_to_1e_12(monkeypatch, offset, passed):
    """The relabelled orbit must equal the orbit to 1e-12: 0.5e-12 is rounding, 2e-12 (either
    sign) is not. The boundary itself is unreachable: the orbit's entries are cosines and
    sines of size ~1, whose differences are multiples of 2^-54, and the float 1e-12 is not."""
    from fractions import Fraction
    assert (Fraction(1e-12) * 2**54).denominator != 1
    r = _t4_with_conjugate(monkeypatch, offset)
    assert r.figures["max_rel_value_diff"] <= 1e-10
    assert r.figures["orbit_permutation_ok"] == passed and r.passed == passed


def test_T4_straight_line_error_of_exactly_1e_12_passes(monkeypatch):
    """``line_err <= 1e-12``: the part's error exactly at the literal passes, one float more
    fails (session 45: the part now runs the planner on a bank, whose error cannot be set to
    a given float, so the error itself is injected)."""
    from pycheck.checks import t4
    for a, passed in ((1e-12, True), (np.nextafter(1e-12, 1.0), False)):
        monkeypatch.setattr(t4, "_straight_line_error", lambda rng, a=a: a)
        r = t4.dp_rotation_invariance(0, problems=6)
        assert r.figures["straight_line_error"] == a and r.passed == passed


def _procrustes_with(monkeypatch, injected):
    """``procrustes_bound`` whose first matrices get ``(lhs, r)`` from ``injected`` in turn
    (the distance and the right-hand side), the rest their true values."""
    calls = {"n": 0}
    real_lhs = hermite._nearest_orthogonal_distance
    real_rhs = lambda W: float(np.linalg.norm(W @ W.T - np.eye(len(W))))  # noqa: E731

    def lhs(W):
        calls["n"] += 1
        return injected[calls["n"] - 1][0] if calls["n"] <= len(injected) else real_lhs(W)

    def rhs(W):
        return injected[calls["n"] - 1][1] if calls["n"] <= len(injected) else real_rhs(W)
    monkeypatch.setattr(hermite, "_nearest_orthogonal_distance", lhs)
    return hermite.procrustes_bound(0, rhs=rhs, per_family=2)


def test_L5_slack_of_exactly_minus_1e_12_passes(monkeypatch):
    """slack = (r - lhs) / (1 + r) >= -1e-12: ``r = 0``, ``lhs`` = the float 1e-12 sits on
    it; one float more fails."""
    for lhs, passed in ((1e-12, True), (np.nextafter(1e-12, 1.0), False)):
        r = _procrustes_with(monkeypatch, [(lhs, 0.0)])
        assert r.figures["worst_relative_slack"] == -lhs and r.passed == passed


def test_L5_slack_is_normalised_by_1_plus_r(monkeypatch):
    """``r = 1``, ``lhs = 1 + 2.8e-12``: the slack is -1.4e-12 over ``1 + r = 2`` (a
    violation; over 3 it would be -0.93e-12 and pass)."""
    lhs = 1 + 2.8e-12
    r = _procrustes_with(monkeypatch, [(lhs, 1.0)])
    assert r.figures["worst_relative_slack"] == (1.0 - lhs) / 2 and not r.passed


def test_L5_max_ratio_counts_r_above_1e_12_of_1_plus_r(monkeypatch):
    """The ratio lhs/r is reported only where ``r > 1e-12 (1 + r)``: ``r0 = 1.000000000001e-12``
    is a fixed point (``1e-12 * (1 + r0) == r0``, so excluded, with ratio 1.5), while
    ``r = 1.5e-12`` is included (ratio 1.2); every true ratio is <= 1."""
    r0 = 1.000000000001e-12
    assert 1e-12 * (1 + r0) == r0
    r = _procrustes_with(monkeypatch, [(1.5 * r0, r0), (1.2 * 1.5e-12, 1.5e-12)])
    assert r.figures["max_ratio"] == 1.2 * 1.5e-12 / 1.5e-12 and r.passed


def test_T3_random_polynomials_slacks_are_normalised_by_1_plus_the_bound(monkeypatch):
    """Two encoders with bound 1 and value 1.5 (the energy on the first, D on the second):
    both slacks are -0.5 / (1 + 1) = -0.25 exactly, two violations."""
    from pycheck import theory as T
    from pycheck.checks import t3
    exact, count = T.t3_quantities, {"n": 0}

    def over(h, rho):
        q = exact(h, rho)
        count["n"] += 1
        if count["n"] == 1:
            return q._replace(nonlinear_energy=1.5, bound=q.bound._replace(energy=1.0))
        if count["n"] == 2:
            return q._replace(deviation=1.5, bound=q.bound._replace(deviation=1.0))
        return q
    monkeypatch.setattr(T, "t3_quantities", over)
    r = t3.bound_random_polynomials(0, per_family=2)
    assert r.figures["worst_relative_slack_energy"] == -0.25
    assert r.figures["worst_relative_slack_deviation"] == -0.25
    assert r.figures["violations"] == 2 and not r.passed


def test_T2_gennorm_monte_carlo_z_of_exactly_4_passes(monkeypatch):
    """The Laplace law's 20 batch kurtoses crafted: 3 plus deviations ±(6, 6, 6, 6, 4, 4, 3, 2,
    1, 0), whose squares sum to 380, so the sample variance is 20 exactly and the standard
    error ``fl(sqrt 20) / sqrt 20`` is 1; a prediction of -1 gives z = 4 exactly (passes),
    ``-1 - 2^-50`` gives the next float above 4 (fails). The uniform law stays true."""
    from scipy import stats
    deviations = np.array([6, 6, 6, 6, 4, 4, 3, 2, 1, 0], dtype=float)
    crafted = 3.0 + np.concatenate([deviations, -deviations])
    real = stats.kurtosis
    calls = {"n": 0}

    def kurtosis(*args, **kwargs):
        calls["n"] += 1
        return crafted.copy() if calls["n"] == 1 else real(*args, **kwargs)
    monkeypatch.setattr(stats, "kurtosis", kurtosis)
    for prediction, z, passed in ((-1.0, 4.0, True), (-1.0 - 2**-50, np.nextafter(4.0, 5), False)):
        calls["n"] = 0

        def predicted(kappa, u, p=prediction):
            return p if isinstance(u, np.ndarray) and kappa == 3.0 else t2._sum4(kappa, u)
        r = t2.gennorm_projection_kurtosis(0, predicted=predicted)
        assert r.figures["mc_z_scores"][0] == z and abs(r.figures["mc_z_scores"][1]) <= 4
        assert r.passed == passed


def _a1_monte_carlo_at(monkeypatch, first_loss):
    """``A1.monte_carlo`` on crafted pairs: every encoder is the identity and every sample is
    two pairs with ``z = 0`` and ``z'`` rows ``0`` and ``(1, 1, 0…)``, so ``v = (0, 2)``: mean
    1; the exact moments are given as ``E v = 1``, ``E v² = 3``, so the standard error is
    ``sqrt((3 - 1) / 2) = 1`` exactly. The first closed form is ``first_loss``
    (z = 1 - first_loss), the others 1 (z = 0)."""
    def pairs(n_samples, rho, rng):
        zn = np.zeros((2, len(rho)))
        zn[1, :2] = 1.0
        return np.zeros_like(zn), zn
    monkeypatch.setattr(check_a.T, "random_encoder", lambda *a, **k: (lambda z: z))
    monkeypatch.setattr(A, "anisotropic_ou_pairs", pairs)
    losses = iter([first_loss, 1.0, 1.0, 1.0])
    return check_a.monte_carlo(0, loss=lambda h, rho: next(losses), size=2,
                               moments=lambda h, rho: (1.0, 3.0))


def test_A1_monte_carlo_z_of_exactly_4_5_passes(monkeypatch):
    """|z| <= 4.5: a closed form -3.5 gives z = 4.5 exactly (passes), ``-3.5 - 2^-50`` the
    next float above 4.5 (fails); with every z-score 0 the reported maximum is 0."""
    r = _a1_monte_carlo_at(monkeypatch, 1.0)
    assert r.figures["max_abs_z"] == 0.0 and r.figures["z_scores"] == [0.0] * 4 and r.passed
    r = _a1_monte_carlo_at(monkeypatch, -3.5)
    assert r.figures["max_abs_z"] == 4.5 and r.passed
    r = _a1_monte_carlo_at(monkeypatch, -3.5 - 2**-50)
    assert r.figures["max_abs_z"] == np.nextafter(4.5, 5) and not r.passed


def test_T2_null_vector_residual_of_exactly_1e_12_passes(monkeypatch):
    """(b)'s null vector must annihilate ``A`` to 1e-12 relative: ``A`` with rows (1, 0, 0),
    (0, 1, 0), (r, 0, 0) and the SVD's left factor the identity make the residual
    ``|e_3ᵀ A| / max |A| = r`` exactly (and the eigenvalue ratio ~r², far inside its own
    bound); r = the float 1e-12 passes, one float more fails."""
    monkeypatch.setattr(np.random, "default_rng",
                        lambda seed: _AffineDraws(np.random.PCG64(seed)))
    monkeypatch.setattr(np.linalg, "svd", lambda M: (np.eye(len(M)),))
    for residual, passed in ((1e-12, True), (np.nextafter(1e-12, 1.0), False)):
        singular = (lambda rng, n, r=residual:
                    np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [r, 0.0, 0.0]]))
        r = t2.affine_pushforward(0, singular=singular, draws=1)
        assert r.figures["max_null_residual"] == residual and r.passed == passed


def _first_call(monkeypatch, module, name, value):
    """``module.name`` returning ``value(*args)`` on its first call, the true value after."""
    real, calls = getattr(module, name), {"n": 0}

    def spy(*args):
        calls["n"] += 1
        return value(*args) if calls["n"] == 1 else real(*args)
    monkeypatch.setattr(module, name, spy)


def _gap_slack(n, rho, e_nl, eps):
    """T1.nonlinear_gap's slack and relative eps, by the check's own expressions."""
    scale = 2 * n * (1 - rho)
    return (eps - 2 * rho * (1 - rho) * e_nl) / scale, eps / scale


def _gap_hit(n, rho):
    """``(E_nl, eps)`` with ``eps`` just above ``1e-12 (2n(1-rho))`` whose slack is the float
    -1e-12: ``E_nl`` stepped up to 6 floats either way from its real-number value, ``eps``
    over 400 values. Division by the scale rounds, so whether a hit exists depends on
    ``(n, rho)`` (at seed 0 none does; at seed 1 the first ``eps`` works)."""
    scale = 2 * n * (1 - rho)
    for j in range(1, 400):
        eps = scale * 1e-12 * (1 + j * 1e-3)
        e0 = (eps + 1e-12 * scale) / (2 * rho * (1 - rho))
        candidates = [e0]
        for direction in (np.inf, 0.0):
            e = e0
            for _ in range(6):
                e = np.nextafter(e, direction)
                candidates.append(e)
        for e in candidates:
            slack, rel_eps = _gap_slack(n, rho, e, eps)
            if slack == -1e-12 and rel_eps > 1e-12:
                return e, eps
    return None


def test_T1_nonlinear_gap_slack_of_exactly_minus_1e_12_passes(monkeypatch):
    """``(eps - 2rho(1-rho)E_nl) / (2n(1-rho)) >= -1e-12`` while ``eps / (2n(1-rho)) > 1e-12``:
    the first encoder's ``E_nl`` and ``eps`` are set (for its ``(n, rho)``, seen by a spy) so
    that the slack is the float -1e-12: the check passes; with the next ``E_nl`` up it fails."""
    from pycheck import theory as T
    seed, first = 1, {}
    _first_call(monkeypatch, T, "alignment_excess",
                lambda h, rho: first.setdefault("n_rho", (h.n, rho)) and 1.0)
    t1.nonlinear_gap(seed, encoders=40)
    n, rho = first["n_rho"]
    found = _gap_hit(n, rho)
    assert found, "no injected values put the slack exactly on -1e-12"
    e_nl, eps = found
    past = np.nextafter(e_nl, np.inf)
    assert _gap_slack(n, rho, past, eps)[0] < -1e-12
    for value, passed in ((e_nl, True), (past, False)):
        _first_call(monkeypatch, T, "nonlinear_energy", lambda h, v=value: v)
        _first_call(monkeypatch, T, "alignment_excess", lambda h, rho: eps)
        r = t1.nonlinear_gap(seed, encoders=40)
        assert (r.figures["worst_relative_slack"] == -1e-12) == passed and r.passed == passed


@pytest.mark.parametrize("offset, passed", [(0, True), (1, False)])
def test_T4_orbit_value_difference_exactly_1e_10_relative_passes(monkeypatch, offset, passed):
    """The Q-orbit part accepts ``|v_R - v| <= 1e-10 v``: with ``v = 1e12`` the bound is the
    float 100.0 exactly (``1e-10 * 1e12 == 100.0``), so ``v_R = v + 100`` sits on it (passes)
    and the next float above fails. The orbit's two plans are the last two calls of ``plan``
    (after two per problem); their policies are the real ones."""
    from pycheck.checks import t4
    real, calls = t4.plan, {"n": 0}
    assert 1e-10 * 1e12 == 100.0 and (1e12 + 100.0) - 1e12 == 100.0

    def plan(*args):
        calls["n"] += 1
        v, pol = real(*args)
        if calls["n"] == 5:
            return 1e12, pol
        if calls["n"] == 6:
            vr = 1e12 + 100.0
            return (np.nextafter(vr, np.inf) if offset else vr), pol
        return v, pol
    monkeypatch.setattr(t4, "plan", plan)
    r = t4.dp_rotation_invariance(0, problems=2)
    assert calls["n"] == 6 and bool(r.passed) is passed


@pytest.mark.parametrize("seed", [None, -1, 1.0, "3", True])
def test_a_check_called_directly_refuses_a_seed_that_is_not_a_non_negative_integer(seed):
    """Session 43 (a user's trial): None passed with figures that changed between calls,
    -1 and np.int64 failed inside NumPy / Hypothesis without naming the seed."""
    import numpy as np
    from pycheck.checks import load_all
    fn = load_all()["L1.degree_gap_exact"]
    with pytest.raises(ValueError, match="L1.degree_gap_exact: the seed must be a non-negative"):
        fn(seed)
    assert fn(np.int64(3)).figures == fn(3).figures
