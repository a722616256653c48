"""The laws of the random inputs the checks draw (issue #17, mutation class G).

Each generator's docstring states its law (families, ranges, counts, signs); these tests draw
from it with a fixed seed and check the draws against that statement. A range ``U(a, b)`` is
checked at both ends: every draw inside it (up to float rounding), and the smallest and
largest of ``N`` draws within :func:`_reach` of the ends, a margin a correct law misses with
probability 1e-6, so the seed is not a lucky one.
"""
import inspect
import math

import numpy as np
import pytest
from scipy import stats

from pycheck import theory as T
from pycheck.checks import anisotropic, t3, t4

MISS = 1e-6          # probability that a correct uniform law leaves an end unreached
ROUND = 1e-12        # float rounding of a drawn value at an end of its range
P_KS = 1e-4          # KS level: a correct law fails at a random seed with this probability


def _reach(width: float, draws: int) -> float:
    """Margin ``m`` with ``P(min of draws U(a, a + width) > a + m) = MISS``."""
    return width * (1 - MISS ** (1 / draws))


def _assert_uniform_range(values, lo: float, hi: float) -> None:
    values = np.asarray(values, dtype=float)
    assert values.min() >= lo - ROUND and values.max() <= hi + ROUND, (values.min(), values.max())
    m = _reach(hi - lo, values.size)
    assert values.min() <= lo + m and values.max() >= hi - m, (values.min(), values.max(), m)


