"""L6: all chaos energy in degree one iff a.e. linear; E(f − best linear)² = E f² − e_1."""
import numpy as np

from pycheck import theory as T
from pycheck.checks.hermite import _first_chaos_distance, first_chaos


def test_L6_checks_registered(checks_of):
    assert checks_of("L6") == ("L6.first_chaos",)


def test_L6_first_chaos_passes():
    r = first_chaos(0)
    assert r.passed and r.figures["disagreements"] == 0 and r.figures["components"] > 100


def test_L6_first_chaos_fails_with_a_wrong_distance_formula():
    # forgetting to subtract the degree-one energy breaks the identity
    assert not first_chaos(0, distance=lambda e: e.sum(axis=1)).passed


def test_L6_linear_forms_have_zero_distance_and_nonlinear_ones_do_not():
    Q = T.random_rotation(np.random.default_rng(1), 3)
    assert np.all(_first_chaos_distance(T.rotation_encoder(Q, degree=3)) <= 1e-12)
    h = T.rotation_encoder(Q, degree=2)
    coef = h.coef.copy()
    coef[0, -1] = 0.5                        # one degree-2 coefficient
    d = _first_chaos_distance(T.PolyEncoder(coef, h.alphas))
    # exact quadrature: the distance is the degree-2 energy 0.25, up to rounding
    assert abs(d[0] - 0.25) <= 1e-12 and np.all(d[1:] <= 1e-12)
