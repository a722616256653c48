"""The latent worlds: stationarity, the law of the marginals, the copula ceiling."""
import math

import numpy as np
import pytest
from scipy import stats

from pycheck import worlds

ALPHAS = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 8.0, np.inf]


def test_gaussian_ou_is_stationary_with_correlation_rho():
    rng = np.random.default_rng(0)
    z, zn = worlds.gaussian_ou_pairs(50_000, 3, 0.8, rng)
    assert z.shape == zn.shape == (50_000, 3) and z.dtype == np.float64
    # 50k samples: sd of a sample variance ~ sqrt(2/50k) = 0.006, of a correlation < 0.003.
    np.testing.assert_allclose(np.cov(zn.T), np.eye(3), atol=0.03)
    for i in range(3):
        assert abs(np.corrcoef(z[:, i], zn[:, i])[0, 1] - 0.8) < 0.015
    assert stats.kstest(zn.ravel(), "norm").pvalue > 1e-3


@pytest.mark.parametrize("alpha", ALPHAS)
def test_gennorm_transition_keeps_the_marginal_law(alpha):
    rng = np.random.default_rng(1)
    z, zn = worlds.gennorm_pairs(20_000, 2, alpha, 0.9, rng)
    law = worlds.gennorm_law(alpha)
    assert law.var() == pytest.approx(1.0, rel=1e-12)
    assert law.mean() == pytest.approx(0.0, abs=1e-12)
    for sample in (z, zn):  # z and z' both have exactly the law: KS must not reject
        assert stats.kstest(sample.ravel(), law.cdf).pvalue > 1e-3
        # variance: sd of the sample variance is sqrt((kurt+2)/N) <= sqrt(25/40k) = 0.025
        assert abs(sample.var() - 1.0) < 0.1
    # excess kurtosis of z' matches the law's (the statistic is noisy for heavy tails)
    k_law = float(law.stats(moments="k"))
    tol = 0.1 if alpha >= 1.5 else 0.5 * abs(k_law)
    assert abs(stats.kurtosis(zn.ravel()) - k_law) < tol
    # the pair is dependent (otherwise the "transition" would be trivial)
    assert np.corrcoef(z[:, 0], zn[:, 0])[0, 1] > 0.8


def test_gennorm_alpha2_is_the_gaussian_ou_world_draw_for_draw():
    z1, n1 = worlds.gennorm_pairs(100, 2, 2.0, 0.7, np.random.default_rng(3))
    z2, n2 = worlds.gaussian_ou_pairs(100, 2, 0.7, np.random.default_rng(3))
    np.testing.assert_array_equal(z1, z2)
    np.testing.assert_array_equal(n1, n2)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0, np.inf])
def test_gaussianizer_inverts_the_copula_map(alpha):
    w = np.linspace(-6, 6, 101)
    back = worlds.gennorm_to_gaussian(worlds.gaussian_to_gennorm(w, alpha), alpha)
    np.testing.assert_allclose(back, w, atol=1e-8)


def test_copula_ceiling_peaks_at_alpha_2_and_matches_monte_carlo():
    ceil = {a: worlds.copula_r2_ceiling(a) for a in ALPHAS}
    assert ceil[2.0] == 1.0
    assert all(v < 0.9999 for a, v in ceil.items() if a != 2.0)
    # uniform: corr(w, erf(w/sqrt2))^2 = 3/pi in closed form
    assert ceil[np.inf] == pytest.approx(3 / math.pi, rel=1e-8)
    w = np.random.default_rng(4).standard_normal(400_000)
    mc = np.corrcoef(w, worlds.gaussian_to_gennorm(w, 1.0))[0, 1] ** 2
    assert mc == pytest.approx(ceil[1.0], abs=0.005)


def test_trajectory_world_shape_and_non_stationarity():
    rng = np.random.default_rng(5)
    roll = worlds.trajectory_rollouts(3000, 2, rng, horizon=40)
    assert roll.shape == (3000, 41, 2)
    # starts in the fixed region, ends spread around the goals: the marginal law drifts
    assert np.allclose(roll[:, 0].mean(0), -1.5, atol=0.02) and roll[:, 0].std() < 0.25
    assert np.all(np.abs(roll[:, -1].mean(0)) < 0.1) and roll[:, -1].std() > 0.7
    z, zn = worlds.trajectory_pairs(1000, 2, rng)
    assert z.shape == zn.shape == (1000, 2)
    # pairs are consecutive states: steps are small compared with the spread of states
    assert np.linalg.norm(zn - z, axis=1).mean() < 0.3 * z.std()


@pytest.mark.parametrize("bad", [dict(rho=1.0), dict(rho=0.0), dict(n=0), dict(dim=0)])
def test_bad_arguments_are_refused(bad):
    kw = dict(n=10, dim=2, rho=0.5) | bad
    with pytest.raises(ValueError):
        worlds.gaussian_ou_pairs(kw["n"], kw["dim"], kw["rho"], np.random.default_rng(0))
    with pytest.raises(ValueError):
        worlds.gennorm_pairs(10, 2, -1.0, 0.5, np.random.default_rng(0))


def test_counts_must_be_integers_and_plans_need_distinct_ends():
    """Session 36: 10.0 samples, True, horizon 0 or 2.5 passed the checks and failed in
    NumPy (or divided by zero); sample_pairs with min_dist 0 could pair a start with itself."""
    from pycheck import planning
    rng = np.random.default_rng(0)
    for args in [(10.0, 2, 0.5), (10, 2.0, 0.5), (True, 1, 0.5)]:
        with pytest.raises(ValueError, match=r"must be an integer in \[1, 2\^63\)"):
            worlds.gaussian_ou_pairs(*args, rng)
    for horizon in (0, 2.5):
        with pytest.raises(ValueError, match="horizon must be an integer in"):
            worlds.trajectory_pairs(10, 2, rng, horizon=horizon)
    with pytest.raises(ValueError, match="min_dist must be > 0"):
        planning.sample_pairs(rng.standard_normal((4, 2)), 3, rng, min_dist=0)
    with pytest.raises(ValueError, match="k must be an integer in"):
        planning.sample_pairs(rng.standard_normal((4, 2)), 0, rng)
