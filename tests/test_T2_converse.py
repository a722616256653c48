"""T2: only Gaussian latents admit a feasible linear encoder; kurtosis κ Σu⁴ ≥ |κ|/n."""
import math

import numpy as np
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pycheck.checks import t2


def test_T2_checks_registered(checks_of):
    assert set(checks_of("T2")) == {"T2.gennorm_projection_kurtosis",
                                    "T2.laplace_uniform_kurtosis", "T2.normality_test_power",
                                    "T2.gaussian_positive_case", "T2.affine_pushforward"}


def test_T2_gennorm_projection_kurtosis_passes():
    r = t2.gennorm_projection_kurtosis(0)
    assert r.passed and r.figures["excess_kurtosis"]["2"] == 0


def test_T2_gennorm_kurtosis_fails_if_shape_is_ignored():
    # density exp(−x²) for every α: kurtosis 0 everywhere, so "nonzero off α = 2" fails
    assert not t2.gennorm_projection_kurtosis(0, exponent=lambda a: 2).passed


def test_T2_projection_kurtosis_fails_with_wrong_power():
    # κ Σu² (= κ on the sphere) instead of κ Σu⁴
    r = t2.gennorm_projection_kurtosis(0, predicted=lambda k, u: k * sum(x**2 for x in u))
    assert not r.passed and not r.figures["identity_n2_n3"]


@given(u=st.integers(1, 12).flatmap(
    lambda n: arrays(float, n, elements=st.floats(-1, 1, allow_subnormal=False))))
def test_T2_sum_of_fourth_powers_at_least_one_over_n(u):
    s2 = float(np.sum(u**2))
    if s2 < 1e-6:
        return
    v = u / math.sqrt(s2)
    assert np.sum(v**4) >= 1 / len(v) - 1e-12      # Cauchy–Schwarz; rounding only


def test_T2_laplace_uniform_kurtosis_passes():
    r = t2.laplace_uniform_kurtosis(0)
    assert r.passed and r.figures["laplace"] == "3" and r.figures["uniform"] == "-6/5"


def test_T2_laplace_uniform_kurtosis_fails_for_a_gaussian_in_disguise():
    gauss = lambda x, b: sp.exp(-x**2 / (2 * b**2)) / (sp.sqrt(2 * sp.pi) * b)  # noqa: E731
    assert not t2.laplace_uniform_kurtosis(0, laplace_density=gauss).passed


def test_T2_normality_test_power_passes():
    r = t2.normality_test_power(0)
    assert r.passed and min(r.figures["power"].values()) >= 0.9


def test_T2_normality_test_power_fails_for_gaussian_latents():
    # a Gaussian world: the test only rejects at its level (~5%)
    r = t2.normality_test_power(0, latents=("gaussian",), reps=100)
    assert not r.passed and r.figures["power"]["gaussian"] < 0.2


def test_T2_gaussian_positive_case_passes():
    assert t2.gaussian_positive_case(0).passed


def test_T2_gaussian_positive_case_fails_for_laplace_latents():
    assert not t2.gaussian_positive_case(0, latent="laplace", reps=100).passed


def test_T2_gaussian_positive_case_fails_without_whitening():
    # Gaussian but not whitened: ‖h‖² is not χ²_n
    assert not t2.gaussian_positive_case(0, whitening="none", reps=100).passed


def test_T2_affine_pushforward_passes():
    r = t2.affine_pushforward(0)
    assert r.passed and r.figures["max_relative_min_eigenvalue"] <= 1e-12


def test_T2_affine_pushforward_fails_with_the_wrong_mean():
    def wrong(A, b):
        Ainv = np.linalg.inv(A)
        return Ainv @ b, Ainv @ Ainv.T       # sign of the mean flipped
    assert not t2.affine_pushforward(0, law=wrong).passed


def test_T2_affine_pushforward_fails_if_the_linear_part_is_invertible():
    r = t2.affine_pushforward(0, singular=lambda rng, n: rng.standard_normal((n, n)) + 2 * np.eye(n))
    assert not r.passed and r.figures["max_relative_min_eigenvalue"] > 1e-6
