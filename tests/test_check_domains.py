"""Each check draws exactly the inputs its docstring states (issue #17, session 8).

The largest class of surviving mutants of the ``@check`` bodies changed *what a check
looks at*, not how it judges it: ``rng.uniform(1e-3, 1 - 1e-3)`` → ``uniform(1e-3, 1 + 1e-3)``,
``rng.integers(1, 6)`` → ``integers(2, 6)``, ``range(60)`` → ``range(61)``. The check still
passes on the true theory, so only a statement of the domain can catch them. Here the
domain is stated once per check as the list of draws it makes (distribution, parameters,
how many), and a recording generator in place of ``numpy.random.default_rng`` logs every
draw made by code in ``pycheck.checks`` (draws made inside the theory, e.g. by
``T.random_encoder``, belong to the theory's own tests).

The parameters are compared exactly, not through the values drawn: values inside
``[1e-3, 1 − 1e-3]`` would not notice ``1 + 1e-3`` (ρ above 1 on 0.1% of the draws), while
the stated law ``U(1e-3, 1 − 1e-3)`` does. A draw whose parameters are data (the rates of
``_random_rhos``, the shapes ``(n, n)`` of a random dimension) is counted in the total per
distribution. Sizes are cut down (every count is a formula in the size argument), so the
file runs in a few seconds. The spies further down pin the cases a check enumerates, how
it uses its draws, and recompute its Monte-Carlo figures from them.
"""
import math
import sys
from collections import Counter

import numpy as np
import pytest

from pycheck.checks import load_all
from spies import record_calls

REGISTRY = load_all()
K = 7                                             # T4's action count (its default)


def _key(x):
    """A hashable form of a draw's argument: arrays by shape, numbers and tuples as they are."""
    if isinstance(x, np.ndarray):
        return ("array", x.shape)
    if isinstance(x, (list, tuple)):
        return tuple(_key(v) for v in x)
    return float(x) if isinstance(x, np.floating) else x


class _Recorder(np.random.Generator):
    """``numpy.random.Generator`` (same stream) that logs ``(method, args, result)`` of each
    draw whose caller is a module of ``pycheck.checks``."""

    log: list


def _logged(method):
    """``Generator.method`` that also logs the draw when called from ``pycheck.checks``."""
    def draw(self, *args, **kwargs):
        out = getattr(np.random.Generator, method)(self, *args, **kwargs)
        if sys._getframe(1).f_globals.get("__name__", "").startswith("pycheck.checks"):
            self.log.append((method, _key(args) + tuple(sorted(
                (k, _key(v)) for k, v in kwargs.items())), out))
        return out
    return draw


for _m in ("integers", "uniform", "choice", "permutation", "standard_normal", "normal"):
    setattr(_Recorder, _m, _logged(_m))


@pytest.fixture
def draws(monkeypatch):
    """Every generator made by ``np.random.default_rng`` records into the returned list."""
    log = []

    def default_rng(seed=None):
        rng = _Recorder(np.random.PCG64(seed))
        rng.log = log
        return rng
    monkeypatch.setattr(np.random, "default_rng", default_rng)
    return log


def _assert_draws(log, stated: Counter, totals: dict):
    """The fixed-parameter draws are exactly ``stated`` (law and count), and each
    distribution is drawn ``totals[method]`` times in all (data-dependent parameters too)."""
    seen = Counter((m, a) for m, a, _ in log)
    assert {sig: seen[sig] for sig in stated} == dict(stated)
    assert dict(Counter(m for m, _, _ in log)) == totals


def _ints(log, args):
    return [int(out) for m, a, out in log if m == "integers" and a == args]


# ---------------------------------------------------------------- T1
def test_T1_lower_bound_sweep_draws_the_stated_laws(draws):
    S = 30
    REGISTRY["T1.lower_bound"](0, examples=5, sweep=S)
    # per encoder: n ~ {1..5}, degree ~ {1..4}, log10 nonlinear scale ~ U(-3, 0.5),
    # rho ~ U(1e-3, 1 - 1e-3)
    _assert_draws(draws, Counter({("integers", (1, 6)): S, ("integers", (1, 5)): S,
                                  ("uniform", (-3, 0.5)): S, ("uniform", (1e-3, 1 - 1e-3)): S}),
                  {"integers": 2 * S, "uniform": 2 * S})


def test_T1_lower_bound_hypothesis_search_draws_the_stated_strategies(monkeypatch):
    from hypothesis import strategies

    from pycheck.checks import t1
    made = []

    class Recording:
        def __getattr__(self, name):
            real = getattr(strategies, name)

            def strategy(*args):
                made.append((name, args))
                return real(*args)
            return strategy
    monkeypatch.setattr(t1, "st", Recording())
    REGISTRY["T1.lower_bound"](0, examples=5, sweep=1)
    assert sorted(made) == sorted([
        ("integers", (1, 5)), ("integers", (1, 4)),            # n <= 5, degree <= 4
        ("floats", (1e-3, 1 - 1e-3)),                          # rho in (0, 1)
        ("floats", (1e-2, 3.0)), ("floats", (0.0, 3.0)),       # linear, nonlinear scales
        ("integers", (0, 2**32 - 1))])                         # a seed for the coefficients


def test_T1_rotation_equality_draws_one_rho_per_rotation(draws):
    REGISTRY["T1.rotation_equality"](0)
    # n in (1, 2, 3, 5) on degree-1 and degree-3 bases, n in (8, 16, 64) on degree 1; 5 each
    rotations = 5 * (4 * 2 + 3)
    _assert_draws(draws, Counter({("uniform", (0.01, 0.99)): rotations}), {"uniform": rotations})


