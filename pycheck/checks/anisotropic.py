"""Checks for the anisotropic worlds: A1 (whitened minimiser linear iff ``max ρ² < min ρ``,
gap ``2(min ρ − max ρ²)``, approximate bound) and A2 (a Gaussian-preserving nonlinear map
beats the rotations; numerical evidence for a conjecture).

Keyword-only arguments are the ingredients the tests break on purpose.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import stats

from .. import anisotropic as A
from .. import theory as T
from . import CheckResult, check
from .hermite import _alignment_moments

# Closed forms are sums of O(n) terms of size O(1): rounding is ~1e-15, so 1e-12 separates
# rounding from a wrong formula by three orders of magnitude.
_TOL = 1e-12


def _gaussian_expectation(poly: sp.Expr, gens: list[sp.Symbol]) -> sp.Expr:
    """``E poly`` for independent standard Gaussians ``gens`` (moments ``(k−1)!!``, 0 if odd)."""
    total = sp.Integer(0)
    for monom, coeff in sp.Poly(sp.expand(poly), *gens).terms():
        total += coeff * sp.prod([0 if k % 2 else sp.factorial2(k - 1) for k in monom])
    return sp.nsimplify(sp.simplify(total))


@lru_cache(maxsize=1)
def exact_counterexample_alignment() -> tuple[sp.Expr, sp.Expr]:
    """Exact ``L`` of ``(z_1, He_2(z_1)/√2)`` and of the identity at ``ρ = (9/10, 1/2)``, from
    Gaussian moments of the step itself (independent of the closed form)."""
    z1, z2, e1, e2 = sp.symbols("z1 z2 e1 e2")
    r1, r2 = sp.Rational(9, 10), sp.Rational(1, 2)
    n1, n2 = r1 * z1 + sp.sqrt(1 - r1**2) * e1, r2 * z2 + sp.sqrt(1 - r2**2) * e2
    he2 = lambda x: (x**2 - 1) / sp.sqrt(2)
    harmonic = (n1 - z1) ** 2 + (he2(n1) - he2(z1)) ** 2
    rotation = (n1 - z1) ** 2 + (n2 - z2) ** 2
    gens = [z1, z2, e1, e2]
    return _gaussian_expectation(harmonic, gens), _gaussian_expectation(rotation, gens)


def _indices_at_least(rho: np.ndarray, floor: float) -> np.ndarray:
    """Every multi-index ``α ≠ 0`` with ``ρ^α ≥ floor`` (up to 1e-12 in the log), i.e.
    ``Σ α_i (−log ρ_i) ≤ −log floor``: a simplex, enumerated coordinate by coordinate (the
    last one vectorised)."""
    cost, budget = -np.log(rho), -math.log(floor) + 1e-12
    rows = [np.zeros((1, 0), dtype=int)]
    for i, c in enumerate(cost):
        spent = rows[-1] @ cost[:i] if i else np.zeros(1)
        reps = np.floor((budget - spent) / c).astype(int) + 1      # 0 .. max for each prefix
        prefix = np.repeat(rows[-1], reps, axis=0)
        last = np.concatenate([np.arange(r) for r in reps])
        rows.append(np.column_stack([prefix, last]))
    alphas = rows[-1]
    return alphas[alphas.sum(axis=1) >= 1]


def _brute_top_weights(rho: np.ndarray) -> tuple[np.ndarray, bool]:
    """The ``n`` largest ``ρ^α`` (``|α| ≥ 1``), and whether the ``n`` indices that carry them
    are all of degree 1 (the whitened minimiser is then linear), by enumeration, independent
    of the pruned search and of the formula ``max ρ² < min ρ``: the ``n`` unit indices have
    ``ρ^α ≥ min ρ``, so the ``n`` largest are among the indices with ``ρ^α ≥ min ρ``
    (:func:`_indices_at_least`). Session 37: the second answer had been the largest weight
    of degree 2, i.e. ``max ρ²`` itself, which made the check's linearity comparison the
    threshold formula against itself.

    Session 36: this listed every index up to the degree ``d`` with ``(max ρ)^d < min ρ``,
    about 230 at ``ρ = (0.98, ..., 0.01)``: ``pycheck verify A1 --seed 1928`` ran past 5
    minutes and 7.8 GB; the simplex is a small part of that cube-like set."""
    alphas = _indices_at_least(rho, float(rho.min()))
    w = A.weights(alphas, rho)
    top = np.argsort(-w, kind="stable")[:rho.size]
    return w[top], bool((alphas[top].sum(axis=1) == 1).all())


def _random_rhos(rng: np.random.Generator, n: int, gap: str) -> np.ndarray:
    """``n`` rates with ``max ρ² < min ρ`` (``gap='in'``) or unconstrained (``'any'``).

    The law: the largest rate ``hi ~ U(0.05, 0.98)``; for ``n ≥ 2`` the smallest
    ``lo ~ U(hi², hi)`` (``'in'``) or ``U(0.01, hi)`` (``'any'``) and the other ``n − 2``
    i.i.d. ``U(lo, hi)``, all in random order; ``n = 1`` gives ``[hi]``."""
    hi = rng.uniform(0.05, 0.98)
    lo = rng.uniform(hi**2, hi) if gap == "in" else rng.uniform(0.01, hi)
    return rng.permutation(np.concatenate([[hi, lo], rng.uniform(lo, hi, max(n - 2, 0))]))[:n] \
        if n >= 2 else np.array([hi])


@check("A1.threshold_exact")
def threshold_exact(seed: int, *, minimum=A.whitened_minimum, threshold=A.linear_is_optimal,
                    harmonic=A.sharp_encoder, loss=A.alignment_loss,
                    worlds: int = 400) -> CheckResult:
    """(a) exactly: SymPy gives ``L = 29/50`` for ``(z_1, He_2(z_1)/√2)`` and ``6/5`` for the
    rotations at ``ρ = (0.9, 0.5)``; on random worlds the whitened minimum equals the brute-force
    top-``n`` weight sum and is attained by degree-1 indices alone iff ``max ρ² < min ρ``
    (``worlds`` worlds, ``n ~ {1..4}``, unconstrained rates from :func:`_random_rhos`); in
    each world with ``max ρ² > min ρ``, the whitened :func:`sharp_encoder` at ``θ = π/2`` has
    ``L = 2Σ(1 − ρ_i) + 2g``, below every rotation (the nonlinear side of (a))."""
    harm, rot = exact_counterexample_alignment()
    exact_ok = harm == sp.Rational(29, 50) and rot == sp.Rational(6, 5)
    closed = A.alignment_loss(A.sfa_encoder([0.9, 0.5]), [0.9, 0.5])
    closed_ok = abs(closed - 0.58) <= _TOL and abs(minimum([0.9, 0.5]) - 0.58) <= _TOL
    rng = np.random.default_rng(seed)
    worst_min, disagree, skipped, beaten, not_below = 0.0, 0, 0, 0, 0
    for _ in range(worlds):
        n = int(rng.integers(1, 5))
        rho = _random_rhos(rng, n, "any")
        lam, linear_wins = _brute_top_weights(rho)
        worst_min = max(worst_min, abs(minimum(rho) - 2 * (1 - lam).sum()))
        g = A.spectral_gap(rho)
        if abs(g) < 1e-9:              # a tie: both answers are right up to rounding
            skipped += 1
            continue
        disagree += bool(threshold(rho)) != linear_wins
        if g < 0:                      # a whitened nonlinear encoder beats the rotations
            from .t1 import infeasibility
            h = harmonic(rho, math.pi / 2)
            L, L_rot = loss(h, rho), A.rotation_alignment(rho)
            beaten += 1
            # closed forms: rounding ~1e-15, so 1e-12 is a literal of its own (not _TOL,
            # which the counterexample's figures at rho = (0.9, 0.5) are held to)
            not_below += not (infeasibility(h) <= 1e-12 and abs(L - (L_rot + 2 * g)) <= 1e-12
                              and L < L_rot)
    # exact ties (g = 0 in binary: rho = (1/2, 1/4), (3/4, 9/16)): the harmonic encoder
    # equals the rotations' L, so not every minimiser is linear and the criterion must say
    # no (a trial's mutation of '> 0' into '>= 0' passed every check until session 45)
    tie_ok = True
    for tie in ([0.5, 0.25], [0.75, 0.5625], [0.5625, 0.75, 0.6]):
        h = harmonic(tie, math.pi / 2)
        tie_ok &= (A.spectral_gap(tie) == 0.0 and not threshold(tie)
                   and abs(loss(h, tie) - A.rotation_alignment(tie)) <= _TOL)
    ok = (exact_ok and closed_ok and worst_min <= _TOL and disagree == 0 and not_below == 0
          and beaten > 0 and tie_ok)
    return CheckResult(
        passed=ok,
        summary=f"SymPy: L(harmonic) = {harm}, L(rotation) = {rot} at rho = (9/10, 1/2); "
                f"{worlds} random worlds: max |min L - brute force| = {worst_min:.1e}, "
                f"{disagree} threshold disagreements ({skipped} ties skipped); in the "
                f"{beaten} worlds with g < 0 the harmonic encoder beats the rotations in "
                f"{beaten - not_below}; exact ties (g = 0) not linear-optimal, harmonic = "
                f"rotation: {tie_ok}",
        figures={"L_harmonic_exact": str(harm), "L_rotation_exact": str(rot),
                 "exact_ties_ok": tie_ok,
                 "L_closed_form": closed, "worlds": worlds, "max_minimum_error": worst_min,
                 "threshold_disagreements": disagree, "ties_skipped": skipped,
                 "nonlinear_worlds": beaten, "nonlinear_worlds_not_below": not_below},
        tolerance=f"exact equality in SymPy; {_TOL:g} on closed forms (float rounding ~1e-15)")


@check("A1.whitened_gap")
def whitened_gap(seed: int, *, prepare=T.whiten, gap=A.spectral_gap,
                 encoders: int = 1500) -> CheckResult:
    """(b): whitened random polynomial encoders (``n ∈ 1..5``, degree ``2..4``, nonlinear scale
    ``10^U(−2, 0.5)``) in worlds with
    ``max ρ² < min ρ`` satisfy ``ε ≥ 2g E_nl``; in arbitrary worlds ``L ≥`` the whitened minimum;
    the degree-2 :func:`sharp_encoder` attains ``ε = 2g E_nl`` exactly (sharp constant; 50
    of them, ``n ∈ 2..5``, scale ``U(0.1, 1.5)``)."""
    rng = np.random.default_rng(seed)
    worst_gap, worst_min = math.inf, math.inf
    for i in range(encoders):
        n, degree = int(rng.integers(1, 6)), int(rng.integers(2, 5))
        h = prepare(T.random_encoder(rng, n, degree, nonlinear_scale=10 ** rng.uniform(-2, 0.5),
                                     mean_scale=1.0))
        rho = _random_rhos(rng, n, "in")
        L = A.alignment_loss(h, rho)
        eps = L - A.rotation_alignment(rho)
        worst_gap = min(worst_gap, (eps - 2 * gap(rho) * T.nonlinear_energy(h)) / (2 * n))
        rho_any = _random_rhos(rng, n, "any")
        worst_min = min(worst_min, (A.alignment_loss(h, rho_any) - A.whitened_minimum(rho_any))
                        / (2 * n))
    sharp, scales = [], []
    for _ in range(50):
        n = int(rng.integers(2, 6))
        rho = _random_rhos(rng, n, "in")      # lo < hi: the unequal rates sharp_encoder needs
        h = A.sharp_encoder(rho, float(rng.uniform(0.1, 1.5)))
        loss, rot = A.alignment_loss(h, rho), A.rotation_alignment(rho)
        target = 2 * gap(rho) * T.nonlinear_energy(h)
        sharp.append((loss - rot) / target)
        # eps = loss - rot cancels two O(n) terms: its float64 rounding, relative to the target
        scales.append(np.finfo(float).eps * (abs(loss) + abs(rot)) / target)
    errors = np.abs(np.array(sharp) - 1)
    sharp_err = float(np.max(errors))
    sharp_over_scale = float(np.max(errors / np.array(scales)))
    ok = worst_gap >= -_TOL and worst_min >= -_TOL and sharp_over_scale <= 100
    return CheckResult(
        passed=ok,
        summary=f"{encoders} whitened encoders: worst (eps - 2g E_nl)/(2n) = {worst_gap:.2e}, "
                f"worst (L - whitened min)/(2n) = {worst_min:.2e}; sharp encoders: "
                f"max |eps/(2g E_nl) - 1| = {sharp_err:.1e}",
        figures={"encoders": encoders, "worst_gap_slack": worst_gap,
                 "worst_minimum_slack": worst_min, "sharp_ratio_error": sharp_err,
                 "sharp_ratio_error_over_scale": sharp_over_scale},
        tolerance=f"slack >= -{_TOL:g} (rounding of O(n) closed-form terms); sharp ratio within "
                  "100 x its rounding scale, float eps (|L| + |L_rot|) / (2g E_nl) (g down to "
                  "~1e-6 amplifies the rounding of eps = L - L_rot; at most 2.5 x over 300 seeds "
                  "x 50 encoders; a fixed 1e-9 failed at seed 121 with 1.4e-9)")


@check("A1.approximate_bound")
def approximate_bound(seed: int, *, bound=A.anisotropic_bound, encoders: int = 1500
                      ) -> CheckResult:
    """(c): for random non-whitened encoders in worlds with ``max ρ² < min ρ``,
    ``E_nl ≤ B`` and ``D(h) ≤ B + (δ + B)²`` (``n ∈ 1..5``, degree ``1..3``, linear scale
    ``U(0.3, 2)``, nonlinear ``10^U(−2, 0)``); with equal ``ρ_i`` the bound is T3's (200 draws,
    ``n ∈ 1..8``, ``ρ ~ U(0.01, 0.99)``, ``ε, δ ~ U(0, 2)``); and on 50 shrunk sharp encoders
    (``n ∈ 2..5``, ``t ~ U(0.01, 0.5)``, ``s²/(1 − t) ~ U(0.01, 0.9)``, rates as above) ``B``
    equals its hand value ``s² + (1 − ρ₋)(√n − 1)t/g`` (comment in the code)."""
    rng = np.random.default_rng(seed)
    worst_e, worst_d, tight = math.inf, math.inf, math.inf   # tight: min B / E_nl
    for _ in range(encoders):
        n, degree = int(rng.integers(1, 6)), int(rng.integers(1, 4))
        h = T.random_encoder(rng, n, degree, linear_scale=rng.uniform(0.3, 2.0),
                             nonlinear_scale=10 ** rng.uniform(-2, 0), mean_scale=1.0)
        rho = _random_rhos(rng, n, "in")
        eps = A.alignment_loss(h, rho) - A.rotation_alignment(rho)
        b = bound(eps, T.whitening_residual(h), rho)
        worst_e = min(worst_e, b.energy - T.nonlinear_energy(h))
        worst_d = min(worst_d, b.deviation - T.deviation_from_rotation(h)[0])
        if degree >= 2:
            tight = min(tight, b.energy / T.nonlinear_energy(h))
    iso_err = 0.0
    for _ in range(200):
        n, r = int(rng.integers(1, 9)), float(rng.uniform(0.01, 0.99))
        eps, delta = float(rng.uniform(0, 2)), float(rng.uniform(0, 2))
        iso_err = max(iso_err, abs(bound(eps, delta, [r] * n).deviation
                                   - T.t3_bound(eps, delta, n, r).deviation)
                      / T.t3_bound(eps, delta, n, r).deviation)
    # the bound's value where it can be worked out by hand: the sharp encoder with its fastest
    # output shrunk, c z_lo + s He_2(z_hi)/sqrt2 with c^2 + s^2 = 1 - t, the others z_i. Then
    # Cov h = I - t e_lo e_lo^T (delta = t, trace -t), E_nl = s^2 and
    # eps = -2(1 - rho_lo) t + 2 g s^2, so B = s^2 + (1 - rho_lo)(sqrt(n) - 1) t / g: any other
    # coefficient of delta, such as the pre-session-45 extra sum_i (rho_i - rho_lo), moves it
    # (a trial's mutations of that term had passed every check)
    family_err = 0.0
    for _ in range(50):
        n = int(rng.integers(2, 6))
        rho = _random_rhos(rng, n, "in")
        t, u = float(rng.uniform(0.01, 0.5)), float(rng.uniform(0.01, 0.9))
        s2 = u * (1 - t)
        # the sharp encoder at sin^2 theta = u, its fastest output scaled by sqrt(1 - t)
        sharp = A.sharp_encoder(rho, math.asin(math.sqrt(u)))
        coef = sharp.coef.copy()
        coef[int(np.argmin(rho))] *= math.sqrt(1 - t)
        h = T.PolyEncoder(coef, sharp.alphas)
        g = rho.min() - rho.max() ** 2
        want = s2 + (1 - rho.min()) * (math.sqrt(n) - 1) * t / g
        b = bound(A.alignment_loss(h, rho) - A.rotation_alignment(rho),
                  T.whitening_residual(h), rho)
        family_err = max(family_err, abs(b.energy - want) / want)
    ok = worst_e >= -_TOL and worst_d >= -_TOL and iso_err <= _TOL and family_err <= 1e-9
    return CheckResult(
        passed=ok,
        summary=f"{encoders} encoders: worst B - E_nl = {worst_e:.2e}, worst bound - D = "
                f"{worst_d:.2e}, min B / E_nl = {tight:.3f}; isotropic vs T3: rel. diff "
                f"{iso_err:.1e}; shrunk sharp encoders: B against its hand value, rel. "
                f"{family_err:.1e}",
        figures={"encoders": encoders, "worst_energy_slack": worst_e,
                 "worst_deviation_slack": worst_d, "min_B_over_Enl": tight,
                 "isotropic_rel_error": iso_err, "shrunk_sharp_rel_error": family_err},
        tolerance=f"slack >= -{_TOL:g} and relative {_TOL:g} against t3_bound: closed forms, "
                  "float rounding only; the hand value within 1e-9 relative (eps = L - L_rot "
                  "cancels O(n) terms and g down to ~1e-3 divides it: rounding ~1e-13)")


@check("A1.monte_carlo")
def monte_carlo(seed: int, *, loss=A.alignment_loss, size: int = 400_000,
                moments=_alignment_moments) -> CheckResult:
    """The closed form ``2Σ(1 − ρ^α)c²`` (Mehler per coordinate) against Monte Carlo on the
    anisotropic step, for random degree-3 encoders in 2 and 3 dimensions (two each, from
    :func:`~pycheck.theory.random_encoder` with unit scales, so the mean is ``N(0, I)``;
    ``ρ_i ~ U(0.1, 0.95)``); reports each z-score rounded to 2 decimals. The z-score divides
    by the exact standard error (``E v``, ``E v²`` by exact quadrature, as L4 does): ``v`` is
    a squared degree-3 polynomial, and a sample s.e. gives such z-scores a heavy left tail
    (L4.alignment_identity's docstring; session 37 switched this check too)."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    rows = []
    for n in (2, 3):
        for _ in range(2):
            h = T.random_encoder(rng, n, 3, mean_scale=1.0)
            rho = rng.uniform(0.1, 0.95, n)
            s = 0.0
            for start in range(0, size, 100_000):
                z, zn = A.anisotropic_ou_pairs(min(100_000, size - start), rho, rng)
                s += ((h(zn) - h(z)) ** 2).sum()
            m1, m2 = moments(h, rho)
            zscore = (s / size - loss(h, rho)) / math.sqrt(max(m2 - m1 * m1, 0.0) / size)
            worst = max(worst, abs(zscore))
            rows.append(round(float(zscore), 2))
    return CheckResult(
        passed=worst <= 4.5,
        summary=f"4 encoders, {size} pairs each: z-scores (MC - closed form)/se = {rows}",
        figures={"z_scores": rows, "max_abs_z": worst, "pairs": size},
        tolerance="|z| <= 4.5 for each of 4 estimates, exact standard error: a false alarm "
                  "has probability < 3e-5 for normal means (results/verify/a1_l2_tail.txt)")


def _feasible(h, rng, size: int) -> tuple[float, float]:
    """The smallest KS p-value (against N(0, 1)) of the two outputs ``y₁, y₂`` of ``h(z)`` and
    of ``(y₁ + y₂)/√2``, ``(y₁ − y₂)/√2`` (a joint check: independent N(0, 1) outputs make
    both N(0, 1)), and the correlation of ``y₁, y₂``; ``z`` is ``size`` draws of N(0, I₂)."""
    y = h(rng.standard_normal((size, 2)))
    cols = [y[:, 0], y[:, 1], (y[:, 0] + y[:, 1]) / math.sqrt(2), (y[:, 0] - y[:, 1]) / math.sqrt(2)]
    return min(float(stats.kstest(c, "norm").pvalue) for c in cols), float(np.corrcoef(y.T)[0, 1])


#: KS level per statistic of the A2 feasibility checks (4 statistics: family false alarm
#: < 1e-3). Was 1e-3 (family 4e-3): `pycheck verify --seed 227` failed on it (p 1.9e-4),
#: the largest share of verify's false alarms at other seeds after T2's (session 36). A
#: map that is not γ₂-preserving gives p far below either at 100 000 draws.
KS_LEVEL = 2.5e-4


@check("A2.fold_beats_rotations")
def fold_beats_rotations(seed: int, *, rho=(0.95, 0.5), h=A.GAUSSIAN_MAPS["fold"],
                         exact=A.fold_alignment, size: int = 400_000) -> CheckResult:
    """The fold map pushes ``γ₂`` to ``γ₂`` (KS tests on outputs, sum and difference) and its
    alignment is below every rotation's ``2Σ(1 − ρ_i)`` by more than 4 standard errors; the
    same Monte Carlo reproduces the sign-flip map's exact alignment (Sheppard's formula) and
    the fold's quadrature value ``exact(rho)`` (skipped when ``exact`` is None: the figures
    are then ``L_quadrature = nan`` and ``quadrature_z = 0``)."""
    rng = np.random.default_rng(seed)
    p_min, corr = _feasible(h, rng, size // 2)
    res = A.gaussian_map_search(rho, size, rng, maps={"map": h,
                                                      "sign_flip": A.GAUSSIAN_MAPS["sign_flip"]})
    L, _, ex, ex_se = res["map"]
    sf_L, sf_se, _, _ = res["sign_flip"]
    sf_z = (sf_L - A.sign_flip_exact_alignment(rho)) / sf_se
    L_quad = exact(rho) if exact is not None else math.nan
    quad_z = (L - L_quad) / res["map"][1] if exact is not None else 0.0
    ok = p_min >= KS_LEVEL and ex + 4 * ex_se < 0 and abs(sf_z) <= 4 and abs(quad_z) <= 4 \
        and not L_quad >= A.rotation_alignment(rho)
    return CheckResult(
        passed=ok,
        summary=f"fold map at rho = {list(rho)}: KS min p = {p_min:.3f}; L = {L:.4f}, "
                f"L - 2 sum(1 - rho) = {ex:.4f} +- {ex_se:.4f} (rotations {A.rotation_alignment(rho)}, "
                f"whitened min {A.whitened_minimum(rho):.4f}); quadrature L = {L_quad:.6f} "
                f"(MC z = {quad_z:.2f}); sign-flip MC vs exact z = {sf_z:.2f}",
        figures={"ks_min_p": p_min, "output_corr": corr, "L": L, "excess": ex,
                 "excess_se": ex_se, "L_rotation": A.rotation_alignment(rho),
                 "L_whitened_min": A.whitened_minimum(rho), "L_quadrature": L_quad,
                 "quadrature_z": quad_z, "sign_flip_z": sf_z, "pairs": size},
        tolerance=f"feasible: KS p >= {KS_LEVEL:g} on 4 statistics (false alarm < 1e-3); beats: excess "
                  "+ 4 se < 0 (one-sided 3e-5) and quadrature value < 2 sum(1 - rho); MC sanity: |z| <= 4 "
                  "against the exact sign-flip and quadrature fold values (quadrature stable to "
                  "1e-13 between tolerances 1e-10 and 1e-12)")


@check("A2.conditional_rearrangement")
def conditional_rearrangement(seed: int, *, h=A.GAUSSIAN_MAPS["cond_shift"],
                              size: int = 200_000) -> CheckResult:
    """Proved for ``n = 2``: a γ₂-preserving ``h`` with ``h_1 = z_1`` never beats the rotations.
    The conditional shift ``(z_s, τ_{z_s}(z_f))`` is feasible and its excess is ``≥ −4`` se on
    a grid of worlds on both sides of the threshold."""
    rng = np.random.default_rng(seed)
    p_min, _ = _feasible(h, rng, size // 2)
    worst, sf_worst = math.inf, 0.0
    for rho in ((0.95, 0.5), (0.99, 0.1), (0.9, 0.85), (0.7, 0.3)):
        res = A.gaussian_map_search(rho, size, rng, maps={
            "map": h, "sign_flip": A.GAUSSIAN_MAPS["sign_flip"]})
        _, _, ex, se = res["map"]
        worst = min(worst, ex / se)
        # the other side: on the same pairs the sign-flip map's Monte-Carlo alignment matches
        # its exact value (Sheppard), so pairs that are not the stated world fail the check;
        # a one-sided excess alone passed with uniform latents (session 48, a user's trial)
        sf_L, sf_se, _, _ = res["sign_flip"]
        sf_z = (sf_L - A.sign_flip_exact_alignment(rho)) / sf_se
        sf_worst = max(sf_worst, abs(sf_z))
    ok = p_min >= KS_LEVEL and worst >= -4 and sf_worst <= 4
    return CheckResult(
        passed=ok,
        summary=f"conditional shift: KS min p = {p_min:.3f}; smallest excess / se over 4 worlds "
                f"= {worst:.1f}; sign-flip MC vs exact, largest |z| = {sf_worst:.2f}",
        figures={"ks_min_p": p_min, "min_excess_z": worst, "sign_flip_max_abs_z": sf_worst,
                 "pairs": size},
        tolerance=f"KS p >= {KS_LEVEL:g} on 4 statistics (false alarm < 1e-3); excess/se >= -4 "
                  "(the proved inequality leaves only sampling "
                  "noise, one-sided 3e-5 per world); the pairs: |z| <= 4 for the sign-flip "
                  "map's alignment against its exact value in each world (two-sided 6.3e-5 "
                  "each)")
