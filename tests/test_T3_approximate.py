"""T3: E_nl ≤ B and D(h) ≤ B + (δ+B)², B = (ε + 2(1−ρ)√n δ)/(2ρ(1−ρ))."""
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pycheck import theory as T
from pycheck.checks import t3


def test_T3_checks_registered(checks_of):
    assert set(checks_of("T3")) == {"T3.bound_random_polynomials", "T3.bound_tightness",
                                    "T3.whitened_corollary"}


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
