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


def test_L1_failing_degrees_are_those_whose_gaps_break():
    """``failing_degrees`` lists each degree ``d = 2..12`` whose first gap is wrong, and each
    ``d >= 3`` below ``w(2)``. ``w(2) = 1`` breaks d = 2's factorization and puts every
    ``w(d) = 1 − ρ^d`` below it; ``w(7) = 1 − ρ^8`` breaks d = 7's factorization only."""
    r = degree_gap_exact(0, weight=lambda rho, d: 1 if d == 2 else 1 - rho**d)
    assert r.figures["failing_degrees"] == list(range(2, 13)) and not r.passed
    r = degree_gap_exact(0, weight=lambda rho, d: 1 - rho ** (d + (d == 7)))
    assert r.figures["failing_degrees"] == [7] and not r.passed
    assert degree_gap_exact(0, max_degree=5).figures == {"max_degree": 5, "failing_degrees": []}