def test_T1_nonlinear_gap_draws_the_stated_laws(draws):
    E = 25
    REGISTRY["T1.nonlinear_gap"](0, encoders=E)
    # n ~ {1..5}, degree ~ {2..4}, rho ~ U(1e-3, 1 - 1e-3), log10 nonlinear scale ~ U(-2, 0.5)
    _assert_draws(draws, Counter({("integers", (1, 6)): E, ("integers", (2, 5)): E,
                                  ("uniform", (1e-3, 1 - 1e-3)): E, ("uniform", (-2, 0.5)): E}),
                  {"integers": 2 * E, "uniform": 2 * E})


def test_T1_gaussian_preserving_checks_feasibility_on_the_stated_sample(draws):
    size = 20_000
    REGISTRY["T1.gaussian_preserving_nonlinear"](0, size=size)
    _assert_draws(draws, Counter({("standard_normal", ((size, 2),)): 1}), {"standard_normal": 1})


# ---------------------------------------------------------------- L2, L5, L6
def test_L2_monte_carlo_draws_one_noise_sample_per_rho(draws):
    size = 3_000
    REGISTRY["L2.mehler_monte_carlo"](0, size=size)
    _assert_draws(draws, Counter({("standard_normal", (size,)): 2}), {"standard_normal": 2})


def test_L5_families_draw_the_stated_laws(draws):
    P = 10
    REGISTRY["L5.procrustes_bound"](0, per_family=P)
    # n ~ {1..8} for each of 6P matrices; log10 of the smallest singular value ~ U(-12, -4),
    # log10 of the perturbation ~ U(-9, -1), log10 of the scale ~ U(0, 3), log singular
    # values of the scaled rotations ~ U(-3, 3)
    ns = _ints(draws, (1, 9))
    stated = Counter({("integers", (1, 9)): 6 * P, ("uniform", (-12, -4)): P,
                      ("uniform", (-9, -1)): P, ("uniform", (0, 3)): P})
    stated.update(("uniform", (-3, 3, n)) for n in ns[5 * P:])
    # a Gaussian G (n, n) per matrix, and a second factor (n - 1, n) per rank-deficient one
    stated.update(("standard_normal", ((n, n),)) for n in ns)
    stated.update(("standard_normal", ((n - 1, n),)) for n in ns[2 * P:3 * P])
    _assert_draws(draws, stated, {"integers": 6 * P, "uniform": 4 * P, "standard_normal": 7 * P})


def test_L6_draws_sixty_encoders_with_and_without_mean_and_nonlinearity(draws):
    REGISTRY["L6.first_chaos"](0)
    _assert_draws(draws, Counter({("integers", (1, 4)): 60, ("integers", (1, 5)): 60,
                                  ("choice", ((0.0, 1.0),)): 120}),
                  {"integers": 120, "choice": 120})


# ---------------------------------------------------------------- T2
def test_T2_gennorm_draws_unit_vectors_in_the_stated_dimensions(draws):
    r = REGISTRY["T2.gennorm_projection_kurtosis"](0)
    # 500 unit vectors in each n of (2, 3, 5, 16, 64); one direction u in R^4 per Monte-Carlo law
    stated = Counter({("standard_normal", ((500, n),)): 1 for n in (2, 3, 5, 16, 64)})
    stated[("standard_normal", (4,))] = 2
    _assert_draws(draws, stated, {"standard_normal": 7})
    # the figure is min over those vectors of sum(u^4) - 1/n, u the normalised draws (the
    # check normalises its draws in place, so they are normalised again here: rounding
    # ~1e-16 on a figure ~1e-5)
    U = [out / np.linalg.norm(out, axis=1, keepdims=True) for _, a, out in draws[:5]]
    assert r.figures["min_sum_u4_minus_1_over_n"] == pytest.approx(min(
        float((np.sum(u**4, axis=1) - 1 / u.shape[1]).min()) for u in U), rel=1e-9)


def test_T2_normality_test_power_draws_the_stated_sizes(draws):
    reps, size, n = 6, 300, 2
    REGISTRY["T2.normality_test_power"](0, reps=reps, size=size)
    # per latent law: a mixing A + 2I and a shift; the uniform latent is U(-sqrt3, sqrt3)
    # (unit variance); the Laplace and gennorm latents are drawn by scipy
    _assert_draws(draws, Counter({("standard_normal", ((reps, n, n),)): 3,
                                  ("standard_normal", ((reps, 1, n),)): 3,
                                  ("uniform", (-math.sqrt(3), math.sqrt(3), (reps, size, n))): 1}),
                  {"standard_normal": 6, "uniform": 1})


def test_T2_gaussian_positive_case_draws_the_stated_sizes(draws):
    reps, size, n = 8, 120, 3
    REGISTRY["T2.gaussian_positive_case"](0, reps=reps, size=size)
    # per draw: a mean, a factor B of the covariance, the sample, a projection direction
    _assert_draws(draws, Counter({("standard_normal", (n,)): 2 * reps,
                                  ("standard_normal", ((n, n),)): reps,
                                  ("standard_normal", ((size, n),)): reps}),
                  {"standard_normal": 4 * reps})


