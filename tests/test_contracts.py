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
    with pytest.raises(ValueError, match=r"^z is constant on the rows that score R² \(linear_r2's test part\): R² is undefined$"):
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
    ((0, 2, 0.5), r"n_samples must be an integer in \[1, 2\^63\), got 0"),
    ((3, 0, 0.5), r"dim must be an integer in \[1, 2\^63\), got 0"),
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


# ---------------------------------------------------------------- theory
def test_alignment_monte_carlo_is_the_sample_mean_and_its_standard_error():
    """Chunks of 4 over 10 pairs (4 + 4 + 2): mean and std(ddof=1)/√N of the same draws."""
    from pycheck import theory as T
    h = T.random_encoder(np.random.default_rng(0), 2, 2, mean_scale=1.0)
    mean, se = T.alignment_monte_carlo(h, 0.6, 10, np.random.default_rng(1), chunk=4)
    rng = np.random.default_rng(1)
    v = np.concatenate([((h(zp) - h(z)) ** 2).sum(1)
                        for z, zp in (T.ou_pairs(rng, m, 2, 0.6) for m in (4, 4, 2))])
    assert mean == pytest.approx(v.mean(), rel=1e-12)
    assert se == pytest.approx(v.std(ddof=1) / math.sqrt(10), rel=1e-12)
    near = T.rotation_encoder(np.eye(2))                 # ρ = 0.99: ‖z' − z‖² ≈ 0.04, var ≪ 1
    _, se = T.alignment_monte_carlo(near, 0.99, 50, np.random.default_rng(2))
    z, zp = T.ou_pairs(np.random.default_rng(2), 50, 2, 0.99)
    assert se == pytest.approx(((zp - z) ** 2).sum(1).std(ddof=1) / math.sqrt(50), rel=1e-12)


def test_alignment_monte_carlo_default_chunk():
    """Published Monte-Carlo numbers depend on the chunking of the draws: 100 000 pairs."""
    from pycheck import theory as T
    h = T.rotation_encoder(np.eye(1))
    got = T.alignment_monte_carlo(h, 0.5, 100_001, np.random.default_rng(2))
    assert got == T.alignment_monte_carlo(h, 0.5, 100_001, np.random.default_rng(2),
                                          chunk=100_000)


def test_rotation_encoder_of_a_rectangular_map():
    """h(z) = Q z for a 3 × 2 Q (an embedding into more dimensions)."""
    from pycheck import theory as T
    Q = np.linalg.qr(np.random.default_rng(3).standard_normal((3, 2)))[0]
    z = np.random.default_rng(4).standard_normal((5, 2))
    np.testing.assert_allclose(T.rotation_encoder(Q, degree=2)(z), z @ Q.T, atol=1e-14)


# ---------------------------------------------------------------- checks: helpers with known answers
def test_gaussian_expectation_of_polynomials():
    """E over independent N(0, 1): odd moments vanish, E z⁴ = 3, E z⁶ = 15, E z_1² z_2² = 1."""
    import sympy as sp
    from pycheck.checks.anisotropic import _gaussian_expectation
    z1, z2 = sp.symbols("z1 z2")
    cases = [(sp.Integer(7), 7), (z1 + z1**3 * z2**2, 0), ((z1 + 2 * z2) ** 2, 5),
             (z1**4 / 2 + 3 * z1**2 * z2**2, sp.Rational(9, 2)), (z1**6 - z2**2, 14),
             ((z1**2 - 1) ** 2, 2)]
    for poly, want in cases:
        assert _gaussian_expectation(poly, [z1, z2]) == want, poly


def test_brute_top_weights_reaches_the_needed_degree():
    """ρ = (0.8, 0.5, 0.5, 0.5): the four largest ρ^α are 0.8, 0.64, 0.512 (degree 3) and 0.5,
    so the whitened minimiser is not linear; ρ = (0.8, 0.7): 0.8, 0.7 (0.64 < 0.7), linear."""
    from pycheck.checks.anisotropic import _brute_top_weights
    lam, linear = _brute_top_weights(np.array([0.8, 0.5, 0.5, 0.5]))
    np.testing.assert_allclose(lam, [0.8, 0.64, 0.512, 0.5], rtol=1e-14)
    assert not linear
    lam, linear = _brute_top_weights(np.array([0.8, 0.7]))
    np.testing.assert_allclose(lam, [0.8, 0.7], rtol=1e-14)
    assert linear


