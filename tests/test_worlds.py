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


def test_gaussian_ou_rho_and_rng_are_checked_and_rho_becomes_a_float():
    """Session 43: a torch scalar ρ returned a torch z' next to a NumPy z, an array ρ failed
    with "truth value ambiguous", an int as rng with an AttributeError."""
    import torch
    rng = np.random.default_rng(0)
    z, zn = worlds.gaussian_ou_pairs(5, 2, torch.tensor(0.5, dtype=torch.float64), rng)
    assert type(zn) is np.ndarray and zn.dtype == np.float64
    z2, zn2 = worlds.gaussian_ou_pairs(5, 2, 0.5, np.random.default_rng(0))
    np.testing.assert_array_equal(zn, zn2)    # not only the type: the same draw as float 0.5
    for rho in (np.array([0.5, 0.6]), [0.5], "0.5", True, torch.tensor([0.5, 0.6])):
        with pytest.raises(ValueError, match=r"^rho must be a real number in \(0, 1\)"):
            worlds.gaussian_ou_pairs(5, 2, rho, rng)
    with pytest.raises(ValueError, match=r"^rho must lie in \(0, 1\), got nan"):
        worlds.gaussian_ou_pairs(5, 2, math.nan, rng)
    for bad in (0, None, np.random.SeedSequence(0)):
        with pytest.raises(TypeError, match=r"^rng must be a numpy Generator"):
            worlds.gaussian_ou_pairs(5, 2, 0.5, bad)
        with pytest.raises(TypeError, match=r"^rng must be a numpy Generator"):
            worlds.gennorm_pairs(5, 2, 1.0, 0.5, bad)
        with pytest.raises(TypeError, match=r"^rng must be a numpy Generator"):
            worlds.trajectory_pairs(5, 2, bad)


def test_uniform_limit_round_trip_is_at_the_conditioning_limit():
    """A trial asked for a 1e-14 round trip out to |w| = 30 at alpha = inf (it measured 3e-7
    at w = 7, 8e-3 at 8, inf at 9). That is impossible in float64 for any formula: T(w) =
    sqrt3 (2Φ(w) − 1) flattens at sqrt3, so a rounding of z by half an ulp moves w by
    ulp(sqrt3) / (2 T'(w)) = 1.6e-6 at w = 7, 3e-3 at 8, and beyond |w| ≈ 8.3 T(w) rounds
    to ±sqrt3 itself, whose inverse is ±inf. (alpha = 200 keeps 1e-14 because its quantile
    still grows like log(1/p)^(1/200) there.) So: each direction within a few ulps of exact
    (mpmath at 50 digits), and the round trip within 4x the error that rounding z alone
    causes."""
    import mpmath as mp
    mp.mp.dps = 50
    s3 = mp.sqrt(3)
    w = np.concatenate([np.linspace(-8.0, 8.0, 161), [1e-8, -3e-5]])
    z = worlds.gaussian_to_gennorm(w, np.inf)
    for wi, zi in zip(w, z):
        exact = s3 * mp.erf(mp.mpf(float(wi)) / mp.sqrt(2))
        assert abs(mp.mpf(float(zi)) - exact) <= 4 * np.spacing(abs(zi))   # w/sqrt2, erf, sqrt3*
        back = worlds.gennorm_to_gaussian(zi, np.inf)
        exact_back = mp.sqrt(2) * mp.erfinv(mp.mpf(float(zi)) / s3)
        slope = 2 * s3 * mp.npdf(exact_back)        # T'(w), of the float z's exact preimage
        noise = np.spacing(abs(zi)) / float(slope)  # what an ulp of the input z moves w by
        assert abs(float(back) - float(exact_back)) <= 4 * noise + 4e-16 * abs(float(back))
        assert abs(float(back) - wi) <= 4 * noise + 4e-16 * abs(wi)
    # saturation: the uniform law's support ends at ±sqrt3, F^-1 of its end is ±inf
    np.testing.assert_array_equal(worlds.gaussian_to_gennorm(np.array([-9.0, 30.0]), np.inf),
                                  [-math.sqrt(3), math.sqrt(3)])
    np.testing.assert_array_equal(worlds.gennorm_to_gaussian(np.array([-math.sqrt(3)]), np.inf),
                                  [-np.inf])


def _gennorm_quantile_mp(w: float, alpha: float):
    """T_alpha(w) in mpmath (50 digits): the y with P(1/alpha, y^alpha) = erf(|w|/sqrt2) by
    bisection (P increases in y), times the standardising scale. Independent of scipy."""
    import mpmath as mp
    mp.mp.dps = 50
    a = mp.mpf(1) / alpha
    p = mp.erf(abs(mp.mpf(w)) / mp.sqrt(2))
    lo, hi = mp.mpf(0), mp.mpf(10)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mp.gammainc(a, 0, mid ** alpha, regularized=True) < p else (lo, mid)
    return mp.sign(w) * mp.sqrt(mp.gamma(a) / mp.gamma(3 * a)) * (lo + hi) / 2


def test_large_alpha_gennorm_keeps_the_centre_of_its_law():
    """Session 45 (a trial): at alpha = 200 every |w| < 0.035 became exactly 0, because the
    quantile went through u = (|z|/s)^alpha, which underflows (2.4 % of gennorm_pairs'
    entries at 200, 0.01 % at 80), and the round trip gave 0 for 0.03. Now the centre uses
    |z| = s Gamma(1 + 1/alpha) erf(|w|/sqrt2), exact where u < 1e-280. Each value within
    1e-14 relative of mpmath (the centre's closed form and scipy's quantile each err by a few
    ulps; 1e-14 leaves room for them), the round trip within 1e-14, no zeros."""
    import mpmath as mp
    ws = np.array([1e-12, 1e-6, 0.003, 0.02, 0.0345, 0.036, 0.05, 0.3, 1.5, 4.0])
    for alpha in (200.0, 100.0):
        z = worlds.gaussian_to_gennorm(np.r_[ws, -ws], alpha)
        for wi, zi in zip(np.r_[ws, -ws], z):
            exact = _gennorm_quantile_mp(wi, alpha)
            assert abs((mp.mpf(float(zi)) - exact) / exact) < 1e-14, (alpha, wi)
        back = worlds.gennorm_to_gaussian(z, alpha)
        np.testing.assert_allclose(back, np.r_[ws, -ws], rtol=1e-14, atol=0)
        assert float(worlds.gaussian_to_gennorm(0.0, alpha)) == 0.0
        assert np.ndim(worlds.gaussian_to_gennorm(0.02, alpha)) == 0     # a scalar stays one
        zs, _ = worlds.gennorm_pairs(20_000, 2, alpha, 0.8, np.random.default_rng(0))
        assert not (zs == 0).any()
    # the ceiling takes the same road: it read 0.9550065 at alpha = 200 (the zeros) against
    # 0.9550265 from a 60-node Gauss-Hermite sum of the mpmath quantile (whose own error,
    # against 100 nodes, is 7e-8: hence 1e-6)
    x, wt = np.polynomial.hermite_e.hermegauss(60)
    e = 2 * sum(float(wi * xi * _gennorm_quantile_mp(float(xi), 200.0))
                for xi, wi in zip(x, wt) if xi > 0) / math.sqrt(2 * math.pi)
    assert abs(worlds.copula_r2_ceiling(200.0) - e * e) < 1e-6
