"""Checks for T3 (approximate identifiability): ``E_nl ≤ B`` and ``D(h) ≤ B + (δ+B)²`` with
``B = (ε + 2(1−ρ)sqrt(n)δ)/(2ρ(1−ρ))`` (:func:`pycheck.theory.t3_bound`), on exact values
for random polynomial encoders that are *not* whitened, and its behaviour near rotations.

Every quantity comes from :func:`pycheck.theory.t3_quantities`, which calls
:func:`pycheck.theory.t3_bound`; the tests monkeypatch that one function to break the check.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import expm

from .. import theory as T
from . import CheckResult, check

FAMILIES = ("near_rotation", "general", "scaled_rotation", "near_singular", "whitened")


def _draw(rng: np.random.Generator, family: str) -> tuple[T.PolyEncoder, float]:
    """One random square polynomial encoder of the given family and a rate ``ρ``.

    The law (``tests/test_draw_laws.py`` checks it): ``n ~ U{1..5}``, degree ``~ U{1..4}``,
    ``ρ ~ U(0.01, 0.99)``, mean scale 0 or 1 with probability 1/2 each (not for
    ``"whitened"``). Families: ``"general"``, :func:`~pycheck.theory.random_encoder` with
    linear and nonlinear scales ``U(0, 3)``; ``"whitened"``,
    :func:`~pycheck.theory.random_whitened_encoder` with nonlinear scale ``U(0, 3)``; every
    other family, :func:`~pycheck.theory.random_encoder` with linear and nonlinear scales
    ``10^U(−6, 0)`` whose degree-1 block gets ``R`` added: ``"near_rotation"`` ``R = Q``, a Haar
    ``Q ∈ O(n)``; ``"scaled_rotation"`` ``R = e^u Q``, ``u ~ U(−0.5, 0.5)``; ``"near_singular"``
    ``R`` is ``Q + G`` (``G`` a full ``n × n`` standard Gaussian matrix) with its smallest
    singular value replaced by ``10^U(−8, −1)``."""
    n, degree = int(rng.integers(1, 6)), int(rng.integers(1, 5))
    rho = float(rng.uniform(0.01, 0.99))
    mean_scale = float(rng.choice([0.0, 1.0]))
    if family == "general":
        h = T.random_encoder(rng, n, degree, linear_scale=rng.uniform(0, 3),
                             nonlinear_scale=rng.uniform(0, 3), mean_scale=mean_scale)
    elif family == "whitened":
        h = T.random_whitened_encoder(rng, n, degree, nonlinear_scale=rng.uniform(0, 3))
    else:
        h = T.random_encoder(rng, n, degree, linear_scale=10 ** rng.uniform(-6, 0),
                             nonlinear_scale=10 ** rng.uniform(-6, 0), mean_scale=mean_scale)
        Q = T.random_rotation(rng, n)
        if family == "scaled_rotation":                 # ε < 0 when shrunk: the δ term matters
            Q = Q * np.exp(rng.uniform(-0.5, 0.5))
        elif family == "near_singular":
            U, s, Vt = np.linalg.svd(Q + rng.standard_normal((n, n)))
            s[-1] = 10 ** rng.uniform(-8, -1)
            Q = U * s @ Vt
        coef = h.coef.copy()
        coef[:, 1:n + 1] += Q
        h = T.PolyEncoder(coef, h.alphas)
    return h, rho


@check("T3.bound_random_polynomials")
def bound_random_polynomials(seed: int, *, per_family: int = 600) -> CheckResult:
    """Exact ``E_nl``, ``D(h)``, ``ε``, ``δ`` for random polynomial encoders (n ≤ 5, degree
    ≤ 4, ``ρ ~ U(0.01, 0.99)``; ``per_family`` each of the near-rotation, general,
    scaled-rotation, near-singular and whitened families of :func:`_draw`, with and without a
    mean): zero violations of ``E_nl ≤ B`` and ``D ≤ B + (δ+B)²``. Reports the smallest
    relative slacks, the first encoder attaining the smaller of the two (``worst_case``) and
    the largest ``D / (B + (δ+B)²)`` over the encoders whose bound is positive."""
    rng = np.random.default_rng(seed)
    violations, count = 0, 0
    slack_e, slack_d, ratio_d = math.inf, math.inf, 0.0
    worst_case = ""
    for family in FAMILIES:
        for _ in range(per_family):
            h, rho = _draw(rng, family)
            q = T.t3_quantities(h, rho)
            se = (q.bound.energy - q.nonlinear_energy) / (1 + abs(q.bound.energy))
            sd = (q.bound.deviation - q.deviation) / (1 + abs(q.bound.deviation))
            if min(se, sd) < min(slack_e, slack_d):
                worst_case = (f"{family}: n={h.n}, rho={rho:.3g}, eps={q.eps:.3g}, "
                              f"delta={q.delta:.3g}")
            slack_e, slack_d = min(slack_e, se), min(slack_d, sd)
            violations += min(se, sd) < -1e-9
            if q.bound.deviation > 0:
                ratio_d = max(ratio_d, q.deviation / q.bound.deviation)
            count += 1
    return CheckResult(
        passed=violations == 0,
        summary=f"{count} encoders: {violations} violations; worst relative slack "
                f"E_nl: {slack_e:.2e}, D: {slack_d:.2e}; max D/bound {ratio_d:.3f}",
        figures={"encoders": count, "violations": violations,
                 "worst_relative_slack_energy": slack_e, "worst_relative_slack_deviation":
                 slack_d, "max_D_over_bound": ratio_d, "worst_case": worst_case},
        tolerance="a violation is slack/(1+|bound|) < -1e-9: all values are exact closed "
                  "forms, so only float rounding (~1e-15 relative) can make a true bound "
                  "look violated")


def _extremal(n: int, rho: float, delta: float) -> T.PolyEncoder:
    """An encoder with ``ε = 0``, ``‖Σ_h − I‖_F = δ`` and ``E_nl = B`` exactly: covariance
    ``(1 − δ/sqrt(n)) I``, degree-2 energy ``B/n`` per output on distinct basis functions,
    linear block ``sqrt(1 − δ/sqrt(n) − B/n) I`` (needs ``n ≥ 1`` and a small enough δ)."""
    B = math.sqrt(n) * delta / rho
    alphas = T.multi_indices(n, 2)
    coef = np.zeros((n, len(alphas)))
    coef[:, 1:n + 1] = math.sqrt(1 - delta / math.sqrt(n) - B / n) * np.eye(n)
    pure = np.flatnonzero(alphas.max(axis=1) == 2)          # z_k² directions, one per output
    coef[np.arange(n), pure] = math.sqrt(B / n)
    return T.PolyEncoder(coef, alphas)


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.inf


@check("T3.bound_tightness")
def bound_tightness(seed: int, *, limit=lambda Q: Q, steps: int = 24, rho: float = 0.6
                    ) -> CheckResult:
    """(a) Along ``h_t = limit(Q)(I + tS) z + t·(nonlinear) + t·m`` with ``S ⪰ 0`` and
    ``t = 2^{-k}`` (``n = 3``; ``Q`` Haar, ``S = GGᵀ/n`` for a standard Gaussian ``G``; the
    nonlinear part and mean ``m`` of one degree-3 :func:`~pycheck.theory.random_encoder` with
    unit scales, so ``m ~ N(0, I)``), the encoder tends to a rotation; ``ε``, ``δ`` and the
    bound are then increasing in ``t``, so they must decrease monotonically to 0, and dominate
    ``D(h_t)``. (b) Sharpness: an explicit family with ``ε = 0`` attains ``E_nl = B`` exactly,
    and ``D / (B + (δ+B)²) → 1`` as ``δ → 0``."""
    rng = np.random.default_rng(seed)
    n = 3
    Q = limit(T.random_rotation(rng, n))
    G = rng.standard_normal((n, n))
    S = G @ G.T / n     # S ⪰ 0: Σ_h − I and ε are then sums of PSD / positive terms growing in t
    base = T.random_encoder(rng, n, 3, mean_scale=1.0)
    rows = []
    for k in range(steps):
        t = 2.0**-k
        coef = t * base.coef
        coef[:, 1:n + 1] = Q @ (np.eye(n) + t * S)
        q = T.t3_quantities(T.PolyEncoder(coef, base.alphas), rho)
        rows.append((t, abs(q.eps), q.delta, q.bound.deviation, q.deviation))
    arr = np.array(rows)
    size = arr[:, 1] + arr[:, 2]                                  # |ε| + δ
    monotone = bool(np.all(np.diff(arr[:, 3]) < 0) and np.all(np.diff(size) < 0))
    dominated = bool(np.all(arr[:, 4] <= arr[:, 3] * (1 + 1e-9)))
    final = float(arr[-1, 3])
    # rates: the bound is first order in t (δ ~ t), the deviation second order
    rate_bound, rate_dev = (float(np.log2(arr[-2, c] / arr[-1, c])) for c in (3, 4))

    sharp = []
    for delta in (1e-1, 1e-2, 1e-3, 1e-4):
        q = T.t3_quantities(_extremal(n, rho, delta), rho)
        sharp.append((delta, _ratio(q.nonlinear_energy, q.bound.energy),
                      _ratio(q.deviation, q.bound.deviation), abs(q.eps)))
    sharp_arr = np.array(sharp)
    attained = bool(np.all(np.abs(sharp_arr[:, 1] - 1) < 1e-9) and np.all(sharp_arr[:, 3] < 1e-12))
    ratio_to_one = bool(np.all(np.diff(sharp_arr[:, 2]) > 0) and sharp_arr[-1, 2] > 0.999)
    ok = (monotone and dominated and final < 1e-5 and size[-1] < 1e-5 and attained
          and ratio_to_one)
    return CheckResult(
        passed=ok,
        summary=f"h_t -> rotation over t = 1..2^-{steps - 1}: bound {arr[0, 3]:.3g} -> "
                f"{final:.3g} (monotone: {monotone}, >= D: {dominated}); rates t^{rate_bound:.2f}"
                f" (bound) vs t^{rate_dev:.2f} (D); extremal family: E_nl/B = 1 "
                f"({attained}), D/bound -> {sharp_arr[-1, 2]:.6f}",
        figures={"t (every 4th step)": arr[::4, 0].tolist(), "abs_eps": arr[::4, 1].tolist(),
                 "delta": arr[::4, 2].tolist(), "bound": arr[::4, 3].tolist(),
                 "D": arr[::4, 4].tolist(), "final_bound": final,
                 "final_abs_eps_plus_delta": float(size[-1]), "bound_rate_exponent": rate_bound,
                 "D_rate_exponent": rate_dev, "extremal_delta": sharp_arr[:, 0].tolist(),
                 "extremal_E_nl_over_B": sharp_arr[:, 1].tolist(),
                 "extremal_D_over_bound": sharp_arr[:, 2].tolist()},
        tolerance=f"strict monotone decrease of the bound and of |eps| + delta, both < 1e-5 "
                  f"at t = 2^-{steps - 1}, D <= bound (1e-9 rel.); "
                  "E_nl/B = 1 to 1e-9 and D/bound increasing to > 0.999 on the extremal family")


@check("T3.whitened_corollary")
def whitened_corollary(seed: int, *, bound=lambda B: B + B * B, count: int = 600) -> CheckResult:
    """The whitened corollary (Lean ``exists_deviationL2_le_of_cov_eq_one``,
    ``FiniteChaos.exists_deviation_le_of_cov_eq_one``): for exactly whitened random polynomial
    encoders (``Σ_h = I``, so the covariance defect ``δ`` is 0 up to rounding),
    ``D(h) ≤ B + B²`` with ``B = ε / (2ρ(1−ρ))``; ``count`` encoders, ``n ∈ 1..5``, degree
    ``1..4``, ``ρ ~ U(0.01, 0.99)``, nonlinear scale ``U(0, 3)``."""
    rng = np.random.default_rng(seed)
    violations, slack, max_delta = 0, math.inf, 0.0
    for _ in range(count):
        n, degree = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        rho = float(rng.uniform(0.01, 0.99))
        h = T.random_whitened_encoder(rng, n, degree, nonlinear_scale=rng.uniform(0, 3))
        q = T.t3_quantities(h, rho)
        max_delta = max(max_delta, q.delta)
        B = q.eps / (2 * rho * (1 - rho))
        b = bound(B)
        s = (b - q.deviation) / (1 + abs(b))
        slack = min(slack, s)
        violations += s < -1e-9
    return CheckResult(
        passed=violations == 0 and max_delta <= 1e-9,
        summary=f"{count} whitened encoders (max delta {max_delta:.1e}): {violations} "
                f"violations of D <= B + B^2, min relative slack {slack:.2e}",
        figures={"encoders": count, "violations": violations, "min_rel_slack": slack,
                 "max_delta": max_delta},
        tolerance="a violation is a relative excess > 1e-9 (the quantities are closed forms; "
                  "rounding is ~1e-14); delta <= 1e-9 confirms the hypothesis Sigma_h = I "
                  "(exact whitening by SVD keeps it at rounding level)")


def _gauss_hermite_mse(h: T.PolyEncoder, Q: np.ndarray, b: np.ndarray, nodes: int) -> float:
    """``E‖h(z) − Qz − b‖²`` by tensor Gauss–Hermite quadrature (NumPy's ``hermegauss``,
    not :func:`pycheck.theory.gauss_hermite`); exact for polynomial ``h`` of degree
    ``≤ nodes − 1`` (the integrand has degree ``≤ 2 nodes − 2``)."""
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    n = h.n
    grid = np.stack(np.meshgrid(*([x] * n), indexing="ij"), -1).reshape(-1, n)
    weight = np.prod(np.stack(np.meshgrid(*([w] * n), indexing="ij"), -1).reshape(-1, n), 1)
    r = h(grid) - grid @ Q.T - b
    return float(weight @ (r * r).sum(1))


def _sympy_t3_bound(eps, delta, n: int, rho):
    """The manifest's formula for T3's two bounds, transcribed in SymPy on rationals."""
    import sympy as sp
    B = (eps + 2 * (1 - rho) * sp.sqrt(n) * delta) / (2 * rho * (1 - rho))
    return B, B + (delta + B) ** 2


@check("T3.ingredients")
def ingredients(seed: int, *, deviation=T.deviation_from_rotation, bound=T.t3_bound,
                encoders: int = 60) -> CheckResult:
    """What every other T3 check takes as given, against computations of its own.
    (a) ``D(h)``: for ``encoders`` random encoders of :func:`_draw`'s families restricted to
    ``n ≤ 3``, degree ``≤ 3``, the value at the returned ``(Q, b)`` equals ``E‖h − Qz − b‖²``
    by tensor Gauss–Hermite quadrature, and no nearby ``(Q', b')`` (10 per encoder:
    ``Q' = Q exp(K)``, ``K`` skew with entries ``N(0, 0.05²)``, ``b' = b + N(0, 0.05²)``) does
    better; scaled rotations ``h = sQz + m`` have ``D = n(s − 1)²``. (b) The ``ε < 0`` branch:
    shrunk rotations ``h = sQz`` (``s < 1``: ``ε = 2n(1−ρ)(s² − 1) < 0``, ``δ = √n(1 − s²)``,
    ``E_nl = 0``) attain ``E_nl ≤ B`` with equality, ``B = 0`` (to rounding relative to the
    numerator's two terms). (c) ``t3_bound`` against a
    SymPy transcription of the manifest's formula at 54 rational points (``ε`` of both signs).
    (d) The sample ``D`` the experiments measure (:func:`pycheck.metrics.deviation_from_rotation`)
    on 100 000 Gaussian draws agrees with the closed form (10 encoders, ``n ∈ 2..3``).
    A smaller ``D`` would make ``D ≤ bound`` easier to pass, a looser ``B`` too: the other
    checks could not see either (a session-45 mutation trial)."""
    rng = np.random.default_rng(seed)
    dev_err = quad_err = 0.0
    better = 0
    count = 0
    while count < encoders:
        family = FAMILIES[count % len(FAMILIES)]
        h, rho = _draw(rng, family)
        if h.n > 3 or int(h.degrees.max()) > 3:
            continue
        count += 1
        D, Q, b = deviation(h)
        at = _gauss_hermite_mse(h, Q, b, 4)
        quad_err = max(quad_err, abs(D - at) / (1 + abs(at)))
        for _ in range(10):
            K = rng.normal(0, 0.05, (h.n, h.n))
            Qp = Q @ expm(K - K.T)
            other = _gauss_hermite_mse(h, Qp, b + rng.normal(0, 0.05, h.n), 4)
            better += other < at - 1e-12 * (1 + abs(at))
    for n in (1, 2, 3, 5):
        for s in (0.3, 0.9, 1.7):
            Q = T.random_rotation(rng, n)
            h = T.rotation_encoder(s * Q)
            coef = h.coef.copy()
            coef[:, 0] = rng.standard_normal(n)          # a mean: D does not count it
            dev_err = max(dev_err, abs(deviation(T.PolyEncoder(coef, h.alphas))[0]
                                       - n * (s - 1) ** 2) / (n * (s - 1) ** 2))
    branch = 0.0
    for n in (1, 2, 4):
        for s in (0.2, 0.7, 0.99):
            for rho in (0.1, 0.5, 0.9):
                q = T.t3_quantities(T.rotation_encoder(s * T.random_rotation(rng, n)), rho)
                b_ = bound(q.eps, q.delta, n, rho)
                # B's numerator cancels eps against the delta term: its rounding is relative
                # to their size, before the division by 2 rho (1 - rho)
                scale = abs(q.eps) + 2 * (1 - rho) * math.sqrt(n) * q.delta
                branch = max(branch, abs(b_.energy) * 2 * rho * (1 - rho) / scale)
    # (d) the sample D the experiments measure (pycheck.metrics.deviation_from_rotation) on
    # 100 000 Gaussian draws against the closed form, for 10 encoders with n in 2..3
    from ..metrics import deviation_from_rotation as sample_deviation
    sample_z, done = 0.0, 0
    while done < 10:
        h, _ = _draw(rng, FAMILIES[done % len(FAMILIES)])
        if not 2 <= h.n <= 3 or int(h.degrees.max()) > 3:
            continue
        done += 1
        D, Q, b = deviation(h)
        z = rng.standard_normal((100_000, h.n))
        hz = h(z)
        r = ((hz - z @ Q.T - b) ** 2).sum(1)
        se = float(r.std() / math.sqrt(len(r)))
        sample_z = max(sample_z, abs(sample_deviation(hz, z) - D) / (se + 1e-12 * (1 + D)))
    import sympy as sp
    transcription = 0.0
    for eps in (sp.Rational(-1, 3), sp.Rational(5, 7)):
        for delta in (sp.Integer(0), sp.Rational(1, 4), sp.Integer(2)):
            for n in (1, 3, 4):
                for rho in (sp.Rational(1, 10), sp.Rational(1, 2), sp.Rational(9, 10)):
                    want = [float(v) for v in _sympy_t3_bound(eps, delta, n, rho)]
                    got = bound(float(eps), float(delta), n, float(rho))
                    transcription = max(transcription, *(abs(g - w) / (1 + abs(w))
                                                         for g, w in zip(got, want)))
    ok = (quad_err <= 1e-10 and better == 0 and dev_err <= 1e-12 and branch <= 1e-12
          and transcription <= 1e-12 and sample_z <= 5)
    return CheckResult(
        passed=ok,
        summary=f"D(h) at its (Q, b) against quadrature: rel. {quad_err:.1e}, {better} of "
                f"{10 * encoders} nearby (Q', b') lower; scaled rotations D = n(s-1)^2: rel. "
                f"{dev_err:.1e}; shrunk rotations (eps < 0): B = 0 to {branch:.1e}; t3_bound "
                f"against SymPy: {transcription:.1e}; the sample D (metrics) against the "
                f"closed form: max |z| {sample_z:.2f}",
        figures={"encoders": encoders, "deviation_vs_quadrature": quad_err,
                 "nearby_lower": better, "scaled_rotation_error": dev_err,
                 "negative_eps_branch_error": branch, "sympy_transcription_error": transcription,
                 "sample_deviation_max_z": sample_z},
        tolerance="closed forms against quadrature exact for these degrees: rounding only "
                  "(1e-10 relative to 1 + |value| for sums over 4^n nodes, 1e-12 elsewhere); a "
                  "nearby rotation counts as lower only by more than 1e-12 relative; the "
                  "sample D within 5 standard errors of the squared residual at the closed "
                  "form's (Q, b) (10 comparisons; its in-sample optimum's downward bias, "
                  "O(n^2/N), is far below one s.e. here; seeds 0-5: max |z| 2.2)")
