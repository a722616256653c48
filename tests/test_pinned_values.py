"""Closed-form values of the objectives and metrics, computed here independently of the code
under test (not only orderings): each would change under a plausible one-line bug."""
import math

import numpy as np
import pytest
import torch
from scipy.special import erf

from pycheck import objectives as O
from pycheck import planning as P
from pycheck import worlds as W
from pycheck.metrics import (best_rotation, deviation_from_rotation, linear_r2, r2_summary,
                             t3_quantities)
from pycheck.theory import t3_bound

PHI = lambda t: math.exp(-t * t / 2)  # noqa: E731  (the N(0,1) characteristic function)


# ---------------------------------------------------------------- SIGReg quadrature
@pytest.mark.parametrize("K, t_max, want", [
    (2, 1.0, [1.0, PHI(1.0)]),                                  # dt = 1: ends weigh dt
    (3, 2.0, [1.0, 2 * PHI(1.0), PHI(2.0)]),                   # interior 2 dt (doubled rule)
    (5, 2.0, [0.5, PHI(0.5), PHI(1.0), PHI(1.5), 0.5 * PHI(2.0)]),
])
def test_sigreg_quadrature_weights_by_hand(K, t_max, want):
    t, phi, w = O._trapezoid_gauss_weights(K, t_max)
    np.testing.assert_allclose(t.numpy(), np.linspace(0, t_max, K), rtol=0, atol=1e-15)
    np.testing.assert_allclose(phi.numpy(), [PHI(v) for v in t.tolist()], rtol=1e-15)
    np.testing.assert_allclose(w.numpy(), want, rtol=1e-15)


def test_sigreg_quadrature_integrates_the_gaussian_window():
    """Σ w_k f(t_k) ≈ ∫_{-T}^{T} e^{-t²/2} f(t) dt for even f; for f = 1 the integral is
    √(2π) erf(T/√2). Trapezoid error ≤ T dt² max|φ''| / 6 (doubled) ≈ 1.1e-7 at K = 1001."""
    T = 3.0
    _, _, w = O._trapezoid_gauss_weights(1001, T)
    exact = math.sqrt(2 * math.pi) * erf(T / math.sqrt(2))
    assert abs(w.sum().item() - exact) < 2e-7
    _, _, w17 = O._trapezoid_gauss_weights(17, T)      # the default knots: 0.3% coarse
    assert abs(w17.sum().item() - exact) / exact < 5e-3


def _stat_by_hand(cf_sq_dist, K=3, t_max=2.0, B=4):
    """``B Σ_k w_k |ECF(t_k) − φ(t_k)|²`` with the hand weights of K = 3, T = 2."""
    t = np.linspace(0, t_max, K)
    w = np.array([1.0, 2 * PHI(1.0), PHI(2.0)])
    return B * float(sum(wk * cf_sq_dist(tk) for wk, tk in zip(w, t)))


@pytest.mark.parametrize("n", [1, 3])
def test_sigreg_at_a_point_mass(n):
    """h ≡ 0: every projection is 0, ECF ≡ 1 whatever the directions."""
    h = torch.zeros(4, n, dtype=torch.float64)
    got = O.SIGReg(num_slices=7, num_knots=3, t_max=2.0)(h).item()
    assert got == pytest.approx(_stat_by_hand(lambda t: (1 - PHI(t)) ** 2), rel=1e-13)


def test_sigreg_symmetric_and_one_sided_two_point_samples():
    """n = 1 (directions ±1). ±a: ECF = cos(ta); a, a: |e^{±ita} − φ|² = 1 − 2φ cos(ta) + φ²."""
    a = 0.7
    mod = O.SIGReg(num_slices=5, num_knots=3, t_max=2.0)
    sym = torch.tensor([[a], [-a], [a], [-a]], dtype=torch.float64)
    assert mod(sym).item() == pytest.approx(
        _stat_by_hand(lambda t: (math.cos(t * a) - PHI(t)) ** 2), rel=1e-12)
    one = torch.full((4, 1), a, dtype=torch.float64)
    assert mod(one).item() == pytest.approx(
        _stat_by_hand(lambda t: 1 - 2 * PHI(t) * math.cos(t * a) + PHI(t) ** 2), rel=1e-12)


