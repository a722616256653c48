"""T3: E_nl ≤ B and D(h) ≤ B + (δ+B)², B = (ε + 2(1−ρ)√n δ)/(2ρ(1−ρ))."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pycheck import theory as T
from pycheck.checks import t3

from spies import record_calls_with_generator


def test_T3_checks_registered(checks_of):
    assert set(checks_of("T3")) == {"T3.bound_random_polynomials", "T3.bound_tightness",
                                    "T3.whitened_corollary", "T3.ingredients",
                                    "L4.alignment_identity"}


@st.composite
def encoders(draw):
    n, degree = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    alphas = T.multi_indices(n, degree)
    coef = draw(arrays(float, (n, len(alphas)),
                       elements=st.floats(-3, 3, allow_subnormal=False)))
    return T.PolyEncoder(coef, alphas)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(h=encoders(), rho=st.floats(0.01, 0.99))
def test_T3_bound_hypothesis(h, rho):
    """Arbitrary coefficient arrays (not centred, not whitened, possibly singular)."""
    q = T.t3_quantities(h, rho)
    # closed forms: only float rounding, relative to the bound's size
    assert q.nonlinear_energy <= q.bound.energy + 1e-9 * (1 + abs(q.bound.energy))
    assert q.deviation <= q.bound.deviation + 1e-9 * (1 + q.bound.deviation)


def test_T3_bound_random_polynomials_passes():
    r = t3.bound_random_polynomials(0)
    assert r.passed and r.figures["encoders"] >= 3000 and r.figures["violations"] == 0


def _B(eps, delta, n, rho, *, root_n=True):
    return (eps + 2 * (1 - rho) * (math.sqrt(n) if root_n else 1) * delta) / (2 * rho * (1 - rho))


_TRUE = T.t3_bound
BROKEN = {
    # the δ term dropped: fails as soon as ε < 0 (shrunk encoders)
    "no_delta_term": lambda e, d, n, r: T.T3Bound(_B(e, 0, n, r), _B(e, 0, n, r) + (d + _B(e, 0, n, r)) ** 2),
    # √n replaced by 1
    "no_sqrt_n": lambda e, d, n, r: T.T3Bound(_B(e, d, n, r, root_n=False),
                                              _B(e, d, n, r, root_n=False) + (d + _B(e, d, n, r, root_n=False)) ** 2),
    # the Procrustes term (δ + B)² dropped
    "no_procrustes_term": lambda e, d, n, r: T.T3Bound(_B(e, d, n, r), _B(e, d, n, r)),
    # 1 − ρ² in the denominator instead of ρ(1 − ρ): forgets that degree 1 also costs 1 − ρ
    "wrong_denominator": lambda e, d, n, r: T.T3Bound(_B(e, d, n, r) * r / (1 + r),
                                                      _TRUE(e, d, n, r).deviation),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_T3_bound_random_polynomials_fails_for_a_wrong_formula(monkeypatch, name):
    monkeypatch.setattr(T, "t3_bound", BROKEN[name])
    r = t3.bound_random_polynomials(0, per_family=200)
    assert not r.passed and r.figures["violations"] > 0


def test_T3_bound_tightness_passes():
    r = t3.bound_tightness(0)
    assert r.passed and r.figures["final_bound"] < 1e-5
    assert all(abs(x - 1) < 1e-9 for x in r.figures["extremal_E_nl_over_B"])


def test_T3_bound_tightness_fails_when_the_limit_is_not_a_rotation():
    assert not t3.bound_tightness(0, limit=lambda Q: 2 * Q).passed


def test_T3_bound_tightness_fails_for_a_bound_that_does_not_vanish(monkeypatch):
    true = T.t3_bound
    monkeypatch.setattr(T, "t3_bound", lambda *a: T.T3Bound(*(x + 0.01 for x in true(*a))))
    assert not t3.bound_tightness(0).passed


def test_T3_bound_tightness_fails_for_a_bound_below_the_extremal_family(monkeypatch):
    true = T.t3_bound
    monkeypatch.setattr(T, "t3_bound", lambda *a: T.T3Bound(*(0.9 * x for x in true(*a))))
    assert not t3.bound_tightness(0).passed


def test_T3_extremal_encoder_attains_the_energy_bound():
    for n, rho, delta in [(1, 0.3, 0.01), (3, 0.6, 0.02), (5, 0.9, 0.001)]:
        q = T.t3_quantities(t3._extremal(n, rho, delta), rho)
        assert abs(q.eps) < 1e-12 and abs(q.delta - delta) < 1e-12
        assert abs(q.nonlinear_energy - q.bound.energy) < 1e-12


def test_T3_whitened_corollary_passes():
    r = t3.whitened_corollary(0)
    assert r.passed and r.figures["violations"] == 0 and r.figures["max_delta"] <= 1e-9


def test_T3_whitened_corollary_fails_without_the_quadratic_term():
    # D ≤ B fails for whitened encoders whose linear part is far from orthogonal
    r = t3.whitened_corollary(0, bound=lambda B: 0.5 * B)
    assert not r.passed and r.figures["violations"] > 0


def _inject(monkeypatch, replace):
    """Make the quantities of the ``k``-th encoder (from 0) ``replace(k, exact q)``;
    returns the list of the ``(h, rho)`` of every call."""
    exact, calls = T.t3_quantities, []

    def injected(h, rho):
        q = replace(len(calls), exact(h, rho))
        calls.append((h, rho))
        return q
    monkeypatch.setattr(T, "t3_quantities", injected)
    return calls


def _random_polynomials_with(monkeypatch, replace, per_family=1):
    calls = _inject(monkeypatch, replace)
    return t3.bound_random_polynomials(0, per_family=per_family), calls


def _values(q, energy, bound_energy, deviation, bound_deviation):
    return q._replace(nonlinear_energy=energy, deviation=deviation,
                      bound=T.T3Bound(bound_energy, bound_deviation))


def test_T3_max_D_over_bound_is_over_every_positive_bound(monkeypatch):
    """``max D/bound`` is over the encoders whose deviation bound is positive (the ratio is
    undefined at 0), small bounds included: D/bound = 0.375/0.5 = 0.75 on the first encoder,
    an encoder with bound 0 and D = 0, and 1/2 on the others (all exact in floats)."""
    def replace(k, q):
        dev = {0: (0.375, 0.5), 1: (0.0, 0.0)}.get(k, (1.0, 2.0))
        return _values(q, 0.0, 1.0, *dev)
    r, calls = _random_polynomials_with(monkeypatch, replace, per_family=2)
    assert len(calls) == 10 and r.figures["violations"] == 0
    assert r.figures["max_D_over_bound"] == 0.75


def test_T3_worst_case_is_the_first_encoder_of_the_smallest_slack(monkeypatch):
    """Equal quantities for every encoder (slacks 0.5/2 and 1/3): the reported worst case
    is the first one drawn, a near-rotation, with its ``n`` and ``rho``."""
    r, calls = _random_polynomials_with(monkeypatch, lambda k, q: _values(q, 0.5, 1.0, 1.0, 2.0))
    h, rho = calls[0]
    assert r.figures["worst_relative_slack_energy"] == 0.25
    assert r.figures["worst_case"].startswith(f"near_rotation: n={h.n}, rho={rho:.3g}, ")


STEPS = 24        # bound_tightness's path: quantities 0..23, then the extremal family 24..27


@pytest.mark.parametrize("past, passed", [(False, True), (True, False)])
def test_T3_tightness_D_exactly_1e_9_above_the_bound_passes(monkeypatch, past, passed):
    """``D <= bound (1 + 1e-9)`` is non-strict: D set to that product at one step passes,
    the next float above it fails."""
    def replace(k, q):
        if k != 12:
            return q
        edge = q.bound.deviation * (1 + 1e-9)
        return q._replace(deviation=np.nextafter(edge, math.inf) if past else edge)
    _inject(monkeypatch, replace)
    assert t3.bound_tightness(0).passed == passed


def test_T3_tightness_extremal_ratio_must_increase_strictly(monkeypatch):
    """D / bound on the extremal family increases strictly: the third ratio made equal to the
    second (both quantities copied; the last ratio is still above 0.999) fails."""
    second = {}

    def replace(k, q):
        if k == STEPS + 1:
            second["q"] = q
        if k == STEPS + 2:
            return q._replace(deviation=second["q"].deviation, bound=q.bound._replace(
                deviation=second["q"].bound.deviation))
        return q
    _inject(monkeypatch, replace)
    r = t3.bound_tightness(0)
    ratios = r.figures["extremal_D_over_bound"]
    assert ratios[1] == ratios[2] and ratios[3] > 0.999 and not r.passed


@pytest.mark.parametrize("last, passed", [(None, True), (1e-5, False)])
def test_T3_tightness_end_point_of_eps_plus_delta_must_be_below_1e_5(monkeypatch, last, passed):
    """``|eps| + delta`` must end strictly below 1e-5 at the last step, whatever it is before:
    2e-5 added to delta at every other step (still strictly decreasing), the last step
    exact (passes) or with ``eps = 0, delta = 1e-5`` (the float 1e-5 exactly: fails)."""
    def replace(k, q):
        if k < STEPS - 1:
            return q._replace(delta=q.delta + 2e-5)
        if k == STEPS - 1 and last is not None:
            return q._replace(eps=0.0, delta=last)
        return q
    _inject(monkeypatch, replace)
    r = t3.bound_tightness(0)
    assert min(r.figures["delta"]) > 2e-5                  # every 4th step, the last excluded
    if last is not None:
        assert r.figures["final_abs_eps_plus_delta"] == 1e-5
    assert r.passed == passed


def test_T3_tightness_path_starts_from_a_unit_scale_encoder_with_a_mean(monkeypatch):
    """The path's nonlinear part and mean come from one degree-3 encoder in n = 3 with unit
    scales: each coefficient is its standard normal draw times 1 (the mean), 1/sqrt(3)
    (degree 1) or 1/sqrt(M_d) (degree d, M_d indices), replayed from a copy of the generator."""
    calls = record_calls_with_generator(monkeypatch, T, "random_encoder")
    t3.bound_tightness(0, steps=4)
    (twin, base), = calls
    raw = twin.standard_normal(base.coef.shape)
    degree = base.alphas.sum(axis=1)
    assert base.coef.shape == (3, len(T.multi_indices(3, 3))) and degree.max() == 3
    count = np.bincount(degree)
    sd = np.where(degree == 0, 1.0, np.where(degree == 1, 1 / math.sqrt(3),
                                             1 / np.sqrt(count[degree])))
    assert np.array_equal(base.coef[:, 0], raw[:, 0])
    np.testing.assert_allclose(base.coef, raw * sd, rtol=1e-15)   # x/sqrt(m) vs x*(1/sqrt(m))


def test_T3_ingredients_passes_and_sees_what_the_other_checks_cannot():
    """Session 45's mutation trial: half the linear part of D(h), |eps| in B, and twice the
    quadratic term each passed every T3 check (D smaller or B larger only helps D <= bound)."""
    r = t3.ingredients(0, encoders=15)
    assert r.passed, r.summary
    assert r.figures["nearby_lower"] == 0 and r.figures["deviation_vs_quadrature"] < 1e-12

    def half(h):
        _, Q, b = T.deviation_from_rotation(h)
        W = T.linear_block(h)
        return float(0.5 * np.sum((W - Q) ** 2) + T.nonlinear_energy(h)), Q, b

    def looser(absolute, quad):
        def bound(eps, delta, n, rho):
            e = abs(eps) if absolute else eps
            B = (e + 2 * (1 - rho) * math.sqrt(n) * delta) / (2 * rho * (1 - rho))
            return T.T3Bound(B, B + quad * (delta + B) ** 2)
        return bound
    bad = t3.ingredients(0, deviation=half, encoders=15)
    assert not bad.passed and bad.figures["deviation_vs_quadrature"] > 1e-3
    bad = t3.ingredients(0, bound=looser(True, 1), encoders=15)       # |eps|
    assert not bad.passed and bad.figures["negative_eps_branch_error"] > 0.1
    bad = t3.ingredients(0, bound=looser(False, 2), encoders=15)      # 2 (delta + B)^2
    assert not bad.passed and bad.figures["sympy_transcription_error"] > 1e-3
    # the sample D of the experiments divided by n (a trial's mutation of metrics.py)
    from pycheck import metrics
    real = metrics.deviation_from_rotation
    try:
        metrics.deviation_from_rotation = lambda h, z: real(h, z) / np.shape(h)[1]
        bad = t3.ingredients(0, encoders=15)
    finally:
        metrics.deviation_from_rotation = real
    assert not bad.passed and bad.figures["sample_deviation_max_z"] > 5
    # a Procrustes solution that is not the minimiser: nearby rotations do better
    wrong_q = lambda h: (T.deviation_from_rotation(h)[0], np.eye(h.n), T.mean(h))
    assert t3.ingredients(0, deviation=wrong_q, encoders=15).figures["nearby_lower"] > 0
