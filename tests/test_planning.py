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


@pytest.mark.parametrize("pairs, match", [
    ([[0, -1]], r"index \[0, 20000\)"),                      # was the last row
    ([[0, 20_000]], r"index \[0, 20000\)"),
    (np.array([0, 1]), r"shape \(K, 2\)"),                   # 1-D
    (np.array([[0, 1, 2]]), r"shape \(K, 2\)"),
    (np.array([[0.0, 1.0]]), "integer array"),               # was an IndexError
])
def test_plan_cost_refuses_bad_pairs(bank, pairs, match):
    """Session 43, a user's trial: ``-1`` was taken as the last row, float pairs failed with
    an IndexError deep inside."""
    z, _ = bank
    with pytest.raises(ValueError, match=match):
        planning.plan_cost(z, z, pairs)


def test_plan_cost_takes_a_list_of_pairs(bank):
    z, pairs = bank
    assert np.array_equal(planning.plan_cost(z, z, pairs.tolist()),
                          planning.plan_cost(z, z, pairs))


def test_plan_cost_refuses_a_start_at_its_goal_and_a_nan_latent(bank):
    """Same z at start and goal was 0 / 0 = nan with a RuntimeWarning only; a NaN in z_bank
    gave NaN ratios while a NaN in h_bank was refused (session 43)."""
    z, pairs = bank
    dup = np.concatenate([z, z[:1]])
    with pytest.raises(ValueError, match="same z in pairs \\[1\\]"):
        planning.plan_cost(dup, dup, [[0, 1], [0, len(z)]])
    bad = z.copy()
    bad[5] = np.nan
    with pytest.raises(ValueError, match="z_bank contains NaN"):
        planning.plan_cost(z, bad, pairs)


@pytest.mark.parametrize("kw, match", [
    (dict(level=95), r"level must lie in \(0, 1\)"),         # gave (2.0, nan, nan)
    (dict(level=0.0), r"level must lie in \(0, 1\)"),
    (dict(level=float("nan")), r"level must lie in \(0, 1\)"),
    (dict(values=[1.0, np.nan, 3.0]), "NaN or inf"),         # gave (nan, nan, nan)
    (dict(values=[1.0, np.inf]), "NaN or inf"),
    (dict(values=[]), "non-empty 1-D"),
])
def test_bootstrap_ci_refuses_bad_level_and_values(kw, match):
    with pytest.raises(ValueError, match=match):
        planning.bootstrap_ci(**{"values": [1.0, 2.0, 3.0], **kw})


@pytest.mark.parametrize("z_bank", [np.zeros((0, 2)), np.zeros((1, 2)), np.zeros(5)])
def test_sample_pairs_refuses_a_bank_too_small_to_pair(z_bank):
    """An empty bank failed inside ``rng.integers`` (session 43)."""
    with pytest.raises(ValueError, match="at least 2 rows"):
        planning.sample_pairs(z_bank, 3, np.random.default_rng(0))