def _spy(monkeypatch, name: str, log: list) -> None:
    """Record every call of ``T.<name>`` (arguments with defaults filled in, and the result)."""
    original = getattr(T, name)
    signature = inspect.signature(original)

    def wrapper(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        out = original(*args, **kwargs)
        log.append((name, dict(bound.arguments), out))
        return out

    monkeypatch.setattr(T, name, wrapper)


def _draws(monkeypatch, families, count: int, seed: int = 0) -> dict:
    """``{family: [(h, rho, calls)] * count}`` from ``t3._draw``; ``calls`` are the spied
    ``random_encoder`` / ``random_whitened_encoder`` / ``random_rotation`` calls of that draw."""
    log = []
    for name in ("random_encoder", "random_whitened_encoder", "random_rotation"):
        _spy(monkeypatch, name, log)
    rng = np.random.default_rng(seed)
    out = {}
    for family in families:
        out[family] = []
        for _ in range(count):
            log.clear()
            h, rho = t3._draw(rng, family)
            out[family].append((h, rho, list(log)))
    return out


def _call(calls, name: str):
    """``(arguments, result)`` of the one call of ``name`` in a draw's ``calls``."""
    (found,) = [(args, res) for n, args, res in calls if n == name]
    return found


ROTATION_FAMILIES = ("near_rotation", "scaled_rotation", "near_singular")
DRAWS = 300


@pytest.fixture
def draws(monkeypatch):
    """``{family: draws}`` for every family. Drawn per test, not per module: mutmut maps a
    mutant to the tests that call the mutated function, so every test must call it."""
    return _draws(monkeypatch, t3.FAMILIES, DRAWS)


def test_t3_draw_sizes_rates_and_means(draws):
    every = [d for family in t3.FAMILIES for d in draws[family]]
    assert {h.n for h, _, _ in every} == set(range(1, 6))
    assert {int(h.degrees.max()) for h, _, _ in every} == set(range(1, 5))
    _assert_uniform_range([rho for _, rho, _ in every], 0.01, 0.99)
    for family in ("general", *ROTATION_FAMILIES):
        scales = [_call(c, "random_encoder")[0]["mean_scale"] for _, _, c in draws[family]]
        assert set(scales) == {0.0, 1.0}
        # Probability 1/2 each: a binomial count within 5 s.d. of DRAWS / 2.
        assert abs(scales.count(1.0) - DRAWS / 2) <= 5 * math.sqrt(DRAWS / 4)


def test_t3_general_and_whitened_scales_are_uniform_on_0_3(draws):
    general = [_call(c, "random_encoder") for _, _, c in draws["general"]]
    for key in ("linear_scale", "nonlinear_scale"):
        _assert_uniform_range([args[key] for args, _ in general], 0.0, 3.0)
    for h, _, calls in draws["general"]:
        np.testing.assert_array_equal(h.coef, _call(calls, "random_encoder")[1].coef)
    whitened = [_call(c, "random_whitened_encoder") for _, _, c in draws["whitened"]]
    _assert_uniform_range([args["nonlinear_scale"] for args, _ in whitened], 0.0, 3.0)
    for (h, _, _), (_, res) in zip(draws["whitened"], whitened):
        np.testing.assert_array_equal(h.coef, res.coef)


def test_t3_rotation_families_have_log_uniform_scales(draws):
    calls = [_call(c, "random_encoder")[0] for f in ROTATION_FAMILIES for _, _, c in draws[f]]
    for key in ("linear_scale", "nonlinear_scale"):
        _assert_uniform_range(np.log10([args[key] for args in calls]), -6.0, 0.0)


def _added_block(h, calls) -> np.ndarray:
    """``R``: the degree-1 block of ``h`` minus that of the drawn random encoder; every other
    coefficient must be the random encoder's."""
    base = _call(calls, "random_encoder")[1].coef
    n = h.n
    np.testing.assert_array_equal(np.delete(h.coef, np.s_[1:n + 1], axis=1),
                                  np.delete(base, np.s_[1:n + 1], axis=1))
    return h.coef[:, 1:n + 1] - base[:, 1:n + 1]


# The subtraction of the base block (entries <= ~10 in size) loses at most a few ulps.
BLOCK_ATOL = 1e-13


def test_t3_near_rotation_adds_the_haar_rotation(draws):
    for h, _, calls in draws["near_rotation"]:
        Q = _call(calls, "random_rotation")[1]
        np.testing.assert_allclose(_added_block(h, calls), Q, rtol=0, atol=BLOCK_ATOL)


def test_t3_scaled_rotation_adds_a_positive_multiple_of_the_rotation(draws):
    logs = []
    for h, _, calls in draws["scaled_rotation"]:
        Q = _call(calls, "random_rotation")[1]
        scaled = _added_block(h, calls) @ Q.T          # e^u I for R = e^u Q
        c = scaled[0, 0]
        np.testing.assert_allclose(scaled, c * np.eye(h.n), rtol=0, atol=BLOCK_ATOL)
        assert c > 0
        logs.append(math.log(c))
    _assert_uniform_range(logs, -0.5, 0.5)


def test_t3_near_singular_block_has_one_small_singular_value(draws):
    smallest, kept = [], []
    for h, _, calls in draws["near_singular"]:
        s = np.linalg.svd(_added_block(h, calls), compute_uv=False)
        smallest.append(math.log10(s[-1]))
        kept.extend(s[:-1])
    # s[-1] >= 1e-8 against subtraction errors <= 1e-13: its log10 is exact to ~1e-5.
    smallest = np.array(smallest)
    assert smallest.min() >= -8 - 1e-4 and smallest.max() <= -1 + 1e-4
    m = _reach(7.0, smallest.size)
    assert smallest.min() <= -8 + m and smallest.max() >= -1 - m
    # Q + G with a full Gaussian G: no kept singular value is 1 (a rank-one shift of Q keeps
    # n - 2 of them at exactly 1, to rounding).
    assert np.all(np.abs(np.array(kept) - 1) > 1e-6)


def test_random_rhos_follow_the_stated_law():
    rng = np.random.default_rng(0)
    draws = 2000
    for gap in ("in", "any"):
        single = [anisotropic._random_rhos(rng, 1, gap) for _ in range(draws)]
        assert all(r.shape == (1,) for r in single)
        _assert_uniform_range(np.concatenate(single), 0.05, 0.98)
        for n in (2, 4):
            rhos = np.array([anisotropic._random_rhos(rng, n, gap) for _ in range(draws)])
            hi, lo = rhos.max(axis=1), rhos.min(axis=1)
            floor = hi**2 if gap == "in" else 0.01
            pivots = {"hi": (hi - 0.05) / 0.93, "lo": (lo - floor) / (hi - floor)}
            if n > 2:   # the middle rates, pivoted on (lo, hi): i.i.d. U(0, 1)
                mid = np.sort(rhos, axis=1)[:, 1:-1]
                pivots["middle"] = ((mid - lo[:, None]) / (hi - lo)[:, None]).ravel()
            for name, u in pivots.items():
                assert stats.kstest(u, "uniform").pvalue > P_KS, (gap, n, name)
            # Random order: the largest rate sits at each position equally often.
            at = np.bincount(rhos.argmax(axis=1), minlength=n) / draws
            assert np.abs(at - 1 / n).max() <= 5 * math.sqrt((1 / n) * (1 - 1 / n) / draws)


# Maps whose column ``j`` of (y1, y2, (y1+y2)/√2, (y1-y2)/√2) is the furthest from N(0, 1):
# the first two rescale one output (variance 1.69 against 1.35 for sum and difference), the
# last two keep both outputs N(0, 1) with correlation -1/2 or 1/2, so the sum's or the
# difference's variance is 1/2 (against 3/2 for the other).
MAPS = [lambda z: np.c_[1.3 * z[:, 0], z[:, 1]],
        lambda z: np.c_[z[:, 0], 1.3 * z[:, 1]],
        lambda z: np.c_[z[:, 0], -0.5 * z[:, 0] + math.sqrt(0.75) * z[:, 1]],
        lambda z: np.c_[z[:, 0], 0.5 * z[:, 0] + math.sqrt(0.75) * z[:, 1]]]


@pytest.mark.parametrize("column", range(4))
def test_feasible_is_the_smallest_of_its_four_ks_p_values(column):
    seen = []

    def h(z):
        seen.append(z)
        return MAPS[column](z)

    size = 3000
    p_min, corr = anisotropic._feasible(h, np.random.default_rng(column), size)
    (z,) = seen
    assert z.shape == (size, 2)
    y = MAPS[column](z)
    cols = [y[:, 0], y[:, 1], (y[:, 0] + y[:, 1]) / math.sqrt(2),
            (y[:, 0] - y[:, 1]) / math.sqrt(2)]
    p = [stats.kstest(c, "norm").pvalue for c in cols]
    assert int(np.argmin(p)) == column and sorted(p)[1] > 10 * p[column]  # the map's purpose
    # Exact: the same SciPy and NumPy calls on the same arrays.
    assert p_min == p[column]
    assert corr == np.corrcoef(y.T)[0, 1]


def test_t4_problem_follows_the_stated_law():
    rng = np.random.default_rng(0)
    n, K, count = 3, 4, 2000
    problems = [t4._problem(rng, n, K) for _ in range(count)]
    assert all(s.shape == (n,) and g.shape == (n,) and a.shape == (K, n)
               for s, g, a, _ in problems)
    for idx, variance in ((0, 1.0), (1, 9.0), (2, 1.0)):
        x = np.concatenate([np.ravel(p[idx]) for p in problems])
        # Sample variance of m Gaussian values: s.d. variance * sqrt(2 / (m - 1)); 5 s.d.
        assert abs(x.var() - variance) <= 5 * variance * math.sqrt(2 / (x.size - 1)), idx
        assert abs(x.mean()) <= 5 * math.sqrt(variance / x.size), idx
        assert stats.kstest(x / math.sqrt(variance), "norm").pvalue > P_KS, idx
    _assert_uniform_range([p[3] for p in problems], 0.1, 1.0)


class _RecordingGenerator(np.random.Generator):
    """A PCG64 generator that records what ``uniform`` and ``standard_normal`` return."""

    def __init__(self, seed: int):
        super().__init__(np.random.PCG64(seed))
        self.log = []

    def uniform(self, *args, **kwargs):
        out = super().uniform(*args, **kwargs)
        self.log.append(("uniform", args, out))
        return out

    def standard_normal(self, *args, **kwargs):
        out = super().standard_normal(*args, **kwargs)
        self.log.append(("standard_normal", args, out))
        return out

    def drawn(self, method: str, args: tuple):
        """The one value ``method(*args)`` returned since the log was cleared."""
        (out,) = [o for m, a, o in self.log if m == method and a == args]
        return out


def test_t3_rotation_families_are_built_from_their_draws(monkeypatch):
    """``e^u Q`` with the drawn ``u`` (not ``e^{-u}``: same law, another encoder), and the
    near-singular block from ``Q + G`` with the drawn ``G`` (not ``Q − G``)."""
    log = []
    _spy(monkeypatch, "random_encoder", log)
    _spy(monkeypatch, "random_rotation", log)
    rng = _RecordingGenerator(1)
    for family in ("scaled_rotation", "near_singular"):
        for _ in range(100):
            log.clear()
            rng.log.clear()
            h, _ = t3._draw(rng, family)
            Q, n = _call(log, "random_rotation")[1], h.n
            if family == "scaled_rotation":
                want = math.exp(rng.drawn("uniform", (-0.5, 0.5))) * Q
            else:
                U, s, Vt = np.linalg.svd(Q + rng.drawn("standard_normal", ((n, n),)))
                s[-1] = 10 ** rng.drawn("uniform", (-8, -1))
                want = U * s @ Vt
            np.testing.assert_allclose(_added_block(h, log), want, rtol=0, atol=BLOCK_ATOL)