def test_T2_affine_pushforward_draws_dimensions_1_to_6(draws):
    D = 30
    REGISTRY["T2.affine_pushforward"](0, draws=D)
    ns = _ints(draws, (1, 7))
    assert len(ns) == D
    # (a) A and b per draw; (b) for n >= 2 a rank-deficient matrix and a covariance factor
    stated = Counter()
    stated.update(("standard_normal", ((n, n),)) for n in ns)
    stated.update(("standard_normal", (n,)) for n in ns)
    stated.update(("standard_normal", ((n, n),)) for n in ns if n >= 2 for _ in range(2))
    _assert_draws(draws, stated | Counter({("integers", (1, 7)): D}),
                  {"integers": D, "standard_normal": 2 * D + 2 * sum(n >= 2 for n in ns)})


# ---------------------------------------------------------------- T3
def test_T3_random_polynomials_draw_the_stated_families(draws):
    P = 10
    REGISTRY["T3.bound_random_polynomials"](0, per_family=P)
    # every encoder: n ~ {1..5}, degree ~ {1..4}, rho ~ U(0.01, 0.99), a mean or none;
    # general: linear and nonlinear scales ~ U(0, 3); whitened: nonlinear ~ U(0, 3);
    # the three rotation families: log10 scales ~ U(-6, 0); scaled rotations: log factor
    # ~ U(-0.5, 0.5); near-singular: a Gaussian perturbation and log10 s_min ~ U(-8, -1)
    N = 5 * P
    _assert_draws(draws, Counter({("integers", (1, 6)): N, ("integers", (1, 5)): N,
                                  ("uniform", (0.01, 0.99)): N, ("choice", ((0.0, 1.0),)): N,
                                  ("uniform", (0, 3)): 3 * P, ("uniform", (-6, 0)): 6 * P,
                                  ("uniform", (-0.5, 0.5)): P, ("uniform", (-8, -1)): P}),
                  {"integers": 2 * N, "uniform": 16 * P, "choice": N, "standard_normal": P})


def test_T3_whitened_corollary_draws_the_stated_laws(draws):
    C = 25
    REGISTRY["T3.whitened_corollary"](0, count=C)
    _assert_draws(draws, Counter({("integers", (1, 6)): C, ("integers", (1, 5)): C,
                                  ("uniform", (0.01, 0.99)): C, ("uniform", (0, 3)): C}),
                  {"integers": 2 * C, "uniform": 2 * C})


def test_T3_tightness_draws_one_3x3_direction(draws):
    REGISTRY["T3.bound_tightness"](0)
    _assert_draws(draws, Counter({("standard_normal", ((3, 3),)): 1}), {"standard_normal": 1})