def test_sigreg_gradient_matches_finite_differences():
    """The hand-written backward of the fast statistic, against torch's gradcheck."""
    g = torch.Generator().manual_seed(0)
    h = torch.randn(9, 3, generator=g, dtype=torch.float64, requires_grad=True)
    mod = O.SIGReg(num_slices=4, num_knots=11)
    a = mod.directions(3, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: mod.statistic(x, a), (h,))


def test_sigreg_directions_are_unit_fresh_and_seeded():
    m1, m2 = O.SIGReg(num_slices=6, seed=3), O.SIGReg(num_slices=6, seed=3)
    a1, a2 = m1.directions(4, dtype=torch.float64), m2.directions(4, dtype=torch.float64)
    assert a1.shape == (4, 6)
    np.testing.assert_allclose(a1.norm(dim=0).numpy(), 1.0, rtol=1e-15)
    assert torch.equal(a1, a2)                                   # same seed, same draw
    assert not torch.equal(a1, m1.directions(4, dtype=torch.float64))   # fresh per call


def test_sigreg_mean_over_views():
    """A leading view dimension is averaged: stat([h, 0]) = (stat(h) + stat(0)) / 2."""
    h = torch.randn(16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    z = torch.zeros_like(h)
    mod = O.SIGReg(num_slices=8)
    a = mod.directions(2, dtype=torch.float64)
    both = mod.statistic(torch.stack([h, z]), a).item()
    assert both == pytest.approx((mod.statistic(h, a).item() + mod.statistic(z, a).item()) / 2,
                                 rel=1e-12)


# ---------------------------------------------------------------- VICReg, InfoNCE, alignment
def test_vicreg_closed_form():
    h = np.array([[1.0, 0.5, 0.0], [-1.0, 2.0, 1.0], [3.0, -1.0, 0.5], [0.0, 0.5, -2.0],
                  [2.0, 1.0, 1.0]]) * [1.0, 1.0, 0.3]      # a column of variance < 1
    C = np.cov(h, rowvar=False)                                  # ddof 1, as VICReg's
    n, eps, cw = 3, 1e-4, 0.7
    var_term = np.mean(np.maximum(0.0, 1 - np.sqrt(np.diag(C) + eps)))
    off = C - np.diag(np.diag(C))
    want = var_term + cw * (off ** 2).sum() / n
    assert var_term > 0 and (np.diag(C) != 1).all()              # both terms are exercised
    got = O.vicreg(torch.tensor(h), cov_weight=cw, eps=eps).item()
    assert got == pytest.approx(want, rel=1e-12)


def test_infonce_closed_form_at_sigma_2():
    """B = 2, n = 1, h = (0, 1), h' = (0, 3), σ = 2: logits −(h_i − h'_j)²/8."""
    L = -np.array([[0.0, 9.0], [1.0, 4.0]]) / 8
    rows = [-(L[i, i] - np.log(np.exp(L[i]).sum())) for i in range(2)]
    cols = [-(L[j, j] - np.log(np.exp(L[:, j]).sum())) for j in range(2)]
    want = 0.5 * (np.mean(rows) + np.mean(cols))
    got = O.infonce(torch.tensor([[0.0], [1.0]], dtype=torch.float64),
                    torch.tensor([[0.0], [3.0]], dtype=torch.float64), sigma=2.0).item()
    assert got == pytest.approx(want, rel=1e-12)
    loss, _ = O.make_objective("infonce", sigma=2.0)(
        torch.tensor([[0.0], [1.0]], dtype=torch.float64),
        torch.tensor([[0.0], [3.0]], dtype=torch.float64))
    assert loss.item() == pytest.approx(want, rel=1e-12)


def test_alignment_sums_coordinates_and_averages_rows():
    h = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    hn = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    assert O.alignment(h, hn).item() == pytest.approx((2 + 4) / 2)


# ---------------------------------------------------------------- the LeJEPA losses and the ramp
def _lam(obj, h, hn) -> float:
    """The weight in force: (loss − alignment/n) / regularizer."""
    _, p = obj(h, hn)
    reg = p.get("sigreg", p.get("vicreg"))
    return (p["loss"] - p["alignment"]) / reg


@pytest.mark.parametrize("name, start, end", [("vicreg", 0.01, 4.0), ("sigreg", 0.003, 3.0)])
def test_weight_ramp_is_geometric_from_start_to_end(name, start, end):
    g = torch.Generator().manual_seed(0)
    h = 0.3 * torch.randn(32, 2, generator=g, dtype=torch.float64)
    hn = h + 0.1 * torch.randn(32, 2, generator=g, dtype=torch.float64)
    opts = {} if name == "sigreg" else {"lam": end, "lam_start": start}   # sigreg: defaults
    obj = O.make_objective(name, **opts)
    for frac, want in [(0.0, start), (1.0, end), (0.5, math.sqrt(start * end)),
                       (0.25, start * (end / start) ** 0.25), (-1.0, start), (2.0, end)]:
        obj.set_progress(frac)
        assert _lam(obj, h, hn) == pytest.approx(want, rel=1e-6), frac


def test_vicreg_default_weight_is_constant_one():
    h = 0.3 * torch.randn(32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    obj = O.make_objective("vicreg")
    for frac in (0.0, 1.0):
        obj.set_progress(frac)
        assert _lam(obj, h, h + 0.1) == pytest.approx(1.0, rel=1e-9)


def test_lejepa_loss_parts_closed_form():
    """alignment/n plus λ times the regularizer averaged over the two views."""
    g = torch.Generator().manual_seed(3)
    h, hn = (torch.randn(16, 3, generator=g, dtype=torch.float64) for _ in range(2))
    obj = O.make_objective("vicreg", lam=2.0, cov_weight=0.5)
    loss, parts = obj(h, hn)
    reg = 0.5 * (O.vicreg(h, cov_weight=0.5) + O.vicreg(hn, cov_weight=0.5)).item()
    align = ((hn - h) ** 2).sum(1).mean().item() / 3
    assert parts["alignment"] == pytest.approx(align, rel=1e-12)
    assert parts["vicreg"] == pytest.approx(reg, rel=1e-12)
    assert loss.item() == pytest.approx(align + 2.0 * reg, rel=1e-12)


@pytest.mark.parametrize("opts", [{"lam": 0.0}, {"lam_start": -1.0}, {"sigma": 0.0}])
def test_objective_weights_must_be_positive(opts):
    with pytest.raises(ValueError):
        O.make_objective("infonce" if "sigma" in opts else "vicreg", **opts)


# ---------------------------------------------------------------- metrics
def test_linear_r2_is_variance_weighted():
    """z₁ = h exactly, z₂ independent with variance 4: 1 − (0 + 4)/(1 + 4) = 0.2 (an
    unweighted mean of per-coordinate R² would give 0.5)."""
    rng = np.random.default_rng(0)
    h = rng.standard_normal((200_000, 1))
    z = np.c_[h, 2 * rng.standard_normal(200_000)]
    assert linear_r2(h, z) == pytest.approx(0.2, abs=0.005)    # sampling sd ~ 0.002


def test_linear_r2_noise_level():
    """z = h + σε: population R² = 1/(1 + σ²)."""
    rng = np.random.default_rng(1)
    h = rng.standard_normal((200_000, 2))
    z = h + 0.5 * rng.standard_normal((200_000, 2))
    assert linear_r2(h, z) == pytest.approx(1 / 1.25, abs=0.003)


def test_linear_r2_scores_held_out_rows():
    """20 training rows, 15 noise features: the training rows' R² is about 0.75, the
    held-out R² about 0 or negative."""
    rng = np.random.default_rng(2)
    h, z = rng.standard_normal((40, 15)), rng.standard_normal((40, 1))
    assert linear_r2(h, z) < 0.2
    half = linear_r2(h, z, test_fraction=0.25)                   # 30 training rows
    assert half < 0.2


def test_linear_r2_split_is_seeded():
    rng = np.random.default_rng(3)
    h = rng.standard_normal((50, 2))
    z = h + rng.standard_normal((50, 2))
    assert linear_r2(h, z, seed=1) == linear_r2(h, z, seed=1) != linear_r2(h, z, seed=2)


def test_deviation_from_rotation_exact_for_scaled_rotations():
    """h = c Q z + b: D = (1 − c)² mean ‖z − z̄‖² on the sample itself (c > 0)."""
    rng = np.random.default_rng(4)
    z = rng.standard_normal((500, 3))
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    want = 0.36 * ((z - z.mean(0)) ** 2).sum(1).mean()
    assert deviation_from_rotation(0.4 * z @ Q.T + 2.0, z) == pytest.approx(want, rel=1e-10)


def test_t3_quantities_by_hand():
    rng = np.random.default_rng(5)
    z = rng.standard_normal((400, 2))
    zn = 0.5 * z + math.sqrt(0.75) * rng.standard_normal((400, 2))
    h, hn = 1.1 * z + 0.3, 1.1 * zn + 0.3
    r = t3_quantities(h, hn, z, 0.5)
    sq = ((hn - h) ** 2).sum(1)
    eps = sq.mean() - 2 * 2 * 0.5
    delta = np.linalg.norm(np.cov(h, rowvar=False) - np.eye(2))
    assert r["eps"] == pytest.approx(eps, rel=1e-12)
    assert r["eps_se"] == pytest.approx(sq.std(ddof=1) / math.sqrt(400), rel=1e-12)
    assert r["delta"] == pytest.approx(delta, rel=1e-12)
    assert r["D"] == pytest.approx(0.01 * ((z - z.mean(0)) ** 2).sum(1).mean(), rel=1e-9)
    b = t3_bound(eps, delta, 2, 0.5)
    assert r["bound"] == pytest.approx(b.deviation, rel=1e-12)
    assert r["bound_energy"] == pytest.approx(b.energy, rel=1e-12)
    assert (r["n"], r["rho"]) == (2, 0.5)


# ---------------------------------------------------------------- worlds
def test_gaussian_ou_pairs_draw_for_draw():
    z, zn = W.gaussian_ou_pairs(5, 2, 0.3, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    z2, e = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    np.testing.assert_array_equal(z, z2)
    np.testing.assert_allclose(zn, 0.3 * z2 + math.sqrt(1 - 0.09) * e, rtol=1e-15)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0, 8.0, np.inf])
def test_gennorm_law_is_standardized_with_the_closed_form_kurtosis(alpha):
    law = W.gennorm_law(alpha)
    assert law.mean() == pytest.approx(0.0, abs=1e-12)
    assert law.var() == pytest.approx(1.0, rel=1e-10)
    g = math.gamma
    want = -1.2 if np.isinf(alpha) else g(5 / alpha) * g(1 / alpha) / g(3 / alpha) ** 2 - 3
    assert float(law.stats(moments="k")) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0, np.inf])
