"""L6: all chaos energy in degree one iff a.e. linear; E(f − best linear)² = E f² − e_1."""
import numpy as np
import pytest

from pycheck import theory as T
from pycheck.checks.hermite import _first_chaos_distance, first_chaos
from spies import record_calls


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


def test_L6_counts_the_components_of_the_sixty_encoders(monkeypatch):
    encoders = record_calls(monkeypatch, T, "random_encoder")
    r = first_chaos(0)
    assert len(encoders) == 60
    assert r.figures["components"] == sum(h.n_out for _, h in encoders)


@pytest.mark.parametrize("off, quad, passes", [
    (1e-8, 0.0, True), (0.0, 1e-8, True),
    (np.nextafter(1e-8, 1), 0.0, False), (0.0, np.nextafter(1e-8, 1), False)])
def test_L6_zero_means_at_most_1e_8_on_both_sides(monkeypatch, off, quad, passes):
    """'zero' is ``<= 1e-8`` for the off-degree-one energy and for the distance alike: each
    crafted component has one of them exactly 1e-8 (the other 0), or one float above.
    ``e = [off, 0]`` gives ``e.sum − e_1 = off`` exactly. ``tol = 1``: the identity's error
    (here off or quad itself, at most 1e-8) is not what this test is about."""
    from pycheck.checks import hermite
    monkeypatch.setattr(T, "chaos_energies",
                        lambda h: np.tile([off, 0.0], (h.n_out, 1)))
    monkeypatch.setattr(hermite, "_first_chaos_distance", lambda h: np.full(h.n_out, quad))
    r = first_chaos(0, tol=1.0)
    assert r.passed is passes
    assert r.figures["disagreements"] == (0 if passes else r.figures["components"])
