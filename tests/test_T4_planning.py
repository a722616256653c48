"""T4: optimal plans are invariant under orthogonal re-coding of the latent, not under
general linear re-coding."""
import numpy as np

from pycheck import theory as T
from pycheck.checks import t4


def test_T4_checks_registered(checks_of):
    assert set(checks_of("T4")) == {"T4.dp_rotation_invariance",
                                    "T4.dp_nonorthogonal_counterexample"}


def test_T4_dp_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(10):
        s0, g, acts, lam = t4._problem(rng, 3, 5)
        v, pol = t4.plan(s0, g, acts, 4, lam)
        costs = t4.sequence_costs(s0, g, acts, 4, lam)
        assert costs.shape == (5**4,) and abs(costs.min() - v) <= 1e-12 * v
        # replaying the DP policy step by step costs exactly v
        s, cost = s0.copy(), 0.0
        for a in pol:
            cost += np.sum((s - g) ** 2) + lam * np.sum(acts[a] ** 2)
            s = s + acts[a]
        assert abs(cost + np.sum((s - g) ** 2) - v) <= 1e-12 * v


def test_T4_dp_rotation_invariance_passes():
    r = t4.dp_rotation_invariance(0)
    assert r.passed and r.figures["policy_mismatches"] == 0


def test_T4_dp_rotation_invariance_fails_for_a_non_orthogonal_map():
    r = t4.dp_rotation_invariance(0, transform=lambda rng, n: np.diag(np.linspace(0.5, 2, n)),
                                  problems=10)
    assert not r.passed and r.figures["policy_mismatches"] > 0


def test_T4_dp_nonorthogonal_counterexample_passes():
    assert t4.dp_nonorthogonal_counterexample(0).passed


def test_T4_dp_nonorthogonal_counterexample_fails_for_a_rotation():
    # an orthogonal A changes nothing, so no counterexample can be found
    Q = T.random_rotation(np.random.default_rng(1), 2)
    r = t4.dp_nonorthogonal_counterexample(0, A=Q)
    assert not r.passed and r.figures["plans_changed"] == 0
