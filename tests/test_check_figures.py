"""The figures a check reports are what it claims to measure, its verdict reads them at the
stated tolerance, and its loops cover the cases its docstring names (issue #17).

Three kinds of test, each closing one reason why mutants of the ``@check`` bodies survived
(``results/mutation/README.md``, session 7):

* **recomputation**: a spy records the draws a check hands to the theory (encoders, ρ, exact
  quantities) and each reported figure is recomputed from them by its definition;
* **a fault just past a threshold**: the smallest fault the check exists to catch must fail
  it, and the equality case of the inequality must pass;
* **coverage**: the loops visit every case the docstring promises (every dimension, half of
  the problems relabelled, near-singular matrices that are near-singular, ...).

Sizes are cut down (a few hundred encoders instead of thousands) so that each test takes
about a second; the properties do not depend on the sizes.
"""
import math

import numpy as np
import pytest
import sympy as sp

from pycheck import anisotropic as A
from pycheck import theory as T
from pycheck.checks import anisotropic as check_a
from pycheck.checks import hermite, t1, t3, t4
from spies import record_calls


# ---------------------------------------------------------------- T3: recomputed figures
def test_T3_random_polynomials_figures_are_recomputed_from_the_draws(monkeypatch):
    calls = record_calls(monkeypatch, T, "t3_quantities")
    per_family = 15
    r = t3.bound_random_polynomials(0, per_family=per_family)
    assert r.figures["encoders"] == len(calls) == per_family * len(t3.FAMILIES)
    qs = [q for _, q in calls]
    se = np.array([(q.bound.energy - q.nonlinear_energy) / (1 + abs(q.bound.energy)) for q in qs])
    sd = np.array([(q.bound.deviation - q.deviation) / (1 + abs(q.bound.deviation)) for q in qs])
    assert r.figures["worst_relative_slack_energy"] == se.min()
    assert r.figures["worst_relative_slack_deviation"] == sd.min()
    assert r.figures["violations"] == int(np.sum(np.minimum(se, sd) < -1e-9)) == 0
    assert r.figures["max_D_over_bound"] == max(
        q.deviation / q.bound.deviation for q in qs if q.bound.deviation > 0)
    # the worst case named is the first draw that attains the smallest slack
    i = int(np.argmin(np.minimum(se, sd)))
    (h, rho), family = calls[i][0], t3.FAMILIES[i // per_family]
    assert r.figures["worst_case"].startswith(f"{family}: n={h.n}, rho={rho:.3g},")
    assert r.passed


def test_T3_whitened_corollary_figures_are_recomputed_from_the_draws(monkeypatch):
    calls = record_calls(monkeypatch, T, "t3_quantities")
    r = t3.whitened_corollary(0, count=80)
    assert r.figures["encoders"] == len(calls) == 80
    assert r.figures["max_delta"] == max(q.delta for _, q in calls)
    slack = []
    for (h, rho), q in calls:
        B = q.eps / (2 * rho * (1 - rho))
        slack.append((B + B * B - q.deviation) / (1 + abs(B + B * B)))
    assert r.figures["min_rel_slack"] == min(slack)
    assert r.figures["violations"] == sum(s < -1e-9 for s in slack) == 0
    # the docstring's "n <= 5, degree <= 4": every dimension is drawn
    assert {h.n for (h, _), _ in calls} == {1, 2, 3, 4, 5}
    assert r.passed


def test_T3_tightness_figures_and_rates(monkeypatch):
    calls = record_calls(monkeypatch, T, "t3_quantities")
    steps = 24
    r = t3.bound_tightness(0, steps=steps)
    path, extremal = [q for _, q in calls[:steps]], [q for _, q in calls[steps:]]
    assert len(extremal) == len(r.figures["extremal_delta"]) == 4
    assert r.figures["extremal_D_over_bound"] == [q.deviation / q.bound.deviation
                                                  for q in extremal]
    assert r.figures["extremal_E_nl_over_B"] == [q.nonlinear_energy / q.bound.energy
                                                 for q in extremal]
    assert r.figures["t (every 4th step)"] == [2.0**-k for k in range(0, steps, 4)]
    every4th = path[::4]
    assert r.figures["abs_eps"] == [abs(q.eps) for q in every4th]
    assert r.figures["delta"] == [q.delta for q in every4th]
    assert r.figures["bound"] == [q.bound.deviation for q in every4th]
    assert r.figures["D"] == [q.deviation for q in every4th]
    assert r.figures["final_bound"] == path[-1].bound.deviation
    assert r.figures["final_abs_eps_plus_delta"] == abs(path[-1].eps) + path[-1].delta
    # the bound is first order in t (delta ~ t) and D second order; at t = 2^-23 the
    # log2 ratio of the last two steps is within 1e-3 of its limit (rounding is ~1e-9 of it)
    assert r.figures["bound_rate_exponent"] == pytest.approx(1.0, abs=1e-3)
    assert r.figures["D_rate_exponent"] == pytest.approx(2.0, abs=1e-3)
    assert r.passed


def test_T3_tightness_fails_when_the_extremal_family_has_eps_1e_6(monkeypatch):
    """The extremal family must have eps = 0 (tolerance 1e-12); 1e-6 is a real fault, and
    it leaves the path part (a) and every other figure unchanged."""
    exact, extremal = T.t3_quantities, set()
    real_extremal = t3._extremal

    def marked(*args):
        h = real_extremal(*args)
        extremal.add(id(h))
        return h

    def wrong(h, rho):
        q = exact(h, rho)
        return q._replace(eps=q.eps + 1e-6) if id(h) in extremal else q
    monkeypatch.setattr(t3, "_extremal", marked)
    monkeypatch.setattr(T, "t3_quantities", wrong)
    r = t3.bound_tightness(0)
    # E_nl = B to the check's own 1e-9: the injected eps must be the only broken promise
    assert extremal and r.figures["extremal_E_nl_over_B"] == pytest.approx([1.0] * 4, abs=1e-9)
    assert r.figures["final_bound"] < 1e-5 and not r.passed


# ---------------------------------------------------------------- T1
def test_T1_nonlinear_gap_figures_are_recomputed_from_the_draws(monkeypatch):
    excess = record_calls(monkeypatch, T, "alignment_excess")
    energy = record_calls(monkeypatch, T, "nonlinear_energy")
    r = t1.nonlinear_gap(0, encoders=120)
    assert r.figures["encoders"] == len(excess) == len(energy) == 120
    slack, rel_eps, ratio, ratio2 = [], [], [], []
    for ((h, rho), eps), (_, e_nl) in zip(excess, energy):
        scale = 2 * h.n * (1 - rho)
        slack.append((eps - 2 * rho * (1 - rho) * e_nl) / scale)
        rel_eps.append(eps / scale)
        ratio.append(eps / (2 * rho * (1 - rho) * e_nl))
        if h.degrees.max() == 2:
            ratio2.append(ratio[-1])
    assert r.figures["worst_relative_slack"] == min(slack)
    assert r.figures["min_relative_eps"] == min(rel_eps)
    assert r.figures["min_ratio"] == min(ratio)
    # degree 2 attains the constant 2rho(1-rho) exactly (T1's equality case); 1e-9 is
    # far above rounding of O(1) closed forms and far below any real gap
    assert ratio2 and r.figures["min_ratio_degree2"] == min(ratio2) == pytest.approx(1, abs=1e-9)
    assert {h.n for (h, _), _ in excess} == {1, 2, 3, 4, 5}
    assert {int(h.degrees.max()) for (h, _), _ in excess} == {2, 3, 4}
    assert r.passed


def test_T1_lower_bound_sweep_covers_the_stated_dimensions(monkeypatch):
    calls = record_calls(monkeypatch, T, "alignment_loss")
    r = t1.lower_bound(0, examples=40, sweep=100)
    assert len(calls) >= 100 and r.figures["sweep_encoders"] == 100
    assert {h.n for (h, _), _ in calls} == {1, 2, 3, 4, 5}          # "n <= 5"
    assert {int(h.alphas.max()) for (h, _), _ in calls} == {1, 2, 3, 4}   # "degree <= 4"
    assert r.passed


def _series_with_energy(monkeypatch, factor):
    """The exact series with E_nl set to ``factor`` times the value at which the gap
    inequality is an equality."""
    exact = t1._band_map_l2

    def at_equality(band, scale, rho, n):
        L, _ = exact(band, scale, rho, n)
        return L, factor * (L - 2 * n * (1 - rho)) / (2 * rho * (1 - rho))
    monkeypatch.setattr(t1, "_band_map_l2", at_equality)


def test_T1_gaussian_preserving_passes_at_the_equality_case(monkeypatch):
    """eps = 2rho(1-rho)E_nl is allowed (T1's gap is >=); the 1e-9 margin absorbs rounding."""
    _series_with_energy(monkeypatch, 1.0)
    r = t1.gaussian_preserving_nonlinear(0, size=100_000)
    assert r.passed
    f = r.figures
    assert f["ci_lower"] == f["L_monte_carlo"] - 4 * f["L_stderr"] > f["bound_2n(1-rho)"]
    assert f["z_mc_vs_exact"] == (f["L_monte_carlo"] - f["L_exact"]) / f["L_stderr"]


def test_T1_gaussian_preserving_fails_just_past_the_equality_case(monkeypatch):
    """E_nl 1e-8 above equality is a violated gap: 10x the rounding margin of 1e-9."""
    _series_with_energy(monkeypatch, 1 + 1e-8)
    assert not t1.gaussian_preserving_nonlinear(0, size=100_000).passed


# ---------------------------------------------------------------- T4
def _nudge_conjugate_values(monkeypatch, rel):
    """``plan`` of each conjugated problem P' (every second call in the main loop) returns
    its value times ``1 + rel``; the plan itself and every other call are exact."""
    real, count = t4.plan, {"n": 0}

    def nudged(*args):
        v, pol = real(*args)
        count["n"] += 1
        return (v * (1 + rel) if count["n"] % 2 == 0 and count["n"] <= 2 * 40 else v), pol
    monkeypatch.setattr(t4, "plan", nudged)


def test_T4_fails_on_a_conjugate_value_off_by_1e_9(monkeypatch):
    """Tolerance 1e-10 relative; 1e-9 is 10x past it, and the reported figure is that 1e-9."""
    _nudge_conjugate_values(monkeypatch, 1e-9)
    r = t4.dp_rotation_invariance(0, problems=40)
    # values are O(1)-O(100) sums of squares: rounding is ~1e-15 relative
    assert r.figures["max_rel_value_diff"] == pytest.approx(1e-9, rel=1e-4)
    assert r.figures["policy_mismatches"] == 0 and r.figures["dp_vs_brute_force"] <= 1e-12
    assert not r.passed


def test_T4_fails_when_brute_force_disagrees_with_dp_by_1e_11(monkeypatch):
    """Tolerance 1e-12 relative; every simulated cost 1e-11 high leaves the optimal
    sequence and the relative gaps unchanged, only DP = brute force is broken."""
    real = t4.sequence_costs
    monkeypatch.setattr(t4, "sequence_costs", lambda *a: real(*a) * (1 + 1e-11))
    r = t4.dp_rotation_invariance(0, problems=10)
    # rel=1e-3 of 1e-11 is 1e-14, ten times the rounding of the O(1)-O(100) costs
    assert r.figures["dp_vs_brute_force"] == pytest.approx(1e-11, rel=1e-3)
    assert r.figures["max_rel_value_diff"] <= 1e-10 and not r.passed


def test_T4_every_other_problem_is_relabelled_in_every_dimension(monkeypatch):
    calls = record_calls(monkeypatch, t4, "conjugacy_residual")        # once per problem
    costs = record_calls(monkeypatch, t4, "sequence_costs")
    plans = record_calls(monkeypatch, t4, "plan")
    problems = 12
    r = t4.dp_rotation_invariance(0, problems=problems)
    main = calls
    assert len(main) == problems
    assert [(a[2] is not None) for a, _ in main] == [i % 2 == 1 for i in range(problems)]
    assert {(a[0].shape[1], a[2] is None) for a, _ in main} == {
        (n, s) for n in (2, 3, 4) for s in (True, False)}
    # the optimality gap is (second best - best) / value over the simulated costs
    gaps = []
    for i, (_, c) in enumerate(costs):
        best, second = np.sort(c)[:2]
        gaps.append((second - best) / plans[2 * i][1][0])
    assert r.figures["min_rel_optimality_gap"] == min(gaps) > 1e-8
    assert r.passed


# ---------------------------------------------------------------- A1
def test_A1_whitened_gap_minimum_figure_is_recomputed(monkeypatch):
    losses = record_calls(monkeypatch, A, "alignment_loss")
    minima = record_calls(monkeypatch, A, "whitened_minimum")
    encoders = 60
    r = check_a.whitened_gap(0, encoders=encoders)
    anyworld = losses[1:2 * encoders:2]                       # the "any" world of each encoder
    assert len(minima) == encoders
    worst = min((L - m) / (2 * h.n) for ((h, _), L), (_, m) in zip(anyworld, minima))
    assert r.figures["worst_minimum_slack"] == worst
    assert {h.n for (h, _), _ in anyworld} == {1, 2, 3, 4, 5}
    assert r.passed


def test_A1_whitened_gap_fails_when_the_constant_is_not_sharp():
    """A gap 1e-8 too small keeps eps >= 2g E_nl true, but the sharp encoders then exceed
    it by 1e-8 relative, 10x the tolerance of 1e-9."""
    r = check_a.whitened_gap(0, gap=lambda rho: A.spectral_gap(rho) * (1 - 1e-8), encoders=30)
    assert r.figures["worst_gap_slack"] >= 0 and not r.passed


def test_A1_monte_carlo_draws_exactly_the_stated_pairs(monkeypatch):
    calls = record_calls(monkeypatch, A, "anisotropic_ou_pairs")
    size = 150_000                                 # not a multiple of the chunk of 100_000
    r = check_a.monte_carlo(0, size=size)
    per_encoder = [sum(a[0] for a, _ in calls[i:i + 2]) for i in range(0, len(calls), 2)]
    assert per_encoder == [size] * 4 and r.figures["pairs"] == size
    assert r.figures["max_abs_z"] == pytest.approx(max(map(abs, r.figures["z_scores"])),
                                                   abs=0.005)     # z_scores are rounded
    assert r.passed


# ---------------------------------------------------------------- L2, L4, L5, L6
def test_L2_monte_carlo_fails_on_a_cross_moment_fault_past_its_z_threshold():
    """Part (b) only: the eigenvalue of |alpha| = 1 off by 0.1 is ~10 standard errors at
    20 000 pairs; part (a) gets the exact eigenvalues (scalar k)."""
    def eigen(rho, k):
        if np.ndim(k) == 0:
            return rho**k
        return np.where(k == 1, rho + 0.1, rho**k)
    r = hermite.mehler_monte_carlo(0, eigen=eigen, size=20_000)
    assert r.figures["max_abs_z"] > 4.5 and not r.passed
    # 2 rho x 5 z x 6 degrees in (a), 10 x 10 basis pairs (|alpha| <= 3 in 2-D) in (b),
    # the 5 degree-4 moments of z' in (c)
    assert r.figures["tests"] == 60 + len(T.multi_indices(2, 3)) ** 2 + 5


def test_L4_quadrature_covers_degrees_1_to_4(monkeypatch):
    calls = record_calls(monkeypatch, T, "gauss_hermite")
    r = hermite.alignment_identity(0, size=2_000)
    # per encoder, the 2n-dimensional rule of 2 degree + 1 nodes (the exact standard error,
    # E v² of degree 4 degree), then for every n <= 2 case the value's rule of degree + 1
    cases = [(1, 4), (2, 3), (2, 4), (3, 2), (3, 3), (1, 2), (2, 1), (3, 4)]
    expected = [rule for n, deg in cases
                for rule in [(2 * deg + 1, 2 * n)] + [(deg + 1, 2 * n)] * (n <= 2)]
    assert [a for a, _ in calls] == expected
    assert {deg for n, deg in cases if n <= 2} == {1, 2, 3, 4}
    assert r.figures["encoders"] == 8 and r.passed


def test_L5_families_are_what_they_are_named(monkeypatch):
    calls = record_calls(monkeypatch, hermite, "_nearest_orthogonal_distance")
    per = 12
    r = hermite.procrustes_bound(0, per_family=per)
    assert r.figures["matrices"] == len(calls) == 6 * per
    sv = [np.linalg.svd(a[0], compute_uv=False) for a, _ in calls]
    near_singular, rank_deficient = sv[per:2 * per], sv[2 * per:3 * per]
    assert all(s[-1] <= 1e-4 for s in near_singular)        # s[-1] = 10^U(-12, -4)
    # rank n - 1 by construction: the last singular value is SVD rounding, ~1e-16 of s[0]
    assert all(s[-1] <= 1e-12 * max(1.0, s[0]) for s in rank_deficient if len(s) > 1)
    assert r.passed


def test_L6_counts_every_disagreement(monkeypatch):
    """Quadrature 1e-7 high on every component (the predicted distance shifted alike, so
    the error figure stays 0): each component with no energy outside degree 1 is a
    disagreement between 'zero distance' and 'zero off-degree-one energy'."""
    real = hermite._first_chaos_distance
    monkeypatch.setattr(hermite, "_first_chaos_distance", lambda h: real(h) + 1e-7)
    energies = record_calls(monkeypatch, T, "chaos_energies")
    r = hermite.first_chaos(0, distance=lambda e: e.sum(axis=1) - e[:, 1] + 1e-7)
    linear = sum(int(np.sum(e.sum(axis=1) - e[:, 1] <= 1e-8)) for _, e in energies)
    assert linear > 0 and r.figures["disagreements"] == linear
    assert r.figures["max_rel_error"] <= 1e-10 and not r.passed


def test_L1_L2_L3_count_what_they_enumerate():
    """The counts are the sizes of the enumerations, not the loop bounds plus a constant."""
    assert hermite.degree_gap_exact(0, max_degree=4).figures["max_degree"] == 4
    r = hermite.mehler_exact(0, max_degree=3)
    assert (r.figures["univariate_degrees"], r.figures["bivariate_indices"]) == (4, 5)
    r = hermite.hermite_orthogonality_exact(0, max_degree=3)
    assert r.figures["pairs"] == len([(j, k) for j in range(4) for k in range(j, 4)]) == 10
    assert isinstance(r.figures["pairs"], int) and r.passed


def test_L5_ratio_figure_and_scaled_family(monkeypatch):
    calls = record_calls(monkeypatch, hermite, "_nearest_orthogonal_distance")
    per = 12
    r = hermite.procrustes_bound(0, per_family=per)
    ratios = []
    for (W,), lhs in calls:
        rhs = float(np.linalg.norm(W @ W.T - np.eye(len(W))))
        if rhs > 1e-12 * (1 + rhs):                  # the check's 'rhs is not zero'
            ratios.append(lhs / rhs)
    assert r.figures["max_ratio"] == max(ratios) > 0
    # "scaled rotations": singular values e^U(-3, 3), so both shrunk and stretched ones
    scaled = [np.linalg.svd(W, compute_uv=False) for (W,), _ in calls[5 * per:]]
    assert min(s.min() for s in scaled) < 1 < max(s.max() for s in scaled)


def test_T4_conjugacy_residual_figure_is_the_worst_problem(monkeypatch):
    calls = record_calls(monkeypatch, t4, "conjugacy_residual")
    r = t4.dp_rotation_invariance(0, problems=6)
    assert r.figures["conjugacy_residual"] == max(res for _, res in calls)


def test_T4_fails_when_only_the_orbit_relabelling_is_off(monkeypatch):
    """The Q-orbit problem's rotated value 1e-9 high (tolerance 1e-10), its plan and the
    40 random problems exact: the orbit part alone must fail the check."""
    real, count, problems = t4.plan, {"n": 0}, 6

    def nudged(*args):
        v, pol = real(*args)
        count["n"] += 1
        return (v * (1 + 1e-9) if count["n"] == 2 * problems + 2 else v), pol
    monkeypatch.setattr(t4, "plan", nudged)
    r = t4.dp_rotation_invariance(0, problems=problems)
    assert r.figures["max_rel_value_diff"] <= 1e-10 and r.figures["policy_mismatches"] == 0
    assert r.figures["orbit_permutation_ok"] is False and not r.passed


def test_T3_tightness_fails_when_only_eps_plus_delta_stops_decreasing(monkeypatch):
    """At the last step of the path |eps| is raised so that |eps| + delta equals its value
    one step before (not strictly smaller), while the bound (computed before) still
    decreases and both stay < 1e-5: only the monotonicity of |eps| + delta is broken."""
    exact, seen, steps = T.t3_quantities, [], 24

    def wrong(h, rho):
        q = exact(h, rho)
        seen.append(q)
        if len(seen) == steps:
            prev = seen[-2]
            return q._replace(eps=abs(prev.eps) + prev.delta - q.delta)
        return q
    monkeypatch.setattr(T, "t3_quantities", wrong)
    r = t3.bound_tightness(0, steps=steps)
    assert r.figures["final_abs_eps_plus_delta"] < 1e-5 and r.figures["final_bound"] < 1e-5
    assert not r.passed


def test_A2_fold_z_scores_are_recomputed(monkeypatch):
    calls = record_calls(monkeypatch, A, "gaussian_map_search")
    rho = (0.95, 0.5)
    r = check_a.fold_beats_rotations(0, rho=rho, size=40_000)
    res = calls[0][1]
    L, L_se = res["map"][0], res["map"][1]
    sf_L, sf_se = res["sign_flip"][0], res["sign_flip"][1]
    assert r.figures["quadrature_z"] == (L - A.fold_alignment(rho)) / L_se
    assert r.figures["sign_flip_z"] == (sf_L - A.sign_flip_exact_alignment(rho)) / sf_se
    assert r.figures["L"] == L and r.figures["excess"] == res["map"][2]


def test_T3_tightness_fails_when_eps_does_not_tend_to_zero(monkeypatch):
    """|eps| 2e-5 too high on the whole path: |eps| + delta still decreases strictly, the
    bound (computed before) still ends below 1e-5, but |eps| + delta ends at 2e-5, so the
    path does not approach a rotation (tolerance 1e-5)."""
    exact, count, steps = T.t3_quantities, {"n": 0}, 24

    def offset(h, rho):
        q = exact(h, rho)
        count["n"] += 1
        return q._replace(eps=abs(q.eps) + 2e-5) if count["n"] <= steps else q
    monkeypatch.setattr(T, "t3_quantities", offset)
    r = t3.bound_tightness(0, steps=steps)
    assert r.figures["final_bound"] < 1e-5 <= r.figures["final_abs_eps_plus_delta"]
    assert not r.passed


def test_A1_whitened_gap_slack_figure_is_recomputed(monkeypatch):
    losses = record_calls(monkeypatch, A, "alignment_loss")
    encoders = 40
    r = check_a.whitened_gap(0, encoders=encoders)
    worst = min((L - A.rotation_alignment(rho) - 2 * A.spectral_gap(rho) * T.nonlinear_energy(h))
                / (2 * h.n) for (h, rho), L in losses[0:2 * encoders:2])
    assert r.figures["worst_gap_slack"] == worst


def test_T1_rotation_count_is_the_number_of_rotations_checked(monkeypatch):
    calls = record_calls(monkeypatch, T, "rotation_encoder")
    r = t1.rotation_equality(0)
    assert r.figures["rotations"] == len(calls)
    # degree 3 bases (rotations written with zero higher coefficients) for n <= 5 only
    assert {(h.n, int(h.alphas.max())) for _, h in calls} == {
        (n, d) for n in (1, 2, 3, 5) for d in (1, 3)} | {(n, 1) for n in (8, 16, 64)}


def test_T3_tightness_fails_when_D_exceeds_the_bound_at_one_step(monkeypatch):
    """D = 1.5 x the bound at the middle of the path (the bound's own monotonicity and the
    extremal family untouched): T3's inequality is violated, the check must fail."""
    exact, count, steps = T.t3_quantities, {"n": 0}, 24

    def wrong(h, rho):
        q = exact(h, rho)
        count["n"] += 1
        return q._replace(deviation=1.5 * q.bound.deviation) if count["n"] == steps // 2 else q
    monkeypatch.setattr(T, "t3_quantities", wrong)
    assert not t3.bound_tightness(0, steps=steps).passed


def test_L2_exact_checks_every_degree_it_counts():
    degrees = set()

    def poly(k, x):
        degrees.add(k)
        return sp.hermite_prob(k, x)
    r = hermite.mehler_exact(0, poly=poly, max_degree=6)
    assert degrees == set(range(r.figures["univariate_degrees"])) == set(range(7))
    assert r.passed
