"""Contracts the mutation run (issue #17, results/mutation/) showed unpinned: errors that name
the problem and the bad value, the exact edges of each valid range, computation in float64
whatever the input dtype, and invariances of the metrics. Each test states a property of the
function's contract, not of its current text."""
import math
import warnings

import numpy as np
import pytest

from pycheck import planning as P
from pycheck import worlds as W
from pycheck.metrics import deviation_from_rotation, linear_r2, r2_summary, t3_quantities


def _sample(n_rows=40, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_rows, 2))
    return z @ [[1.0, 0.3], [0.2, 0.9]] + 0.1 * rng.standard_normal((n_rows, 2)), z


# ---------------------------------------------------------------- metrics: input checks
def test_metrics_name_mismatched_shapes():
    h, z = _sample()
    with pytest.raises(ValueError, match=r"h and z must be 2D .* got \(40,\) and \(40, 2\)"):
        linear_r2(h[:, 0], z)                       # only one side 1-D
    with pytest.raises(ValueError, match=r"h_next and z must be 2D"):
        t3_quantities(h, h[:-1], z, 0.5)


def test_metrics_need_four_samples_and_accept_four():
    h, z = _sample()
    with pytest.raises(ValueError, match="need at least 4 samples, got 3"):
        deviation_from_rotation(h[:3], z[:3])
    assert deviation_from_rotation(h[:4], z[:4]) >= 0.0


def test_metrics_count_the_non_finite_entries():
    h, z = _sample()
    h[[0, 3, 5], 1] = [np.nan, np.inf, -np.inf]
    with pytest.raises(ValueError, match=r"h contains NaN or inf \(3 entries\)"):
        linear_r2(h, z)


@pytest.mark.parametrize("frac", [0.0, 1.0, 1.5, -0.2])
def test_linear_r2_test_fraction_is_an_open_interval(frac):
    h, z = _sample()
    with pytest.raises(ValueError, match=rf"test_fraction must lie in \(0, 1\), got {frac}"):
        linear_r2(h, z, test_fraction=frac)


def test_linear_r2_needs_d_plus_1_training_rows_exactly():
    """An affine map from d dims has d + 1 parameters: d + 1 training rows fit it, d do not."""
    rng = np.random.default_rng(1)
    h, z = rng.standard_normal((6, 2)), rng.standard_normal((6, 1))
    assert math.isfinite(linear_r2(h, z))                 # 3 test rows, 3 training rows
    with pytest.raises(ValueError, match="2 training rows cannot fit an affine map from 2 dims"):
        linear_r2(h[:4], z[:4])


def test_linear_r2_scores_at_least_two_held_out_rows():
    """N = 8, test_fraction 0.1 rounds to 1 held-out row; the floor of 2 applies. With
    z = 2h + 1 exactly on the training rows and off the line on the held-out ones, the score
    is 1 − SSE/SST over exactly those two rows."""
    h = np.arange(8.0)[:, None]
    z = 2 * h + 1
    te = np.random.default_rng(0).permutation(8)[:2]     # the split of seed 0 (the default)
    z[te] += [[3.0], [0.25]]
    pred = 2 * h[te] + 1
    want = 1 - ((z[te] - pred) ** 2).sum() / ((z[te] - z[te].mean()) ** 2).sum()
    assert linear_r2(h, z, test_fraction=0.1) == pytest.approx(want, rel=1e-12)


def test_linear_r2_default_seed_is_zero():
    h, z = _sample(30)
    h += np.random.default_rng(5).standard_normal(h.shape)        # an imperfect fit
    assert linear_r2(h, z) == linear_r2(h, z, seed=0) != linear_r2(h, z, seed=1)


def test_linear_r2_is_invariant_to_offsets_of_z():
    """Affine recovery: adding a constant to each coordinate of z leaves R² unchanged."""
    h, z = _sample(200)
    base = linear_r2(h, z)
    assert linear_r2(h, z + [50.0, -7.0]) == pytest.approx(base, rel=1e-10)


def test_linear_r2_refuses_a_constant_target():
    h, _ = _sample()
    with pytest.raises(ValueError, match=r"^z is constant on the held-out rows: R² is undefined$"):
        linear_r2(h, np.ones((40, 1)))


@pytest.mark.parametrize("fn", [linear_r2, deviation_from_rotation])
def test_metrics_compute_in_float64_whatever_the_input(fn):
    """Encoders return float32; the metric of a float32 array is that of its float64 cast
    (a float32 computation would lose digits on offset data, issue #17 defect 1)."""
    h, z = _sample(64)
    h32, z32 = (h + 300.0).astype(np.float32), z.astype(np.float32)
    assert fn(h32, z32) == fn(h32.astype(np.float64), z32.astype(np.float64))


def test_t3_quantities_compute_in_float64():
    h, z = _sample(64)
    h32 = (h + 300.0).astype(np.float32)
    got = t3_quantities(h32, h32[::-1], z.astype(np.float32), 0.5)
    want = t3_quantities(h32.astype(float), h32[::-1].astype(float), z.astype(np.float32)
                         .astype(float), 0.5)
    assert got == want


def test_r2_summary_of_one_seed_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # numpy's ddof warning would raise
        assert r2_summary([0.5]) == "0.500000 ± nan"


# ---------------------------------------------------------------- worlds: input checks
@pytest.mark.parametrize("args, msg", [
    ((0, 2, 0.5), "n_samples must be a positive integer, got 0"),
    ((3, 0, 0.5), "dim must be a positive integer, got 0"),
    ((3, 2, 1.0), r"rho must lie in \(0, 1\), got 1.0"),
])
def test_worlds_name_the_bad_argument(args, msg):
    with pytest.raises(ValueError, match=msg):
        W.gaussian_ou_pairs(*args, np.random.default_rng(0))


@pytest.mark.parametrize("alpha", [0.0, -1.0, np.nan])
def test_gennorm_alpha_must_be_positive(alpha):
    with pytest.raises(ValueError, match=r"alpha must be > 0 \(np.inf for the uniform limit\)"):
        W.gennorm_law(alpha)


@pytest.mark.parametrize("alpha", [1.0, 2.0, np.inf])
def test_gaussian_to_gennorm_computes_in_float64(alpha):
    w = np.linspace(-2, 2, 9)
    np.testing.assert_array_equal(W.gaussian_to_gennorm(w.astype(np.float32), alpha),
                                  W.gaussian_to_gennorm(w.astype(np.float32).astype(float), alpha))
    assert W.gaussian_to_gennorm(np.array([0, 1]), alpha).dtype == np.float64


# ---------------------------------------------------------------- planning
def test_plan_cost_computes_in_float64():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((400, 2))
    h = np.c_[z[:, 0], z[:, 1] + np.sin(2 * z[:, 0])] + 100.0
    pairs = P.sample_pairs(z, 10, rng)
    h32, z32 = h.astype(np.float32), z.astype(np.float32)
    np.testing.assert_array_equal(P.plan_cost(h32, z32, pairs),
                                  P.plan_cost(h32.astype(float), z32.astype(float), pairs))


def test_bootstrap_ci_computes_in_float64():
    x = np.random.default_rng(3).standard_normal(50).astype(np.float32) + 1000
    assert P.bootstrap_ci(x) == P.bootstrap_ci(x.astype(np.float64))