def test_random_rhos_cover_both_sides_of_the_threshold():
    """'in' worlds satisfy max ρ² < min ρ; 'any' worlds fall on both sides (else the
    threshold check would only ever see one answer)."""
    from pycheck.checks.anisotropic import _random_rhos
    rng = np.random.default_rng(5)
    for n in (1, 2, 4):
        for _ in range(50):
            rho = _random_rhos(rng, n, "in")
            assert rho.shape == (n,) and (0 < rho).all() and (rho < 1).all()
            assert rho.max() ** 2 <= rho.min()
    sides = {bool(r.max() ** 2 < r.min()) for r in (_random_rhos(rng, 3, "any") for _ in range(200))}
    assert sides == {True, False}


def test_feasibility_statistics_of_a_gaussian_and_a_degenerate_map():
    """The fold map pushes γ₂ to γ₂: KS p-values are not small and the outputs are
    uncorrelated (|r| < 4/√N). (z₁, z₁) has N(0, 1) marginals but is degenerate: r = 1."""
    from pycheck.anisotropic import GAUSSIAN_MAPS
    from pycheck.checks.anisotropic import _feasible
    p, r = _feasible(GAUSSIAN_MAPS["fold"], np.random.default_rng(6), 20_000)
    assert p > 1e-3 and abs(r) < 4 / math.sqrt(20_000)
    p, r = _feasible(lambda z: np.c_[z[:, 0], z[:, 0]], np.random.default_rng(6), 20_000)
    assert p < 1e-12 and r == pytest.approx(1.0)


def test_projection_identity_tells_sum_of_fourth_powers_from_square_of_norm():
    """In 2 dimensions κ Σu⁴ is the identity; κ(Σu²)² is not (they agree only for n = 1)."""
    from pycheck.checks.t2 import _projection_identity, _sum4
    assert _projection_identity(2, _sum4)
    assert not _projection_identity(2, lambda k, u: k * sum(x**2 for x in u) ** 2)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_rank_deficient_has_rank_n_minus_1(n):
    from pycheck.checks.t2 import _rank_deficient
    A = _rank_deficient(np.random.default_rng(n), n)
    assert A.shape == (n, n) and np.linalg.matrix_rank(A) == n - 1


def test_conjugate_names_the_valid_labels():
    from pycheck.checks import t4
    with pytest.raises(ValueError, match=r"sigma must be a permutation of 0\.\.2, got \[0 0 1\]"):
        t4.conjugate(np.ones((3, 2)), np.eye(2), np.array([0, 0, 1]))


def _one_trial(seed, n, K):
    rng = np.random.default_rng(seed)
    s, g = rng.standard_normal(n), rng.standard_normal(n)
    return s, g, int(rng.integers(K))


def test_conjugacy_residual_step_violation(monkeypatch):
    """A conjugate that forgets L (v' = v) under a rotation: costs match, the step does not;
    the residual is ‖Q s + v − Q(s + v)‖_∞ / (1 + ‖Q s‖_∞) on the one trial."""
    from pycheck.checks import t4
    Q = np.array([[0.0, -1.0], [1.0, 0.0]])
    acts = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.2]])
    monkeypatch.setattr(t4, "conjugate", lambda a, L, sigma=None: a)
    s, _, a = _one_trial(7, 2, 3)
    want = np.abs(acts[a] - Q @ acts[a]).max() / (1 + np.abs(Q @ s).max())
    assert t4.conjugacy_residual(acts, Q, None, 0.5, np.random.default_rng(7), trials=1) \
        == pytest.approx(want, rel=1e-12)
    many = t4.conjugacy_residual(acts, Q, None, 0.5, np.random.default_rng(7), trials=20)
    assert many >= want                               # the worst trial, not the last one


def test_conjugacy_residual_cost_violation(monkeypatch):
    """v' = 2 Q v under a rotation: the terminal term matches, the cost is off by
    3 λ‖v‖² / (‖s − g‖² + λ‖v‖²), which for λ = 50 exceeds the step term."""
    from pycheck.checks import t4
    Q = np.array([[0.6, -0.8], [0.8, 0.6]])
    acts = np.array([[1.0, 0.5], [-0.3, 2.0], [0.7, -1.2]])
    monkeypatch.setattr(t4, "conjugate", lambda a, L, sigma=None: 2 * a @ L.T)
    s, g, a = _one_trial(8, 2, 3)
    v2 = acts[a] @ acts[a]
    cost_rel = 3 * 50 * v2 / (((s - g) ** 2).sum() + 50 * v2)
    step = np.abs(Q @ acts[a]).max() / (1 + np.abs(Q @ s).max())
    assert cost_rel > step
    assert t4.conjugacy_residual(acts, Q, None, 50.0, np.random.default_rng(8), trials=1) \
        == pytest.approx(cost_rel, rel=1e-12)


