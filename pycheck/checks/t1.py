"""Checks for T1 (forward direction): under whitening ``L(h) ≥ 2n(1−ρ)``, equality exactly
at rotations, and the quantitative gap ``L − 2n(1−ρ) ≥ 2ρ(1−ρ) E_nl``.

Keyword-only arguments are the ingredients the tests break on purpose (e.g. ``prepare``:
the map that should make a random encoder whitened).
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from scipy import stats
from scipy.special import roots_legendre

from .. import theory as T
from . import CheckResult, check

_LOWER_TOL = 1e-12
# E h = 0 and Σ_h = I hold to ~1e-15 after T.whiten (an SVD, U Vᵀ); 1e-12 is rounding only
_FEASIBLE_TOL = 1e-12


def infeasibility(h: T.PolyEncoder) -> float:
    """``max(max_k |E h_k|, ‖Σ_h − I‖_F)``: 0 exactly for a feasible (whitened) encoder, the
    hypothesis of T1. A check that skipped it could pass on encoders T1 says nothing about."""
    return max(float(np.abs(T.mean(h)).max()), T.whitening_residual(h))


def _relative_slack(h: T.PolyEncoder, rho: float) -> float:
    """``(L(h) − 2n(1−ρ)) / (2n(1−ρ))``."""
    target = 2 * h.n * (1 - rho)
    return (T.alignment_loss(h, rho) - target) / target


@check("T1.lower_bound")
def lower_bound(seed: int, *, prepare=T.whiten, examples: int = 300,
                sweep: int = 2000) -> CheckResult:
    """``L(h) ≥ 2n(1−ρ)`` for whitened random polynomial encoders: a hypothesis search (seeded,
    no example database; ``n ∈ 1..5``, degree ``1..4``, ``ρ ∈ [1e-3, 1 − 1e-3]``, linear scale
    in ``[0.01, 3]``, nonlinear scale in ``[0, 3]``, mean scale 1; an example whose
    whitening raises ``LinAlgError`` is discarded) then a numpy sweep of ``sweep`` encoders
    (``n ∈ 1..5``, degree ``1..4``, nonlinear scale ``10^U(−3, 0.5)``, mean scale 1,
    ``ρ ~ U(1e-3, 1 − 1e-3)``)."""
    worst = {"slack": math.inf, "example": None, "infeasibility": 0.0, "hypothesis": 0}

    def record(h, rho, where):
        worst[where] = worst.get(where, 0) + 1
        worst["infeasibility"] = max(worst["infeasibility"], infeasibility(h))
        s = _relative_slack(h, rho)
        if s < worst["slack"]:
            worst.update(slack=s, example=f"{where}: n={h.n}, degree={h.alphas.max()}, "
                                          f"rho={rho:.4g}")
        return s

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              verbosity=Verbosity.quiet, suppress_health_check=list(HealthCheck),
              phases=(Phase.generate,))          # no shrinking: the worst case is reported
    @given(n=st.integers(1, 5), degree=st.integers(1, 4),
           rho=st.floats(1e-3, 1 - 1e-3), lin=st.floats(1e-2, 3.0),
           nonlin=st.floats(0.0, 3.0), coef_seed=st.integers(0, 2**32 - 1))
    def prop(n, degree, rho, lin, nonlin, coef_seed):
        raw = T.random_encoder(np.random.default_rng(coef_seed), n, degree,
                               linear_scale=lin, nonlinear_scale=nonlin, mean_scale=1.0)
        try:
            h = prepare(raw)
        except np.linalg.LinAlgError:
            assume(False)
        assert record(h, rho, "hypothesis") >= -_LOWER_TOL

    try:
        prop()
        hyp_ok = True
    except AssertionError:
        hyp_ok = False
    rng = np.random.default_rng(seed)
    for _ in range(sweep):
        n, degree = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        raw = T.random_encoder(rng, n, degree, nonlinear_scale=10 ** rng.uniform(-3, 0.5),
                               mean_scale=1.0)
        record(prepare(raw), float(rng.uniform(1e-3, 1 - 1e-3)), "sweep")
    ok = hyp_ok and worst["slack"] >= -_LOWER_TOL and worst["infeasibility"] <= _FEASIBLE_TOL
    return CheckResult(
        passed=ok,
        summary=f"whitened encoders: worst relative slack (L - 2n(1-rho))/(2n(1-rho)) = "
                f"{worst['slack']:.3e} ({worst['example']}); max infeasibility "
                f"{worst['infeasibility']:.1e}",
        figures={"worst_relative_slack": worst["slack"],
                 "max_infeasibility": worst["infeasibility"],
                 # examples run (session 45: the figure had been the setting); Hypothesis
                 # favours the ends of each range (rho near 1e-3 and 1 - 1e-3, degree 1),
                 # the sweep covers the interior uniformly
                 "hypothesis_examples": worst["hypothesis"],
                 "hypothesis_max_examples": examples,
                 "hypothesis_passed": hyp_ok, "sweep_encoders": sweep,
                 "worst_case": worst["example"]},
        tolerance=f"relative slack >= -{_LOWER_TOL:g}: exact closed forms, so only float "
                  "rounding (~1e-15; whitening by SVD keeps Cov h = I to machine precision) "
                  f"remains; every encoder feasible: max(|E h|, ||Cov h - I||_F) <= "
                  f"{_FEASIBLE_TOL:g}")


@check("T1.rotation_equality")
def rotation_equality(seed: int, *, perturb=lambda Q: Q, rel_tol: float = 1e-12
                      ) -> CheckResult:
    """Rotations ``h = Qz`` attain ``L = 2n(1−ρ)`` and are feasible (``E h = 0``,
    ``Σ_h = QQᵀ = I``): 5 Haar ``Q ∈ O(n)`` for each ``n ∈ {1, 2, 3, 5, 8, 16, 64}`` on the
    degree-1 basis and, for ``n ≤ 5``, also written on the degree-3 basis; ``ρ ~ U(0.01, 0.99)``."""
    rng = np.random.default_rng(seed)
    worst_rel, worst_feas, count = 0.0, 0.0, 0
    for n in (1, 2, 3, 5, 8, 16, 64):
        for degree in ((1, 3) if n <= 5 else (1,)):
            for _ in range(5):
                h = T.rotation_encoder(perturb(T.random_rotation(rng, n)), degree)
                rho = float(rng.uniform(0.01, 0.99))
                worst_rel = max(worst_rel, abs(_relative_slack(h, rho)))
                worst_feas = max(worst_feas, infeasibility(h))
                count += 1
    ok = worst_rel <= rel_tol and worst_feas <= _FEASIBLE_TOL
    return CheckResult(
        passed=ok,
        summary=f"{count} rotations: max |L - 2n(1-rho)|/(2n(1-rho)) = {worst_rel:.2e}, "
                f"max whitening residual {worst_feas:.2e}",
        figures={"rotations": count, "max_rel_error": worst_rel,
                 "max_whitening_residual": worst_feas},
        tolerance=f"relative {rel_tol:g} (and 1e-12 on ||Cov h - I||_F): Haar matrices are "
                  "orthogonal to ~1e-15, so anything larger is not rounding")


@check("T1.nonlinear_gap")
def nonlinear_gap(seed: int, *, prepare=T.whiten, encoders: int = 2000) -> CheckResult:
    """Whitened non-rotations: ``ε = L − 2n(1−ρ) ≥ 2ρ(1−ρ) E_nl > 0`` (equality iff the
    nonlinear energy sits in degree 2, so degree-2 encoders show the constant is sharp), on
    ``encoders`` whitened encoders with ``n ∈ 1..5``, degree ``2..4``, ``ρ ~ U(1e-3, 1 − 1e-3)``,
    nonlinear scale ``10^U(−2, 0.5)``."""
    rng = np.random.default_rng(seed)
    min_slack, min_ratio, min_ratio_deg2, min_eps = math.inf, math.inf, math.inf, math.inf
    worst_infeasible, max_gap_deg2 = 0.0, 0.0
    for _ in range(encoders):
        n, degree = int(rng.integers(1, 6)), int(rng.integers(2, 5))
        rho = float(rng.uniform(1e-3, 1 - 1e-3))
        h = prepare(T.random_encoder(rng, n, degree, nonlinear_scale=10 ** rng.uniform(-2, 0.5),
                                     mean_scale=1.0))
        worst_infeasible = max(worst_infeasible, infeasibility(h))
        e_nl, eps = T.nonlinear_energy(h), T.alignment_excess(h, rho)
        scale = 2 * n * (1 - rho)
        min_slack = min(min_slack, (eps - 2 * rho * (1 - rho) * e_nl) / scale)
        min_eps = min(min_eps, eps / scale)
        ratio = eps / (2 * rho * (1 - rho) * e_nl)
        min_ratio = min(min_ratio, ratio)
        if degree == 2:
            min_ratio_deg2 = min(min_ratio_deg2, ratio)
            # sharpness: a degree-2 encoder attains the bound (the ratio itself is only
            # good to ~1e-6 where 2rho(1-rho)E_nl is ~1e-9, so this is judged on the slack)
            max_gap_deg2 = max(max_gap_deg2, abs(eps - 2 * rho * (1 - rho) * e_nl) / scale)
    tol = 1e-12
    # sharpness tolerance: 3e-14 at most over seeds 0-5 (rounding of eps); 300x that
    sharp_tol = 1e-11
    return CheckResult(
        passed=min_slack >= -tol and min_eps > tol and worst_infeasible <= _FEASIBLE_TOL
        and max_gap_deg2 <= sharp_tol and min_ratio_deg2 < math.inf,
        summary=f"{encoders} whitened nonlinear encoders: worst slack (eps - 2rho(1-rho)E_nl)"
                f"/(2n(1-rho)) = {min_slack:.2e}, min eps/(2rho(1-rho)E_nl) = {min_ratio:.9f} "
                f"(degree 2: {min_ratio_deg2:.9f}, max |eps - 2rho(1-rho)E_nl|/(2n(1-rho)) "
                f"{max_gap_deg2:.1e}: sharp); min eps/(2n(1-rho)) = {min_eps:.2e} > 0; "
                f"max infeasibility {worst_infeasible:.1e}",
        figures={"encoders": encoders, "worst_relative_slack": min_slack,
                 "max_infeasibility": worst_infeasible,
                 "min_ratio": min_ratio, "min_ratio_degree2": min_ratio_deg2,
                 "max_relative_gap_degree2": max_gap_deg2,
                 "min_relative_eps": min_eps},
        tolerance=f"slack >= -{tol:g} relative to 2n(1-rho): eps is a difference of O(n) "
                  "numbers, so rounding is ~1e-15 of 2n(1-rho); degree-2 encoders must attain "
                  f"the bound (|slack| <= {sharp_tol:g}; at most 3e-14 seen), so a smaller "
                  "constant than 2rho(1-rho) fails; "
                  f"every encoder feasible: max(|E h|, ||Cov h - I||_F) <= {_FEASIBLE_TOL:g}")


def _band_map_l2(band, scale, rho, n, K: int = 80, nodes: int = 800):
    """Exact ``L``, ``E_nl`` of ``h(z) = (u(z_1), z_2, …, z_n)`` with ``u(x) = scale·x`` for
    ``|x|`` in ``band`` and ``x`` elsewhere, from the Hermite coefficients of ``u``.

    ``u`` is odd, so ``c_k = δ_{k1} + (scale − 1)·2∫_band x He_k(x) φ(x) dx / sqrt(k!)`` for
    odd ``k`` and 0 for even ``k``; the integrals use ``nodes``-point Gauss–Legendre on the
    band (cut at 16, beyond which ``|He_k φ| < e^{-60}``), and the series stops at ``K``
    (remainder ``< ρ^K``). Then ``L = 2(n−1)(1−ρ) + 2(E u² − Σ_k ρ^k c_k²)``.
    """
    a, b = band[0], min(band[1], 16.0)
    x, w = roots_legendre(nodes)
    x, w = a + (b - a) * (x + 1) / 2, w * (b - a) / 2
    V = T.basis(x[:, None], np.arange(K + 1)[:, None])                # He_k(x)/sqrt(k!)
    c = 2 * (scale - 1) * ((w * x * stats.norm.pdf(x)) @ V)
    c[::2] = 0.0
    c[1] += 1.0
    energy = 1 + (scale**2 - 1) * 2 * float(w @ (x * x * stats.norm.pdf(x)))  # E u(z_1)²
    L1 = 2 * (energy - np.sum(rho ** np.arange(K + 1) * c**2))
    return 2 * (n - 1) * (1 - rho) + L1, energy - c[1] ** 2


KS_P_MIN = 5e-4   # the KS test's share of T1.gaussian_preserving_nonlinear's false-alarm rate


@check("T1.gaussian_preserving_nonlinear")
def gaussian_preserving_nonlinear(seed: int, *, band=(0.5, 1.5), scale: float = -1.0,
                                  n: int = 2, rho: float = 0.5, size: int = 400_000
                                  ) -> CheckResult:
    """A nonlinear Gaussian-preserving encoder: flip the sign of ``z_1`` when ``|z_1|`` is in
    the closed band ``lo ≤ |z_1| ≤ hi`` (``h(z) ~ γ_n`` exactly by symmetry). It is feasible
    (KS test, moments) but its alignment is strictly above ``2n(1−ρ)``: the Monte-Carlo CI
    excludes the bound, and the exact value from the Hermite series agrees with Monte Carlo."""
    rng = np.random.default_rng(seed)
    lo, hi = band

    def h(z):
        out = z.copy()
        inside = (np.abs(z[:, 0]) >= lo) & (np.abs(z[:, 0]) <= hi)
        out[inside, 0] *= scale
        return out

    L_mc, se = T.alignment_monte_carlo(h, rho, size, rng, n=n)
    L_exact, e_nl = map(float, _band_map_l2(band, scale, rho, n))
    target = 2 * n * (1 - rho)
    y = h(rng.standard_normal((size, n)))
    ks_p = float(stats.kstest(y[:, 0], "norm").pvalue)
    mean_z = float(np.abs(y.mean(axis=0)).max() * math.sqrt(size))
    var_z = float(np.abs(y.var(axis=0) - 1).max() / math.sqrt(2 / size))
    z_mc = float((L_mc - L_exact) / se)
    ci_low = L_mc - 4 * se
    gap_ok = L_exact - target >= 2 * rho * (1 - rho) * e_nl * (1 - 1e-9)
    # feasibility's false-alarm rate under exact Gaussianity: KS 5e-4 plus 2n two-sided
    # 4-sigma z-tests (mean and variance of each coordinate) at 6.3e-5 each, 7.5e-4 at n = 2
    # (a KS cut of 1e-3 had made it 1.25e-3, above the 1e-3 the README states; session 46)
    ok = (ks_p >= KS_P_MIN and mean_z <= 4 and var_z <= 4 and ci_low > target
          and abs(z_mc) <= 4 and gap_ok)
    return CheckResult(
        passed=ok,
        summary=f"sign flip of z_1 on |z_1| in {list(band)}: KS p = {ks_p:.3f}; "
                f"L = {L_mc:.5f} +- {se:.5f} (exact {L_exact:.5f}) vs bound {target:.5f}; "
                f"99.99% CI lower end {ci_low:.5f}",
        figures={"samples": size, "ks_pvalue": ks_p, "max_mean_z": mean_z,
                 "max_var_z": var_z, "L_monte_carlo": L_mc, "L_stderr": se,
                 "L_exact": L_exact, "bound_2n(1-rho)": target, "ci_lower": ci_low,
                 "E_nl_exact": e_nl, "z_mc_vs_exact": z_mc},
        tolerance=f"feasible: KS p >= {KS_P_MIN:g} and mean/variance z-scores <= 4 (false "
                  f"alarm {KS_P_MIN + 2 * n * 6.3e-5:.2g} under exact Gaussianity: "
                  f"{KS_P_MIN:g} + {2 * n} x 6.3e-5); gap: "
                  "L_MC - 4 se > 2n(1-rho) (one-sided "
                  "3e-5), MC within 4 se of the exact Hermite series, and exact "
                  "eps >= 2rho(1-rho)E_nl")


def fold(z: np.ndarray) -> np.ndarray:
    """The even map ``F(z) = Φ⁻¹(|2Φ(z) − 1|)``: ``|2Φ(z) − 1|`` is uniform on [0, 1] for
    ``z ~ N(0, 1)``, so ``F(z) ~ N(0, 1)`` exactly. Computed as ``Φ̄⁻¹(2 Φ̄(|z|))``
    (``|2Φ(z) − 1| = 1 − 2Φ̄(|z|)``), which keeps its precision in the tails."""
    return stats.norm.isf(2 * stats.norm.sf(np.abs(z)))


@check("T1.negative_rho_scope")
def negative_rho_scope(seed: int, *, rho: float = -0.5, n: int = 1, size: int = 400_000,
                       h=None) -> CheckResult:
    """Why T1 asks ``0 < ρ``: the paper states T1 for stationary additive-noise Gaussian
    worlds, and ``z' = ρ z + sqrt(1 − ρ²) ε`` with ``−1 < ρ < 0`` is one, but there T1 fails.
    An even map turns the anti-correlated step into a positively correlated one, so the fold
    ``F`` of the first coordinate (exactly Gaussian: the LeJEPA constraint holds) has a lower
    alignment than every rotation, ``2n(1 − ρ)``. Whitening alone fails more simply: the
    whitened ``He₂(z)/√2`` has ``2(1 − ρ²)`` against a rotation's ``2(1 − ρ)`` per coordinate
    (exact, L4). At ``ρ > 0`` the same fold is above the rotations, and the check fails
    (tested), so it measures the sign of ρ and not the map alone."""
    rho = T.check_rho(rho, " (the step rho z + sqrt(1 - rho^2) eps)", closed=True)
    rng = np.random.default_rng(seed)
    if h is None:
        def h(z):
            out = z.copy()
            out[:, 0] = fold(z[:, 0])
            return out
    L_mc, se = T.alignment_monte_carlo(h, rho, size, rng, n=n)
    target = 2 * n * (1 - rho)                  # every rotation (L4: degree-1 weight rho)
    he2 = 2 * (n - 1) * (1 - rho) + 2 * (1 - rho**2)   # z_1 -> He_2(z_1)/sqrt 2, whitened
    y = h(rng.standard_normal((size, n)))
    ks_p = float(stats.kstest(y[:, 0], "norm").pvalue)
    mean_z = float(np.abs(y.mean(axis=0)).max() * math.sqrt(size))
    var_z = float(np.abs(y.var(axis=0) - 1).max() / math.sqrt(2 / size))
    ci_high = L_mc + 4 * se
    ok = ks_p >= KS_P_MIN and mean_z <= 4 and var_z <= 4 and ci_high < target
    return CheckResult(
        passed=ok,
        summary=f"rho = {rho:g}, n = {n}: the fold of z_1 (KS p = {ks_p:.3f}) has "
                f"L = {L_mc:.4f} +- {se:.4f} against every rotation's {target:.4f} "
                f"(whitened He_2/sqrt 2: {he2:.4f}); T1 needs 0 < rho",
        figures={"rho": rho, "samples": size, "ks_pvalue": ks_p, "max_mean_z": mean_z,
                 "max_var_z": var_z, "L_monte_carlo": L_mc, "L_stderr": se,
                 "ci_upper": ci_high, "rotation_L": target, "he2_whitened_L_exact": he2},
        tolerance=f"feasible: KS p >= {KS_P_MIN:g} and mean/variance z-scores <= 4 (false "
                  f"alarm {KS_P_MIN + 2 * n * 6.3e-5:.2g} under exact Gaussianity); below "
                  "the rotations: L_MC + 4 se < 2n(1-rho) (one-sided 3e-5)")


def angle_fold(z: np.ndarray, k: int) -> np.ndarray:
    """``(Φ̄⁻¹(e^{−|z|²/2}), Φ⁻¹(frac(kθ / 2π)))`` of ``z ∈ R²`` with polar angle ``θ``: for
    ``z ~ N(0, I₂)`` the radius and the angle are independent, ``e^{−|z|²/2}`` and
    ``frac(kθ / 2π)`` are uniform on (0, 1), so the image is exactly ``N(0, I₂)``. A rotation
    of ``z`` by ``2π / k`` leaves the second coordinate unchanged and the first too."""
    z = np.asarray(z, dtype=float)
    radius = stats.norm.isf(np.exp(-0.5 * np.sum(z ** 2, axis=1)))
    angle = stats.norm.ppf(np.mod(k * np.arctan2(z[:, 1], z[:, 0]) / (2 * math.pi), 1.0))
    return np.stack([radius, angle], axis=1)


@check("T1.rotational_drift_scope")
def rotational_drift_scope(seed: int, *, rho: float = 0.9, k: int = 4, size: int = 400_000,
                           h=None, chunk: int = 100_000) -> CheckResult:
    """Why T1 is stated for the drift ``ρ I`` and not for every stationary additive-noise
    Gaussian world: ``z' = ρ R z + sqrt(1 − ρ²) η`` with ``R`` the rotation of ``R²`` by
    ``2π / k`` keeps ``N(0, I₂)`` stationary and its noise additive, yet T1 fails there.
    Every rotation encoder ``Q z`` has ``L = E‖z' − z‖² = 2n − 2ρ tr R`` (4 at ``k = 4``,
    exact), while :func:`angle_fold` (exactly ``N(0, I₂)``: the LeJEPA constraint holds) is
    blind to the drift's turn and only feels the noise (a theory reviewer's counterexample,
    session 50; ``ρ < 0`` is the case ``R = −I``, :func:`negative_rho_scope`). With ``k = 1``
    (``R = I``, T1's own world) the same map is above the rotations and the check fails
    (tested), so it measures the drift and not the map alone."""
    rho = T.check_rho(rho, " (the step rho R z + sqrt(1 - rho^2) eta)", closed=True)
    T.check_int("k", k)
    T.check_int("size", size, low=2)
    rng = np.random.default_rng(seed)
    if h is None:
        def h(z):
            return angle_fold(z, k)
    c, s_ = math.cos(2 * math.pi / k), math.sin(2 * math.pi / k)
    R = np.array([[c, -s_], [s_, c]])
    target = 2 * 2 - 2 * rho * float(np.trace(R))      # every rotation, exact
    total = total2 = 0.0
    ys = []
    for start in range(0, size, chunk):
        m = min(chunk, size - start)
        z = rng.standard_normal((m, 2))
        zp = rho * z @ R.T + math.sqrt(1 - rho ** 2) * rng.standard_normal((m, 2))
        y = h(z)
        v = np.sum((h(zp) - y) ** 2, axis=1)
        total, total2 = total + float(v.sum()), total2 + float((v ** 2).sum())
        ys.append(y)
    y = np.concatenate(ys)
    L_mc = total / size
    se = math.sqrt(max(total2 / size - L_mc ** 2, 0.0) / (size - 1))
    finite = bool(np.isfinite(y).all()) and math.isfinite(L_mc)
    ks_p = min(float(stats.kstest(y[:, j], "norm").pvalue) for j in range(2)) if finite else 0.0
    mean_z = float(np.abs(y.mean(axis=0)).max() * math.sqrt(size))
    var_z = float(np.abs(y.var(axis=0) - 1).max() / math.sqrt(2 / size))
    corr_z = float(abs(np.corrcoef(y.T)[0, 1]) * math.sqrt(size)) if finite else math.inf
    ci_high = L_mc + 4 * se
    feasible = finite and ks_p >= KS_P_MIN and max(mean_z, var_z, corr_z) <= 4
    return CheckResult(
        passed=bool(feasible and ci_high < target),
        summary=f"rho = {rho:g}, drift turning by 2 pi / {k}: the radius-angle map (KS p = "
                f"{ks_p:.3f}) has L = {L_mc:.4f} +- {se:.4f} against every rotation's "
                f"{target:.4f}; T1 needs the drift rho I",
        figures={"rho": rho, "k": k, "samples": size, "ks_pvalue_min": ks_p,
                 "max_mean_z": mean_z, "max_var_z": var_z, "corr_z": corr_z,
                 "L_monte_carlo": L_mc, "L_stderr": se, "ci_upper": ci_high,
                 "rotation_L": target},
        tolerance=f"feasible: KS p >= {KS_P_MIN:g} per coordinate and mean/variance/"
                  "correlation z-scores <= 4 (each a false alarm below 1e-3 under exact "
                  "Gaussianity); below the rotations: L_MC + 4 se < 2n - 2 rho tr R "
                  "(one-sided 3e-5)")


# ---------------------------------------------------------------- L7
@check("L7.rotation_invariance")
def rotation_invariance(seed: int, *, transform=lambda rng, n: T.random_rotation(rng, n),
                        degree: int = 4, tol: float = 1e-10) -> CheckResult:
    """Rotations are feasible (Lean ``LeJEPA.latentGaussian_map_linearIsometryEquiv``,
    ``γₙ.map Q = γₙ``): for Haar ``Q ∈ O(n)`` (n ≤ 4) every normalized Hermite function of degree
    ``1..4`` has mean 0 under the law of ``Q z``, i.e. the moments of ``Q z`` up to order 4 are
    those of ``γₙ``; computed by exact Gauss–Hermite quadrature of the polynomial
    ``He_α(Q z)``."""
    rng = np.random.default_rng(seed)
    worst, cases = 0.0, 0
    for n in (1, 2, 3, 4):
        nodes, w = T.gauss_hermite(degree + 1, n)
        alphas = T.multi_indices(n, degree)[1:]                 # drop α = 0 (mean 1)
        for _ in range(5):
            Q = transform(rng, n)
            worst = max(worst, float(np.abs(w @ T.basis(nodes @ Q.T, alphas)).max()))
            cases += 1
    return CheckResult(
        passed=worst <= tol,
        summary=f"{cases} maps (n = 1..4): max |E He_alpha(Qz)/sqrt(alpha!)| over "
                f"1 <= |alpha| <= {degree} = {worst:.1e}",
        figures={"maps": cases, "degree": degree, "max_abs_moment": worst},
        tolerance=f"{tol:g}: {degree + 1} nodes per variable integrate polynomials of degree "
                  f"<= {2 * degree + 1} exactly, so only float rounding remains")