def test_gaussian_to_gennorm_is_the_quantile_transform(alpha):
    from scipy.special import ndtr
    w = np.linspace(-3, 3, 13)
    got = W.gaussian_to_gennorm(w, alpha)
    np.testing.assert_allclose(got, W.gennorm_law(alpha).ppf(ndtr(w)), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(W.gennorm_to_gaussian(got, alpha), w, rtol=1e-9, atol=1e-9)


def test_copula_ceiling_of_the_uniform_limit_is_3_over_pi():
    """T(w) = √3 erf(w/√2); by Stein's lemma E[w T(w)] = E[T'(w)] = √(3/π), so R² = 3/π."""
    assert W.copula_r2_ceiling(np.inf) == pytest.approx(3 / math.pi, rel=1e-9)
    assert W.copula_r2_ceiling(2.0) == 1.0


def test_trajectory_rollouts_follow_the_damped_controller():
    kw = dict(horizon=3, start_center=-1.5, start_radius=0.2, goal_std=1.0, momentum=0.8,
              gain=0.05, noise=0.03)
    roll = W.trajectory_rollouts(2, 2, np.random.default_rng(1), **kw)
    rng = np.random.default_rng(1)
    z = [-1.5 + 0.2 * rng.standard_normal((2, 2))]
    goal, v = rng.standard_normal((2, 2)), np.zeros((2, 2))
    for _ in range(3):
        v = 0.8 * v + 0.05 * (goal - z[-1]) + 0.03 * rng.standard_normal((2, 2))
        z.append(z[-1] + v)
    np.testing.assert_allclose(roll, np.stack(z, 1), rtol=1e-14)


def test_trajectory_pairs_are_consecutive_states():
    z, zn = W.trajectory_pairs(5, 2, np.random.default_rng(2), horizon=3)
    rng = np.random.default_rng(2)
    roll = W.trajectory_rollouts(2, 2, rng, horizon=3)
    idx = rng.permutation(6)[:5]
    np.testing.assert_array_equal(z, roll[:, :-1].reshape(-1, 2)[idx])
    np.testing.assert_array_equal(zn, roll[:, 1:].reshape(-1, 2)[idx])


# ---------------------------------------------------------------- planning
def test_straight_line_waypoints_and_path_length():
    s, g = np.array([[0.0, 0.0]]), np.array([[4.0, 2.0]])
    plans = P.straight_line_plans(s, g, 4)
    np.testing.assert_allclose(plans[0], [[0, 0], [1, 0.5], [2, 1], [3, 1.5], [4, 2]])
    assert P.path_lengths(np.array([[[0.0, 0.0], [3.0, 0.0], [3.0, 4.0]]]))[0] == 7.0


def test_plan_cost_by_hand():
    """Bank (0,0), (1,0.5), (2,0): the midpoint (1,0) decodes to (1,0.5), so the path is
    2·√1.25 long against a straight line of 2."""
    z = np.array([[0.0, 0.0], [1.0, 0.5], [2.0, 0.0]])
    cost = P.plan_cost(z, z, np.array([[0, 2]]), n_steps=2)
    assert cost[0] == pytest.approx(math.sqrt(1.25), rel=1e-14)


def test_plan_cost_pins_the_end_points_to_the_chosen_items():
    """Items 0, 1 and items 2, 3 share embeddings; a plan from item 1 to item 3 must run
    from z[1] to z[3]."""
    h = np.array([[0.0, 0.0], [0.0, 0.0], [2.0, 0.0], [2.0, 0.0]])
    z = np.array([[0.0, 0.0], [5.0, 5.0], [2.0, 0.0], [9.0, 9.0]])
    assert P.plan_cost(h, z, np.array([[1, 3]]), n_steps=1)[0] == pytest.approx(1.0)


def test_sample_pairs_respects_the_distance_floor():
    z = np.random.default_rng(3).standard_normal((500, 2))
    pairs = P.sample_pairs(z, 40, np.random.default_rng(4), min_dist=1.5)
    assert pairs.shape == (40, 2)
    assert (np.linalg.norm(z[pairs[:, 0]] - z[pairs[:, 1]], axis=1) >= 1.5).all()
    with pytest.raises(ValueError, match="could not find"):
        P.sample_pairs(np.zeros((10, 2)), 3, np.random.default_rng(0))


def test_bootstrap_ci_width_matches_the_normal_approximation():
    """For 400 draws of N(0, 1) the 95% interval is about mean ± 1.96/20 (±10%)."""
    x = np.random.default_rng(5).standard_normal(400)
    m, lo, hi = P.bootstrap_ci(x, n_resamples=4000)
    assert m == pytest.approx(x.mean(), rel=1e-15)
    assert (hi - lo) == pytest.approx(2 * 1.96 * x.std() / 20, rel=0.1)
    _, lo50, hi50 = P.bootstrap_ci(x, n_resamples=4000, level=0.5)
    assert (hi50 - lo50) == pytest.approx(2 * 0.674 * x.std() / 20, rel=0.15)


def test_best_rotation_ignores_offsets():
    rng = np.random.default_rng(6)
    z = rng.standard_normal((300, 3))
    Q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    np.testing.assert_allclose(best_rotation(z @ Q.T + 4.0, z - 2.0), Q, atol=1e-10)


def test_r2_summary_digits():
    assert r2_summary([0.9, 0.92]) == "0.910000 ± 1.4e-02"
    assert r2_summary([0.99999]) == "0.999990 ± nan"              # one seed: no spread


def test_t3_quantities_names_the_bad_array():
    z = np.random.default_rng(7).standard_normal((10, 2))
    with pytest.raises(ValueError, match="h_next contains NaN"):
        t3_quantities(z, np.full((10, 2), np.nan), z, 0.5)


# ---------------------------------------------------------------- defaults and edge cases
def test_functional_sigreg_defaults():
    """sigreg(h) = LeJEPA's defaults: 256 slices drawn from seed 0, 17 knots on [0, 3]."""
    h = torch.randn(64, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    # drawn in float32 like LeJEPA's reference (session 10: float64 had no vectorised
    # draw on CPU), normalised in float64
    a = torch.randn(3, 256, generator=torch.Generator().manual_seed(0)).double()
    a = a / a.norm(dim=0)
    ref = O.SIGReg(num_slices=256, num_knots=17, t_max=3.0).statistic(h, a).item()
    assert O.sigreg(h).item() == pytest.approx(ref, rel=1e-12)
    assert O.sigreg(h, num_slices=8, seed=2).item() == pytest.approx(
        O.SIGReg(8, seed=2)(h).item(), rel=1e-12)
    t = np.linspace(0, 3, 17)                        # h ≡ 0: knots and weights of the defaults
    w = 2 * (3 / 16) * np.exp(-t ** 2 / 2)
    w[[0, -1]] /= 2
    want = 64 * float((w * (1 - np.exp(-t ** 2 / 2)) ** 2).sum())
    assert O.sigreg(torch.zeros(64, 3, dtype=torch.float64)).item() == pytest.approx(want, rel=1e-12)


def test_check_registry_refuses_duplicates():
    from pycheck import checks
    fn = checks.check("test.only_here")(lambda seed: checks.CheckResult(True, "x"))
    try:
        assert checks.CHECKS["test.only_here"] is fn
        with pytest.raises(ValueError, match="registered twice"):
            checks.check("test.only_here")(fn)
    finally:
        del checks.CHECKS["test.only_here"]


def test_rotation_encoder_is_linear_by_default():
    from pycheck import theory as T
    h = T.rotation_encoder(np.eye(2))
    assert h.alphas.sum(1).max() == 1 and T.nonlinear_energy(h) == 0


def test_t3_ratio_of_a_zero_bound_is_infinite():
    from pycheck.checks import t3
    assert t3._ratio(1.0, 0.0) == math.inf and t3._ratio(1.0, 2.0) == 0.5


def test_sample_pairs_uses_every_item_and_the_true_distance():
    rng = np.random.default_rng(9)
    two = np.array([[1.0, 0.0], [-1.0, 0.0]])         # ‖a − b‖ = 2, ‖a + b‖ = 0
    pairs = P.sample_pairs(two, 10, rng, min_dist=1.0)
    assert {tuple(p) for p in pairs.tolist()} == {(0, 1), (1, 0)}
    unit = np.array([[0.0, 0.0], [1.0, 0.0]])         # exactly at the floor: accepted
    assert len(P.sample_pairs(unit, 4, rng, min_dist=1.0)) == 4


def test_plan_defaults():
    rng = np.random.default_rng(10)
    z = rng.standard_normal((3000, 2))
    h = np.c_[z[:, 0], z[:, 1] + np.sin(2 * z[:, 0])]
    pairs = P.sample_pairs(z, 10, rng)
    default = P.plan_cost(h, z, pairs)
    np.testing.assert_array_equal(default, P.plan_cost(h, z, pairs, n_steps=20))
    assert not np.array_equal(default, P.plan_cost(h, z, pairs, n_steps=21))
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        P.straight_line_plans(z[:1], z[1:2], 0)
    x = rng.standard_normal(30)
    assert P.bootstrap_ci(x) == P.bootstrap_ci(x, seed=0, n_resamples=2000, level=0.95)
    assert P.bootstrap_ci(x) != P.bootstrap_ci(x, seed=1)
    assert P.bootstrap_ci(x) != P.bootstrap_ci(x, n_resamples=2001)
    assert P.bootstrap_ci(np.array([2.0])) == (2.0, 2.0, 2.0)
    assert P.bootstrap_ci(np.array([0.0, 1.0, 0.0, 1.0]))[0] == 0.5


def test_uniform_gaussianizer_clips_outside_the_support():
    np.testing.assert_array_equal(W.gennorm_to_gaussian(np.array([-2.0, 2.0]), np.inf),
                                  [-np.inf, np.inf])


def test_trajectory_defaults_and_horizon():
    a = W.trajectory_rollouts(2, 2, np.random.default_rng(11))
    b = W.trajectory_rollouts(2, 2, np.random.default_rng(11), horizon=40, start_center=-1.5,
                              start_radius=0.2, goal_std=1.0, momentum=0.8, gain=0.05,
                              noise=0.03)
    np.testing.assert_array_equal(a, b)
    z, _ = W.trajectory_pairs(50, 2, np.random.default_rng(12))
    z2, _ = W.trajectory_pairs(50, 2, np.random.default_rng(12), horizon=40)
    np.testing.assert_array_equal(z, z2)
    assert W.trajectory_rollouts(1, 1, np.random.default_rng(0), horizon=1).shape == (1, 2, 1)
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        W.trajectory_rollouts(1, 1, np.random.default_rng(0), horizon=0)
    fast = W.trajectory_pairs(40, 1, np.random.default_rng(13), horizon=4, noise=0.0, gain=0.0,
                              momentum=0.0)                     # v ≡ 0: z' = z
    np.testing.assert_array_equal(fast[0], fast[1])


def test_gaussianizer_returns_floats_for_integer_input():
    for alpha in (2.0, np.inf):
        assert W.gennorm_to_gaussian(np.array([0, 1]), alpha).dtype == np.float64


def test_sample_pairs_default_floor_is_one():
    z = np.array([[0.0, 0.0], [1.5, 0.0]])
    assert len(P.sample_pairs(z, 3, np.random.default_rng(0))) == 3


def test_bootstrap_ci_is_the_percentile_interval():
    from scipy import stats
    x = np.random.default_rng(14).exponential(size=25)      # skewed: BCa would differ
    ci = stats.bootstrap((x,), np.mean, n_resamples=2000, confidence_level=0.95,
                         method="percentile", rng=np.random.default_rng(0)).confidence_interval
    assert P.bootstrap_ci(x)[1:] == (ci.low, ci.high)