def test_conjugacy_residual_of_a_scaling_is_three():
    """L = 2I is not an isometry: every squared length grows 4×, relative violation exactly 3."""
    from pycheck.checks import t4
    acts = np.array([[1.0, 0.5], [-0.3, 2.0]])
    got = t4.conjugacy_residual(acts, 2 * np.eye(2), None, 0.4, np.random.default_rng(9))
    assert got == pytest.approx(3.0, rel=1e-12)


def _family_stats(family, draws=200):
    from pycheck import theory as T
    from pycheck.checks.t3 import _draw
    rng = np.random.default_rng(20)
    rows = []
    for _ in range(draws):
        h, rho = _draw(rng, family)
        s = np.linalg.svd(T.linear_block(h), compute_uv=False)
        rows.append(dict(n=h.n, degree=int(h.degrees.max()), rho=rho,
                         mean=bool(h.coef[:, h.degrees == 0].any()),
                         D=T.deviation_from_rotation(h)[0], E=T.nonlinear_energy(h),
                         cond=s.min() / s.max(), scale=abs(np.log(s).mean()),
                         delta=T.whitening_residual(h)))
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


@pytest.mark.parametrize("family", ["near_rotation", "general", "scaled_rotation",
                                    "near_singular", "whitened"])
def test_t3_families_draw_what_they_are_named(family):
    """T3.bound_random_polynomials promises n ≤ 5, degree ≤ 4, ρ ∈ (0, 1), encoders with and
    without a mean, and five families. Over 200 draws: every n and degree occurs, ρ spans
    [0.01, 0.99]; and each family's median shows its kind (medians measured on seed 20:
    near-rotation D 3e-4 and E_nl 1e-7; general D 8.4, E_nl 2.2; scaled rotation
    σ_min/σ_max 1.00 with |mean log σ| 0.27; near-singular σ_min/σ_max 1e-3; whitened δ = 0).
    The thresholds sit an order of magnitude from those medians."""
    st = _family_stats(family)
    assert set(st["n"]) == {1, 2, 3, 4, 5} and set(st["degree"]) == {1, 2, 3, 4}
    assert 0.01 <= st["rho"].min() < 0.1 and 0.9 < st["rho"].max() <= 0.99
    med = {k: float(np.median(v)) for k, v in st.items()}
    if family == "whitened":
        assert st["delta"].max() < 1e-9 and not st["mean"].any()
        return
    assert set(st["mean"]) == {False, True}
    if family == "near_rotation":
        assert med["D"] < 0.01 and med["E"] < 1e-3
    elif family == "general":
        assert med["D"] > 1 and med["E"] > 0.2
    elif family == "scaled_rotation":
        assert med["cond"] > 0.99 and med["scale"] > 0.05 and med["E"] < 1e-3
    else:
        assert med["cond"] < 0.05 and med["E"] < 1e-3


def test_t3_scaled_rotations_are_both_shrunk_and_stretched():
    """The scaled-rotation family exists for ``ε < 0`` (a shrunk rotation has ``L`` below
    ``2n(1−ρ)``, so only the δ term keeps ``B`` positive) against ``ε > 0`` (stretched): both
    must be drawn, in comparable numbers (the scale is ``e^U`` with ``U`` symmetric about 0;
    measured on seed 20: 45.5% of 200 draws have ``ε < 0``; 30-70% is ±5.7 binomial s.d.)."""
    from pycheck import theory as T
    from pycheck.checks.t3 import _draw
    rng = np.random.default_rng(20)
    eps = np.array([T.t3_quantities(*_draw(rng, "scaled_rotation")).eps for _ in range(200)])
    assert 0.3 < np.mean(eps < 0) < 0.7


# ---------------------------------------------------------------- theory: generators and whitening
@pytest.mark.parametrize("scales", [{}, dict(linear_scale=2.0, nonlinear_scale=0.5, mean_scale=3.0)])
def test_random_encoder_coefficient_variances(scales):
    """Mean N(0, m²), degree-1 block N(0, l²/n), degree-d coefficients N(0, s²/M_d) (defaults
    l = s = 1, m = 0). 4000 output rows: the sample variance of a block of k columns has
    relative sd √(2/(4000k)) ≤ 2.3%, so 10% is over 4 sd."""
    from pycheck import theory as T
    n = 3
    h = T.random_encoder(np.random.default_rng(11), n, 3, n_out=4000, **scales)
    m, l, s = (scales.get(k, d) for k, d in
               (("mean_scale", 0.0), ("linear_scale", 1.0), ("nonlinear_scale", 1.0)))
    deg = h.alphas.sum(1)
    for d in range(4):
        block = h.coef[:, deg == d]
        want = [m**2, l**2 / n, s**2 / block.shape[1], s**2 / block.shape[1]][d]
        if want == 0:
            assert not block.any()
        else:
            assert (block**2).mean() == pytest.approx(want, rel=0.1), d