# ---------------------------------------------------------------- T4
def test_T4_rotation_invariance_draws_the_stated_problems(draws):
    N, trials = 9, 20
    REGISTRY["T4.dp_rotation_invariance"](0, problems=N)
    ns = [2 + i % 3 for i in range(N)]
    # per problem: start, goal, K actions, lambda ~ U(0.1, 1); a relabelling on odd problems;
    # the conjugacy residual on `trials` random states, goals and actions
    stated = Counter({("uniform", (0.1, 1.0)): N, ("permutation", (K,)): N // 2,
                      ("integers", (K,)): N * trials})
    stated.update(("standard_normal", ((K, n),)) for n in ns)
    stated.update(("standard_normal", (n,)) for n in ns for _ in range(2 + 2 * trials))
    # the Q-orbit problem (n = 2): start and goal; the straight line (n = 3): a bank of 300,
    # 10 start-goal pairs among them, the embedding's offset b
    stated.update({("standard_normal", (2,)): 2, ("standard_normal", ((300, 3),)): 1,
                   ("choice", (300, ("replace", False), ("size", (10, 2)))): 1,
                   ("standard_normal", (3,)): 1})
    _assert_draws(draws, stated, {"standard_normal": N * (3 + 2 * trials) + 4, "uniform": N,
                                  "permutation": N // 2, "integers": N * trials, "choice": 1})


def test_T4_counterexample_draws_the_stated_problems(draws):
    N = 6
    REGISTRY["T4.dp_nonorthogonal_counterexample"](0, problems=N)
    _assert_draws(draws, Counter({("standard_normal", (2,)): 2 * N,
                                  ("standard_normal", ((K, 2),)): N,
                                  ("uniform", (0.1, 1.0)): N}),
                  {"standard_normal": 3 * N, "uniform": N})


# ---------------------------------------------------------------- A1, A2
def _rho_draws(ns):
    """Uniform draws and permutations of ``_random_rhos`` for worlds of these dimensions:
    the fastest rate and the slowest, then, when ``n >= 2``, the rest between them (maybe
    none) and a permutation."""
    multi = sum(n >= 2 for n in ns)
    return 2 * len(ns) + multi, multi


def test_A1_threshold_exact_draws_the_stated_worlds(draws):
    W = 30
    REGISTRY["A1.threshold_exact"](0, worlds=W)
    ns = _ints(draws, (1, 5))
    uniforms, perms = _rho_draws(ns)
    # n ~ {1..4}; the fastest rate ~ U(0.05, 0.98), the slowest ~ U(0.01, fastest)
    _assert_draws(draws, Counter({("integers", (1, 5)): W, ("uniform", (0.05, 0.98)): W}),
                  {"integers": W, "uniform": uniforms, "permutation": perms})
    assert sum(m == "uniform" and a[0] == 0.01 for m, a, _ in draws) == W


def test_A1_whitened_gap_draws_the_stated_encoders_and_worlds(draws):
    E, sharp = 20, 50
    REGISTRY["A1.whitened_gap"](0, encoders=E)
    ns = _ints(draws, (1, 6)) * 2 + _ints(draws, (2, 6))          # an "in" and an "any" world
    uniforms, perms = _rho_draws(ns)
    # encoders: n ~ {1..5}, degree ~ {2..4}, log10 nonlinear scale ~ U(-2, 0.5); sharp
    # encoders: n ~ {2..5}, scale ~ U(0.1, 1.5)
    _assert_draws(draws, Counter({("integers", (1, 6)): E, ("integers", (2, 5)): E,
                                  ("uniform", (-2, 0.5)): E, ("integers", (2, 6)): sharp,
                                  ("uniform", (0.1, 1.5)): sharp,
                                  ("uniform", (0.05, 0.98)): 2 * E + sharp}),
                  {"integers": 2 * E + sharp, "uniform": uniforms + E + sharp,
                   "permutation": perms})


def test_A1_approximate_bound_draws_the_stated_encoders(draws):
    E, iso, fam = 20, 200, 50
    REGISTRY["A1.approximate_bound"](0, encoders=E)
    uniforms, perms = _rho_draws(_ints(draws, (1, 6)) + _ints(draws, (2, 6)))
    # encoders: n ~ {1..5}, degree ~ {1..3}, linear scale ~ U(0.3, 2), log10 nonlinear
    # ~ U(-2, 0); isotropic comparison: n ~ {1..8}, rho ~ U(0.01, 0.99), eps, delta ~ U(0, 2);
    # shrunk sharp encoders: n ~ {2..5}, t ~ U(0.01, 0.5), s^2 / (1 - t) ~ U(0.01, 0.9)
    _assert_draws(draws, Counter({("integers", (1, 6)): E, ("integers", (1, 4)): E,
                                  ("uniform", (0.3, 2.0)): E, ("uniform", (-2, 0)): E,
                                  ("integers", (1, 9)): iso, ("uniform", (0.01, 0.99)): iso,
                                  ("uniform", (0, 2)): 2 * iso, ("integers", (2, 6)): fam,
                                  ("uniform", (0.01, 0.5)): fam, ("uniform", (0.01, 0.9)): fam}),
                  {"integers": 2 * E + iso + fam,
                   "uniform": uniforms + 2 * E + 3 * iso + 2 * fam, "permutation": perms})


def test_A1_monte_carlo_draws_two_worlds_in_2_and_3_dimensions(draws):
    REGISTRY["A1.monte_carlo"](0, size=10_000)
    _assert_draws(draws, Counter({("uniform", (0.1, 0.95, 2)): 2, ("uniform", (0.1, 0.95, 3)): 2}),
                  {"uniform": 4})


@pytest.mark.parametrize("name", ["A2.fold_beats_rotations", "A2.conditional_rearrangement"])
def test_A2_feasibility_uses_half_the_stated_pairs(draws, name):
    size = 20_000
    REGISTRY[name](0, size=size)
    _assert_draws(draws, Counter({("standard_normal", ((size // 2, 2),)): 1}),
                  {"standard_normal": 1})


# ---------------------------------------------------------------- enumerated cases
# Checks without random inputs enumerate fixed cases; the spies below record the cases a
# check hands to the theory (or to its own ingredient) and compare them with the docstring.
def _recording(fn):
    """``fn`` and the list of the argument tuples it is called with."""
    calls = []

    def wrapper(*args):
        calls.append(args)
        return fn(*args)
    return wrapper, calls


def test_L1_checks_every_degree_up_to_the_maximum():
    weight, calls = _recording(lambda rho, d: 1 - rho**d)
    r = REGISTRY["L1.degree_gap_exact"](0, weight=weight)
    assert {d for _, d in calls} == set(range(1, 13)) and r.passed


def test_L2_exact_checks_the_stated_bivariate_indices():
    import sympy as sp
    poly, calls = _recording(sp.hermite_prob)
    r = REGISTRY["L2.mehler_exact"](0, poly=poly, max_degree=3)
    z2 = sp.Symbol("z2", real=True)
    second = [k for k, x in calls if x.has(z2) and x.free_symbols != {z2}]    # He_b(rho z2 + s e2)
    first = [k for k, x in calls if not x.has(z2) and len(x.free_symbols) > 1][3 + 1:]
    assert list(zip(first, second)) == [(1, 1), (2, 1), (3, 2), (0, 4), (2, 2)] and r.passed


def test_L2_monte_carlo_conditions_on_the_stated_points(monkeypatch, draws):
    from pycheck import theory as T
    hermite_calls = record_calls(monkeypatch, T, "hermite")
    eigen, eigen_calls = _recording(lambda rho, k: rho**k)
    size = 2_000
    r = REGISTRY["L2.mehler_monte_carlo"](0, eigen=eigen, size=size)
    stated = [(rho, z, k) for rho in (0.3, 0.8) for z in (-2.0, -0.7, 0.0, 0.5, 1.8)
              for k in range(1, 7)]
    assert [(rho, k) for rho, k in eigen_calls[:-1]] == [(rho, k) for rho, _, k in stated]
    assert eigen_calls[-1][0] == 0.6                       # (b): the 2-D cross-moments
    fixed = [(a[0], a[1]) for a, _ in hermite_calls if np.ndim(a[1]) == 0]
    assert fixed == [(k, z) for _, z, k in stated]
    # (a) draws z' = rho z + sqrt(1 - rho^2) eps with one noise sample per rho
    noise = {0.3: draws[0][2], 0.8: draws[1][2]}
    moved = [a for a, _ in hermite_calls if np.ndim(a[1]) == 1]
    for (rho, z, k), (kk, x) in zip(stated, moved, strict=True):
        assert kk == k and np.array_equal(x, rho * z + math.sqrt(1 - rho**2) * noise[rho])
    assert r.passed


def test_L3_orthogonality_checks_every_pair_up_to_degree_8():
    import sympy as sp
    poly, calls = _recording(sp.hermite_prob)
    r = REGISTRY["L3.hermite_orthogonality_exact"](0, poly=poly)
    pairs = {(calls[i][0], calls[i + 1][0]) for i in range(0, len(calls), 2)}
    assert pairs == {(j, k) for j in range(9) for k in range(j, 9)} and r.passed


def test_L3_quadrature_checks_the_stated_cases(monkeypatch):
    from pycheck import theory as T
    rules = record_calls(monkeypatch, T, "gauss_hermite")
    bases = record_calls(monkeypatch, T, "multi_indices")
    r = REGISTRY["L3.hermite_quadrature"](0)
    cases = [(1, 12), (2, 8), (3, 5), (5, 3)]               # (n, degree)
    assert [a for a, _ in rules] == [(d + 1, n) for n, d in cases]
    assert [a for a, _ in bases] == cases and r.figures["cases"] == [list(c) for c in cases]


def test_L4_checks_the_stated_encoders():
    from pycheck import theory as T
    formula, calls = _recording(T.alignment_loss)
    r = REGISTRY["L4.alignment_identity"](0, formula=formula, size=1_000)
    assert [(h.n, int(h.degrees.max()), rho) for h, rho in calls] == [
        (1, 4, 0.2), (2, 3, 0.5), (2, 4, 0.9), (3, 2, 0.7), (3, 3, 0.35), (1, 2, 0.05),
        (2, 1, 0.6), (3, 4, 0.95)]
    assert r.passed


def test_L7_checks_five_maps_in_each_dimension_up_to_4(monkeypatch):
    from pycheck import theory as T
    rules = record_calls(monkeypatch, T, "gauss_hermite")
    bases = record_calls(monkeypatch, T, "basis")
    transform, calls = _recording(lambda rng, n: T.random_rotation(rng, n))
    r = REGISTRY["L7.rotation_invariance"](0, transform=transform)
    assert [n for _, n in calls] == [n for n in (1, 2, 3, 4) for _ in range(5)]
    assert [a for a, _ in rules] == [(5, n) for n in (1, 2, 3, 4)]      # degree 4 + 1 nodes
    # every multi-index with 1 <= |alpha| <= 4 (alpha = 0 dropped: its mean is 1)
    for ((_, alphas), _), n in zip(bases, calls, strict=True):
        expected = [a for a in T.multi_indices(n[1], 4).tolist() if sum(a) >= 1]
        assert sorted(alphas.tolist()) == sorted(expected)
    assert r.figures["maps"] == 20 and r.passed


def test_T1_rotation_equality_checks_five_rotations_per_case(monkeypatch):
    from pycheck import theory as T
    calls = record_calls(monkeypatch, T, "rotation_encoder")
    REGISTRY["T1.rotation_equality"](0)
    cases = Counter((h.n, int(h.alphas.max())) for _, h in calls)
    assert set(cases.values()) == {5} and len(cases) == 11


def test_T2_gennorm_monte_carlo_z_scores_are_recomputed(monkeypatch, draws):
    """20 batches of 50 000 four-dimensional samples per law; z = (mean - predicted) / (s.d.
    with ddof = 1 / sqrt(20)), recomputed from the batch kurtoses the check computed."""
    from scipy import stats

    from pycheck.checks import t2
    batches = record_calls(monkeypatch, stats, "kurtosis")
    r = REGISTRY["T2.gennorm_projection_kurtosis"](0)
    assert [a[0].shape for a, _ in batches] == [(20, 50_000)] * 2
    us = [out / np.linalg.norm(out) for m, a, out in draws if a == (4,)]
    zs = [(k.mean() - t2._sum4(kappa, u)) / (k.std(ddof=1) / math.sqrt(20))
          for (_, k), u, kappa in zip(batches, us, (3.0, -1.2), strict=True)]
    assert r.figures["mc_z_scores"] == pytest.approx(zs, rel=1e-12)


def test_A1_monte_carlo_z_scores_are_recomputed_from_the_pairs(monkeypatch):
    """The mean of ``size`` squared steps recomputed from the pairs, over the exact s.e.
    (``E v``, ``E v²`` by quadrature, not the sample's; session 37)."""
    from pycheck import anisotropic as A
    from pycheck.checks.hermite import _alignment_moments
    pairs = record_calls(monkeypatch, A, "anisotropic_ou_pairs")
    loss, closed = _recording(A.alignment_loss)
    size = 110_000                         # two chunks of the check's 100 000, the second short
    r = REGISTRY["A1.monte_carlo"](0, loss=loss, size=size)
    worst = 0.0
    for i, (h, rho) in enumerate(closed):
        v = np.concatenate([((h(zn) - h(z)) ** 2).sum(1) for _, (z, zn) in pairs[2 * i:2 * i + 2]])
        assert len(v) == size
        m1, m2 = _alignment_moments(h, rho)
        se = math.sqrt((m2 - m1 * m1) / size)
        worst = max(worst, abs((v.mean() - A.alignment_loss(h, rho)) / se))
    # sums in another order than the check's chunks: rounding ~1e-12 of the z-score
    assert r.figures["max_abs_z"] == pytest.approx(worst, rel=1e-9)


# ---------------------------------------------------------------- how draws are used
@pytest.mark.parametrize("name, kwargs, log_range", [
    ("T1.lower_bound", {"examples": 1, "sweep": 30}, (-3, 0.5)),
    ("T1.nonlinear_gap", {"encoders": 30}, (-2, 0.5)),
    ("A1.whitened_gap", {"encoders": 30}, (-2, 0.5)),
    ("A1.approximate_bound", {"encoders": 30}, (-2, 0)),
])
def test_log_uniform_nonlinear_scales_reach_the_encoders(monkeypatch, draws, name, kwargs,
                                                        log_range):
    """The nonlinear scale handed to ``T.random_encoder`` is ``10^u`` for the stated draw
    ``u ~ U(log_range)``, with a random mean of scale 1 (the encoders are not centred)."""
    from pycheck import theory as T
    made = []
    real = T.random_encoder

    def spy(rng, n, degree, **kw):
        made.append(kw)
        return real(rng, n, degree, **kw)
    monkeypatch.setattr(T, "random_encoder", spy)
    REGISTRY[name](0, **kwargs)
    exps = [float(out) for m, a, out in draws if (m, a) == ("uniform", log_range)]
    swept = [kw for kw in made if "linear_scale" not in kw or name == "A1.approximate_bound"]
    assert exps and [kw["nonlinear_scale"] for kw in swept] == [10**u for u in exps]
    assert {kw["mean_scale"] for kw in swept} == {1.0}


def test_A1_threshold_exact_counts_ties_and_disagreements(monkeypatch):
    """Every third world is made a tie (gap 0: skipped), the next one has a gap of exactly
    1e-9 (not a tie: a tie is |g| < 1e-9); a threshold that answers the opposite of the true
    one then disagrees on every world that is not a tie."""
    from pycheck import anisotropic as A
    real, calls = A.spectral_gap, {"n": 0}

    def gap(rho):
        calls["n"] += 1
        return {0: 0.0, 1: 1e-9}.get(calls["n"] % 3, real(rho))
    monkeypatch.setattr(A, "spectral_gap", gap)
    W = 30
    r = REGISTRY["A1.threshold_exact"](0, worlds=W, threshold=lambda rho: real(rho) > 0)
    assert r.figures["ties_skipped"] == W // 3 and r.figures["threshold_disagreements"] == 0
    calls["n"] = 0
    r = REGISTRY["A1.threshold_exact"](0, worlds=W, threshold=lambda rho: not real(rho) > 0)
    assert r.figures["threshold_disagreements"] == W - W // 3 and not r.passed


def test_A1_threshold_exact_minimum_error_is_the_worst_world(monkeypatch):
    from pycheck import anisotropic as A
    from pycheck.checks import anisotropic as check_a
    brute = record_calls(monkeypatch, check_a, "_brute_top_weights")
    minimum, calls = _recording(A.whitened_minimum)
    r = REGISTRY["A1.threshold_exact"](0, worlds=30, minimum=minimum)
    worlds = calls[1:]                                     # the first is rho = (0.9, 0.5)
    assert len(worlds) == len(brute) == 30
    assert r.figures["max_minimum_error"] == max(
        abs(A.whitened_minimum(rho) - 2 * (1 - lam).sum()) for (rho,), ((_,), (lam, _)) in
        zip(worlds, brute))


def test_A1_threshold_exact_fails_on_a_wrong_minimum_at_the_counterexample_alone():
    """The closed-form minimum 1e-6 off at rho = (0.9, 0.5) only (right on every random
    world): the exact counterexample's value is wrong, the check must fail."""
    from pycheck import anisotropic as A

    def minimum(rho):
        return A.whitened_minimum(rho) + (1e-6 if list(rho) == [0.9, 0.5] else 0.0)
    r = REGISTRY["A1.threshold_exact"](0, worlds=20, minimum=minimum)
    assert r.figures["max_minimum_error"] <= 1e-12 and not r.passed


def test_T3_tightness_path_is_the_stated_family(monkeypatch, draws):
    """Step k of the path is ``h_t = Q (I + tS) z + t (nonlinear + mean)`` with ``t = 2^-k``,
    ``S = G Gᵀ / n`` for the drawn 3 × 3 ``G``, a Haar ``Q`` and a degree-3 encoder with a mean;
    the extremal family is taken at ``δ = 10^-1 … 10^-4``."""
    from pycheck import theory as T
    from pycheck.checks import t3
    rotations = record_calls(monkeypatch, T, "random_rotation")
    bases = record_calls(monkeypatch, T, "random_encoder")
    quantities = record_calls(monkeypatch, T, "t3_quantities")
    extremal = record_calls(monkeypatch, t3, "_extremal")
    steps = 8
    REGISTRY["T3.bound_tightness"](0, steps=steps)
    (((_, n), Q),), (((_, n_base, degree), base),) = rotations, bases
    assert (n, n_base, degree) == (3, 3, 3) and base.coef[:, 0].any()        # with a mean
    G = draws[0][2]
    S = G @ G.T / n
    for k, ((h, rho), _) in enumerate(quantities[:steps]):
        t = 2.0**-k
        expected = t * base.coef
        expected[:, 1:n + 1] = Q @ (np.eye(n) + t * S)
        assert rho == 0.6 and np.array_equal(h.coef, expected)
    assert [a for a, _ in extremal] == [(3, 0.6, d) for d in (1e-1, 1e-2, 1e-3, 1e-4)]


def _mehler_z_scores(monkeypatch, eigen, size, seed):
    """Run L2's Monte Carlo with spies; return the report and the z-scores of parts (a)
    and (b) recomputed from the draws (the s.e. exact, from the check's own quadrature
    variances, which do not use the spied functions)."""
    from pycheck.checks.hermite import _conditional_variance, _cross_variances
    from pycheck import theory as T
    moved = record_calls(monkeypatch, T, "hermite")
    pairs = record_calls(monkeypatch, T, "ou_pairs")
    eigen_spy, _ = _recording(eigen)
    r = REGISTRY["L2.mehler_monte_carlo"](seed, eigen=eigen_spy, size=size)
    samples = [v for a, v in moved if np.ndim(a[1]) == 1]
    points = [(a[0], a[1], v) for a, v in moved if np.ndim(a[1]) == 0]
    rhos = [rho for rho in (0.3, 0.8) for _ in range(30)]
    za = [(v.mean() - eigen(rho, k) * hz) / math.sqrt(_conditional_variance(rho, z0, k) / size)
          for v, (k, z0, hz), rho in zip(samples, points, rhos, strict=True)]
    (_, (z, zp)), = pairs
    alphas = T.multi_indices(2, 3)
    P, Pp = T.basis(z, alphas), T.basis(zp, alphas)
    m1 = Pp.T @ P / size
    se = np.sqrt(_cross_variances(0.6, alphas) / size)
    diff = m1 - np.diag(eigen(0.6, alphas.sum(axis=1)).astype(float))
    constant = np.zeros_like(se, dtype=bool)
    constant[0, 0] = True                         # phi_0 = 1: no spread and diff = 0 exactly
    assert diff[0, 0] == 0 and np.all(se[~constant] > 0)
    zb = np.where(constant, 0.0, diff / np.where(constant, 1.0, se))
    four = T.multi_indices(2, 4)
    zc = T.basis(zp, four[four.sum(axis=1) == 4]).mean(axis=0) * math.sqrt(size)
    assert zc.size == 5                      # (c): the five degree-4 moments of z', variance 1
    return r, np.abs(za), np.abs(zb), np.abs(zc)


@pytest.mark.parametrize("seed, part", [(0, "a"), (1, "b")])
def test_L2_monte_carlo_z_scores_are_recomputed(monkeypatch, seed, part):
    """The reported max |z| is the largest of the z-scores recomputed from the draws; at
    seed 0 it is a conditional moment's (a), at seed 1 a cross-moment's (b), so a wrong
    normaliser in either part changes it. rel 1e-12: the same operations, in another order."""
    r, za, zb, zc = _mehler_z_scores(monkeypatch, lambda rho, k: rho**k, 4_000, seed)
    worst = {"a": za.max(), "b": zb.max(), "c": zc.max()}
    assert worst[part] == max(worst.values())
    assert r.figures["max_abs_z"] == pytest.approx(worst[part], rel=1e-12)
    assert r.figures["tests"] == len(za) + zb.size + zc.size


def test_A1_whitened_gap_slacks_are_per_dimension(monkeypatch):
    """Both slacks (the gap's and the one over the whitened minimum) are divided by 2n. In
    1-D they are smallest (the reported minima sit at n = 1, where 2n = 2/n), so every 1-D
    encoder is replaced by the whitened ``z + He_3(z)`` (all its nonlinear energy in degree
    3, where neither slack is tight), and both minima move to n >= 2, where the normaliser
    shows."""
    from pycheck import anisotropic as A
    from pycheck import theory as T

    def prepare(h):
        if h.n == 1:                                   # z + He_3(z): degree 3, far from tight
            h = T.PolyEncoder(np.array([[0.0, 1.0, 0.0, 1.0]]), T.multi_indices(1, 3))
        return T.whiten(h)
    losses = record_calls(monkeypatch, A, "alignment_loss")
    encoders = 40
    r = REGISTRY["A1.whitened_gap"](0, prepare=prepare, encoders=encoders)
    slack = [((L - A.whitened_minimum(rho)) / (2 * h.n), h.n)
             for (h, rho), L in losses[1:2 * encoders:2]]
    assert min(slack)[1] >= 2 and r.figures["worst_minimum_slack"] == min(slack)[0]
    gap = [((L - A.rotation_alignment(rho) - 2 * A.spectral_gap(rho) * T.nonlinear_energy(h))
            / (2 * h.n), h.n) for (h, rho), L in losses[0:2 * encoders:2]]
    assert min(gap)[1] >= 2 and r.figures["worst_gap_slack"] == min(gap)[0]


# ---------------------------------------------------------------- figures recomputed
# (written after reading the held-out samples of session 8)
def test_L5_slack_and_rank_deficient_family_recomputed(monkeypatch, draws):
    """worst_relative_slack is min (rhs - lhs) / (1 + rhs) over the matrices, and the
    rank-deficient family is ``G[:, :n-1] N / n`` for the drawn G (n, n) and N (n - 1, n)."""
    from pycheck.checks import hermite
    calls = record_calls(monkeypatch, hermite, "_nearest_orthogonal_distance")
    P = 8
    r = REGISTRY["L5.procrustes_bound"](0, per_family=P)
    slack = []
    for (W,), lhs in calls:
        rhs = float(np.linalg.norm(W @ W.T - np.eye(len(W))))
        slack.append((rhs - lhs) / (1 + rhs))
    assert r.figures["worst_relative_slack"] == min(slack)
    gaussians = [out for m, a, out in draws if m == "standard_normal"]
    # draws per matrix: G, then for the rank-deficient family (the 3rd) a second factor N
    pairs = gaussians[2 * P:4 * P]
    for i, ((W,), _) in enumerate(calls[2 * P:3 * P]):
        G, N = pairs[2 * i], pairs[2 * i + 1]
        n = len(G)
        assert np.array_equal(W, G[:, :max(n - 1, 0)] @ N / n)


def test_L6_error_figure_is_relative_to_1_plus_the_energy(monkeypatch):
    from pycheck import theory as T
    from pycheck.checks import hermite
    quads = record_calls(monkeypatch, hermite, "_first_chaos_distance")
    energies = record_calls(monkeypatch, T, "chaos_energies")
    r = REGISTRY["L6.first_chaos"](0)
    worst = 0.0
    for (_, quad), (_, e) in zip(quads, energies, strict=True):
        if e.shape[1] < 2:
            e = np.pad(e, ((0, 0), (0, 2 - e.shape[1])))
        pred = e.sum(axis=1) - e[:, 1]
        worst = max(worst, float(np.max(np.abs(quad - pred) / (1 + e.sum(axis=1)))))
    assert r.figures["max_rel_error"] == worst > 0


def test_A1_approximate_bound_figures_recomputed(monkeypatch):
    """min B / E_nl over the encoders of degree >= 2, and the largest relative difference
    of the isotropic bound from T3's."""
    from pycheck import anisotropic as A
    from pycheck import theory as T
    bound, calls = _recording(A.anisotropic_bound)
    made = record_calls(monkeypatch, T, "random_encoder")
    E = 40
    r = REGISTRY["A1.approximate_bound"](0, bound=bound, encoders=E)
    tight, iso = [], []
    for (eps, delta, rho), ((_, _, degree), h) in zip(calls[:E], made, strict=True):
        if degree >= 2:
            tight.append((A.anisotropic_bound(eps, delta, rho).energy / T.nonlinear_energy(h),
                          degree))
    for eps, delta, rho in calls[E:E + 200]:
        t3 = T.t3_bound(eps, delta, len(rho), rho[0]).deviation
        iso.append(abs(A.anisotropic_bound(eps, delta, rho).deviation - t3) / t3)
    assert len(iso) == 200 and r.figures["isotropic_rel_error"] == max(iso)
    # then 50 shrunk sharp encoders (session 45), each in a world with unequal rates
    family = calls[E + 200:]
    assert len(family) == 50 and all(min(rho) < max(rho) for _, _, rho in family)
    assert 0 < r.figures["shrunk_sharp_rel_error"] <= 1e-9
    # the minimum sits at a degree-2 encoder here, so dropping degree 2 would change it
    assert (r.figures["min_B_over_Enl"], 2) == min(tight)


def test_T3_tightness_reports_the_extremal_deltas():
    r = REGISTRY["T3.bound_tightness"](0, steps=8)
    assert r.figures["extremal_delta"] == [1e-1, 1e-2, 1e-3, 1e-4]


def test_T2_normality_power_mixes_by_A_plus_2I(monkeypatch, draws):
    """The affine mixing is ``A = N + 2I`` for the drawn Gaussian ``N``: the population
    covariance whose eigenvectors the check uses is ``A Aᵀ``."""
    eighs = record_calls(monkeypatch, np.linalg, "eigh")
    reps, n = 6, 2
    REGISTRY["T2.normality_test_power"](0, reps=reps, size=300)
    mixings = [out for m, a, out in draws if a == (((reps, n, n)),)]
    population = [a[0] for a, _ in eighs[1::2]]               # (empirical, population) per law
    assert len(mixings) == len(population) == 3
    for N, S in zip(mixings, population):
        A = N + 2 * np.eye(n)
        assert np.array_equal(S, A @ A.transpose(0, 2, 1))


def test_T4_orbit_problem_goal_is_3_times_a_Gaussian(monkeypatch, draws):
    from pycheck.checks import t4
    plans = record_calls(monkeypatch, t4, "plan")
    problems = 4
    REGISTRY["T4.dp_rotation_invariance"](0, problems=problems)
    # after them: the straight line's bank, its pairs and its offset (three draws)
    (s0, g), (_, orbit_call) = (draws[-5][2], draws[-4][2]), (None, plans[2 * problems])
    args = orbit_call[0]
    assert np.array_equal(args[0], s0) and np.array_equal(args[1], 3 * g)
    assert args[3:] == (4, 0.5)                                # horizon 4, lambda 1/2


# ---------------------------------------------------------------- after reading seed 10
def test_L5_large_family_is_the_drawn_gaussian_scaled_by_10_to_the_u(monkeypatch, draws):
    """The 5th family is ``10^u G`` for the drawn ``G`` (n, n) and ``u ~ U(0, 3)``, bit for
    bit (``10^u / G`` draws the same numbers and must fail)."""
    from pycheck.checks import hermite
    calls = record_calls(monkeypatch, hermite, "_nearest_orthogonal_distance")
    P = 8
    REGISTRY["L5.procrustes_bound"](0, per_family=P)
    gaussians = [out for m, a, out in draws if m == "standard_normal"]
    scales = [out for m, a, out in draws if m == "uniform" and a == (0, 3)]
    # Gaussians per family: one G each, two for the rank-deficient one (the 3rd)
    large = gaussians[5 * P:6 * P]
    assert len(scales) == P
    for (W,), G, u in zip((c[0] for c in calls[4 * P:5 * P]), large, scales, strict=True):
        assert np.array_equal(W, 10.0 ** u * G)


def test_T2_projection_identity_is_checked_in_dimensions_2_and_3(monkeypatch):
    """The docstring's symbolic identity is verified for n = 2 and n = 3, once each."""
    from pycheck.checks import t2
    calls = record_calls(monkeypatch, t2, "_projection_identity")
    assert t2.gennorm_projection_kurtosis(0).passed
    assert [args[0] for args, _ in calls] == [2, 3]
