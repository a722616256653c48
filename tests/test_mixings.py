"""Every mixing is invertible with an explicit inverse, and is genuinely nonlinear."""
import numpy as np
import pytest

from pycheck.metrics import linear_r2
from pycheck.mixings import NAMES, make_mixing


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dim", [2, 3, 16])
def test_inverse_of_forward_is_identity(name, dim):
    z = np.random.default_rng(dim).standard_normal((500, dim))
    g = make_mixing(name, dim, seed=3)
    x = g.forward(z)
    # float64 round trip through at most 4 coupling layers: error ~ 1e-15, 1e-10 is generous
    np.testing.assert_allclose(g.inverse(x), z, atol=1e-10)
    np.testing.assert_allclose(g.forward(g.inverse(x)), x, atol=1e-10)
    assert not np.allclose(x, z)


@pytest.mark.parametrize("name", NAMES)
def test_mixings_are_nonlinear(name):
    z = np.random.default_rng(0).standard_normal((4000, 2))
    assert linear_r2(make_mixing(name, 2, 0).forward(z), z) < 0.95


def test_spiral_preserves_the_gaussian():
    # rotation by a radius-dependent angle keeps every radius: moments of N(0, I) survive
    z = np.random.default_rng(1).standard_normal((200_000, 2))
    x = make_mixing("spiral", 2, 0).forward(z)
    np.testing.assert_allclose(np.hypot(*x.T), np.hypot(*z.T), rtol=1e-12)
    np.testing.assert_allclose(np.cov(x.T), np.eye(2), atol=0.02)  # ~5 sigma at this N
    np.testing.assert_allclose(x.mean(0), 0, atol=0.01)


def test_realnvp_is_seeded():
    z = np.random.default_rng(0).standard_normal((10, 6))
    a, b, c = (make_mixing("realnvp", 6, s).forward(z) for s in (0, 0, 1))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown mixing"):
        make_mixing("swirl", 2, 0)
    with pytest.raises(ValueError, match="dim >= 2"):
        make_mixing("realnvp", 1, 0)
    with pytest.raises(ValueError, match="shape"):
        make_mixing("spiral", 2, 0).forward(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="float64 or float32"):
        make_mixing("realnvp", 2, 0).forward(np.zeros((3, 2)), np.float16)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dim", [2, 7, 64])
def test_float32_forward_matches_float64(name, dim):
    """forward(z, float32) (the experiments' fresh training pairs) is float32 throughout and
    within 2e-5 of float64: |x| stays below ~10 here and each of the <= 4 layers rounds
    its O(1) terms at 2^-24 ~ 6e-8 relative, so errors of a few 1e-6 are expected."""
    z = np.random.default_rng(dim).standard_normal((3000, dim))
    g = make_mixing(name, dim, seed=1)
    x64, x32 = g.forward(z), g.forward(z, np.float32)
    assert x64.dtype == np.float64 and x32.dtype == np.float32
    err = np.abs(x32 - x64).max()
    assert 0 < err <= 2e-5, err   # > 0: really computed in float32