def test_random_rotation_is_orthogonal_and_seeded():
    from pycheck import theory as T
    Q = T.random_rotation(np.random.default_rng(12), 4)
    np.testing.assert_allclose(Q @ Q.T, np.eye(4), atol=1e-12)
    np.testing.assert_array_equal(Q, T.random_rotation(np.random.default_rng(12), 4))


def test_random_whitened_encoder_scale_and_default():
    """nonlinear_scale = 0 gives a whitened linear encoder (a rotation: no nonlinear energy);
    the default nonlinear scale is 1."""
    from pycheck import theory as T
    h = T.random_whitened_encoder(np.random.default_rng(13), 3, 3, nonlinear_scale=0.0)
    assert T.nonlinear_energy(h) == 0 and T.whitening_residual(h) < 1e-12
    a = T.random_whitened_encoder(np.random.default_rng(14), 3, 3)
    b = T.random_whitened_encoder(np.random.default_rng(14), 3, 3, nonlinear_scale=1.0)
    np.testing.assert_array_equal(a.coef, b.coef)


def test_whiten_refusals_name_the_reason_at_any_scale():
    """Singularity is judged relative to the largest singular value: a 10⁶-scaled encoder with
    a 10⁻¹¹ relative gap is singular, whatever its absolute size."""
    from pycheck import theory as T
    alphas = T.multi_indices(2, 1)
    flat = T.PolyEncoder(1e6 * np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 1e-11]]), alphas)
    with pytest.raises(np.linalg.LinAlgError,
                       match=r"^covariance is \(numerically\) singular: cannot whiten$"):
        T.whiten(flat)
    wide = T.PolyEncoder(np.ones((3, 3)), alphas)               # 3 outputs, 2 basis functions
    with pytest.raises(np.linalg.LinAlgError,
                       match="^more outputs than basis functions: cannot whiten$"):
        T.whiten(wide)


def test_deviation_from_rotation_needs_a_square_encoder():
    from pycheck import theory as T
    h = T.random_encoder(np.random.default_rng(15), 2, 2, n_out=3)
    with pytest.raises(ValueError, match=r"D\(h\) needs a square encoder ℝⁿ → ℝⁿ, got n_out=3, n=2"):
        T.deviation_from_rotation(h)


@pytest.mark.parametrize("name, kurtosis", [
    ("gaussian", 0.0), ("uniform", -1.2), ("laplace", 3.0),
    ("gennorm4", math.gamma(5 / 4) * math.gamma(1 / 4) / math.gamma(3 / 4) ** 2 - 3),
    ("gennorm0.5", math.gamma(10) * math.gamma(2) / math.gamma(6) ** 2 - 3)])
def test_t2_latent_samplers_are_standardized_with_their_kurtosis(name, kurtosis):
    """Each named law has mean 0, variance 1 and the stated excess kurtosis
    Γ(5/β)Γ(1/β)/Γ(3/β)² − 3; draws are reproducible from the generator. 200 000 draws:
    the variance's sd is ≤ √((κ + 2)/N) ≤ 0.012 (κ ≤ 25), so 0.06 is about 5 sd."""
    from pycheck.checks.t2 import _sampler
    draw, kappa = _sampler(name)
    assert kappa == pytest.approx(kurtosis, rel=1e-12, abs=1e-12)
    x = draw(np.random.default_rng(16), (200_000,))
    assert abs(x.mean()) < 0.03 and x.var() == pytest.approx(1.0, abs=0.06)
    np.testing.assert_array_equal(draw(np.random.default_rng(17), (5,)),
                                  draw(np.random.default_rng(17), (5,)))


def test_conjugacy_residual_terminal_violation(monkeypatch):
    """L = 2I with v' = v (the actions not mapped): the terminal term is off by exactly 3,
    more than the step (‖v‖_∞ / (1 + 2‖s‖_∞) < 3) and the cost (< 3, as λ‖v‖² is unscaled)."""
    from pycheck.checks import t4
    acts = np.array([[1.0, 0.5], [-0.3, 2.0]])
    monkeypatch.setattr(t4, "conjugate", lambda a, L, sigma=None: a)
    got = t4.conjugacy_residual(acts, 2 * np.eye(2), None, 0.4, np.random.default_rng(9))
    assert got == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize("family", ["near_rotation", "scaled_rotation", "near_singular"])
def test_t3_draws_are_reproducible(family):
    """Same seed, same encoder: every random choice of the T3 check comes from its generator."""
    from pycheck.checks.t3 import _draw
    a, b = _draw(np.random.default_rng(21), family), _draw(np.random.default_rng(21), family)
    np.testing.assert_array_equal(a[0].coef, b[0].coef)
    assert a[1] == b[1]
