"""Metrics: linear R², deviation from rotation, Theorem 3 quantities."""
import numpy as np
import pytest
from scipy.stats import special_ortho_group

from pycheck.metrics import best_rotation, deviation_from_rotation, linear_r2, t3_quantities
from pycheck.worlds import gaussian_ou_pairs


def test_linear_r2_extremes():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 3))
    a = rng.standard_normal((3, 3))
    assert linear_r2(z @ a + 5.0, z) == pytest.approx(1.0, abs=1e-10)
    assert abs(linear_r2(rng.standard_normal((4000, 3)), z)) < 0.01   # independent: ~0
    assert 0.3 < linear_r2(np.tanh(2 * z), z) < 0.95


def test_deviation_from_rotation():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((20000, 4))
    q = special_ortho_group.rvs(4, random_state=2)
    assert deviation_from_rotation(z @ q.T + 3.0, z) == pytest.approx(0.0, abs=1e-20)
    # h = c Q z: D = (1 - c)^2 E||z||^2 = (1 - c)^2 n, up to sampling error of E||z||^2
    assert deviation_from_rotation(0.5 * z @ q.T, z) == pytest.approx(0.25 * 4, rel=0.02)
    np.testing.assert_allclose(best_rotation(z @ q.T, z), q, atol=1e-10)


def test_t3_quantities_rotation_and_bound():
    rho, n = 0.5, 3
    z, zn = gaussian_ou_pairs(50000, n, rho, np.random.default_rng(3))
    q = special_ortho_group.rvs(n, random_state=4)
    r = t3_quantities(z @ q.T, zn @ q.T, z, rho)
    assert r["n"] == n and abs(r["eps"]) < 0.05 and r["delta"] < 0.05 and r["D"] < 1e-12
    # a nonlinear encoder: the bound must hold (T3)
    h, hn = np.tanh(z), np.tanh(zn)
    r = t3_quantities(h, hn, z, rho)
    assert r["D"] > 0.01 and r["D"] <= r["bound"]
    assert set(r) >= {"n", "rho", "eps", "delta", "D", "bound"}


def test_metric_input_errors():
    with pytest.raises(ValueError, match="same number of rows"):
        linear_r2(np.zeros((10, 2)), np.zeros((11, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        deviation_from_rotation(np.zeros((10, 2)), np.zeros((10, 3)))
