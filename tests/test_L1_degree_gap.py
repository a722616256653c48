"""L1: the degree-energy gap 1 − ρ^d ≥ 1 − ρ (equality iff d = 1) and ≥ 1 − ρ² for d ≥ 2."""
from hypothesis import given
from hypothesis import strategies as st

from pycheck.checks.hermite import degree_gap_exact


def test_L1_checks_registered(checks_of):
    assert checks_of("L1") == ("L1.degree_gap_exact",)


def test_L1_degree_gap_exact_passes():
    assert degree_gap_exact(0).passed


def test_L1_degree_gap_fails_on_wrong_weight():
    # ρ^d instead of 1 − ρ^d: the gap has the wrong sign on (0, 1)
    r = degree_gap_exact(0, weight=lambda rho, d: rho**d)
    assert not r.passed and r.figures["failing_degrees"]


def test_L1_degree_gap_fails_when_degree_two_is_not_the_second_cheapest():
    # 1 − ρ^{d(d+1)/2}: still increasing in d, but the factorization ρ(1 − ρ^{d−1}) is wrong
    r = degree_gap_exact(0, weight=lambda rho, d: 1 - rho ** (d * (d + 1) // 2))
    assert not r.passed


@given(rho=st.floats(1e-6, 1 - 1e-6), d=st.integers(2, 60))
def test_L1_degree_gap_numeric(rho, d):
    # float check of the same inequalities; 1e-15 absorbs rounding of rho**d
    assert (1 - rho**d) - (1 - rho) >= -1e-15
    assert (1 - rho**d) - (1 - rho**2) >= -1e-15
