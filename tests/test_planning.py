"""Straight-line latent planning with nearest-neighbour decoding (the T4 protocol)."""
import numpy as np
import pytest
from scipy.stats import ortho_group

from pycheck import planning


@pytest.fixture(scope="module")
def bank():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((20_000, 2))
    return z, planning.sample_pairs(z, 30, rng)


def test_oracle_plan_ratio_is_close_to_one(bank):
    z, pairs = bank
    cost = planning.plan_cost(z, z, pairs, n_steps=20)
    assert cost.shape == (30,)
    assert np.all(cost >= 1.0 - 1e-12)  # triangle inequality
    # retrieval jitter on a 20k bank: nearest-neighbour spacing ~ 0.01, 20 steps of ~0.1
    assert cost.mean() < 1.03


def test_T4_rotated_encoder_plans_exactly_like_the_oracle(bank):
    z, pairs = bank
    q = ortho_group.rvs(2, random_state=1)
    oracle = planning.plan_cost(z, z, pairs)
    # orthogonal map + offset: same nearest neighbours, so the same decoded path
    np.testing.assert_allclose(planning.plan_cost(z @ q.T + 5.0, z, pairs), oracle, rtol=1e-12)


def test_distorted_encoder_costs_more_than_the_oracle(bank):
    z, pairs = bank
    h = np.c_[z[:, 0], z[:, 1] + 0.8 * np.sin(2 * z[:, 0])]  # invertible sinusoidal shear
    oracle = planning.plan_cost(z, z, pairs)
    bent = planning.plan_cost(h, z, pairs)
    assert bent.mean() > oracle.mean() + 0.05
    assert np.mean(bent > oracle) > 0.7


def test_plans_start_and_end_at_the_chosen_items(bank):
    z, pairs = bank
    plans = planning.straight_line_plans(z[pairs[:, 0]], z[pairs[:, 1]], 5)
    assert plans.shape == (30, 6, 2)
    np.testing.assert_array_equal(plans[:, 0], z[pairs[:, 0]])
    np.testing.assert_allclose(plans[:, -1], z[pairs[:, 1]])
    assert np.all(np.linalg.norm(z[pairs[:, 0]] - z[pairs[:, 1]], axis=1) >= 1.0)


def test_bootstrap_ci_brackets_the_mean():
    x = np.random.default_rng(2).normal(1.0, 0.1, size=30)
    m, lo, hi = planning.bootstrap_ci(x)
    assert lo < m < hi and hi - lo < 0.2
    assert planning.bootstrap_ci(np.ones(5)) == (1.0, 1.0, 1.0)


def test_mismatched_bank_is_refused(bank):
    z, pairs = bank
    with pytest.raises(ValueError, match="rows"):
        planning.plan_cost(z[:-1], z, pairs)
