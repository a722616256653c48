"""Checks for T2 (converse, Gaussian uniqueness): non-Gaussian latents have non-Gaussian
projections (exact kurtosis computations and a normality test's power), while the affine
whitening of a Gaussian is exactly ``N(0, I)`` (the test rejects at its nominal level).

Keyword-only arguments are the ingredients the tests break on purpose.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy import stats

from . import CheckResult, check

ALPHAS = (sp.Rational(1, 2), 1, sp.Rational(3, 2), 2, 3, 4, 8)


def _gennorm_excess_kurtosis(exponent) -> sp.Expr:
    """Sympy excess kurtosis of the density ``∝ exp(−|x|^{exponent(α)})`` as a function of
    symbolic ``α``, from the moment integrals ``∫_0^∞ x^p exp(−x^β) dx``."""
    x, a, p = sp.symbols("x alpha p", positive=True)
    beta = exponent(a)
    m = sp.integrate(x**p * sp.exp(-x**beta), (x, 0, sp.oo), conds="none")
    return a, sp.gammasimp(m.subs(p, 4) * m.subs(p, 0) / m.subs(p, 2) ** 2) - 3


def _projection_identity(n: int, predicted) -> bool:
    """Sympy: for independent ``z_i`` with ``E z = 0``, ``E z² = 1``, arbitrary third moments
    and ``E z⁴ = 3 + κ``, ``E(u·z)⁴ − 3(Σu²)² = predicted(κ, u)`` identically in ``u, κ``."""
    u = sp.symbols(f"u1:{n + 1}", real=True)
    z = sp.symbols(f"z1:{n + 1}", real=True)
    s = sp.symbols(f"s1:{n + 1}", real=True)
    kappa = sp.Symbol("kappa", real=True)
    poly = sp.Poly(sp.expand(sum(ui * zi for ui, zi in zip(u, z)) ** 4), *z)
    moments = [[1, 0, 1, s[i], 3 + kappa] for i in range(n)]
    e4 = sum(c * sp.prod(moments[i][m] for i, m in enumerate(mon))
             for mon, c in poly.terms())
    lhs = e4 - 3 * sum(ui**2 for ui in u) ** 2
    return sp.expand(lhs - predicted(kappa, sp.Matrix(u))) == 0


def _sum4(kappa, u):
    return kappa * sum(ui**4 for ui in u)


@check("T2.gennorm_projection_kurtosis")
def gennorm_projection_kurtosis(seed: int, *, exponent=lambda a: a, predicted=_sum4
                                ) -> CheckResult:
    """(a) sympy: excess kurtosis of the generalized normal with shape α is
    ``Γ(5/α)Γ(1/α)/Γ(3/α)² − 3``: nonzero for α ∈ {1/2, 1, 3/2, 3, 4, 8}, zero at α = 2, and
    equal to ``scipy.stats.gennorm``'s; (b) sympy (n = 2, 3): a unit projection ``u·z`` of
    independent standardized components has excess kurtosis ``κ Σu_i⁴``; (c) numerically
    ``Σu_i⁴ ≥ 1/n`` on 500 random unit vectors in each ``n ∈ {2, 3, 5, 16, 64}``, and Monte
    Carlo (20 batches of 50 000 samples in ``ℝ⁴``, mean 0 and variance 1: Laplace with scale
    ``1/√2`` and uniform on ``[−√3, √3]``) agrees with ``κ Σu_i⁴``."""
    a, kurt = _gennorm_excess_kurtosis(exponent)
    closed = sp.gamma(5 / a) * sp.gamma(1 / a) / sp.gamma(3 / a) ** 2 - 3
    values, bad = {}, []
    for al in ALPHAS:
        v = sp.gammasimp(kurt.subs(a, al))
        values[str(al)] = float(sp.N(v, 30))
        matches = abs(sp.N(v - closed.subs(a, al), 50)) < 1e-40
        scipy_k = float(stats.gennorm(float(al)).stats(moments="k"))
        zero_ok = (v == 0) if al == 2 else abs(sp.N(v, 50)) > 1e-3
        if not (matches and zero_ok and abs(scipy_k - values[str(al)]) < 1e-9):
            bad.append(str(al))
    identity_ok = all(_projection_identity(n, predicted) for n in (2, 3))

    rng = np.random.default_rng(seed)
    min_excess = math.inf
    for n in (2, 3, 5, 16, 64):
        U = rng.standard_normal((500, n))
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        min_excess = min(min_excess, float((np.sum(U**4, axis=1) - 1 / n).min()))
    zs = []
    for dist, kappa in ((stats.laplace(scale=1 / math.sqrt(2)), 3.0),
                        (stats.uniform(-math.sqrt(3), 2 * math.sqrt(3)), -1.2)):
        u = rng.standard_normal(4)
        u /= np.linalg.norm(u)
        k = stats.kurtosis(dist.rvs(size=(20, 50_000, 4), random_state=rng) @ u, axis=1)
        zs.append(float((k.mean() - float(predicted(kappa, u))) / (k.std(ddof=1) / math.sqrt(20))))
    worst_z = max(abs(v) for v in zs)
    ok = not bad and identity_ok and min_excess >= -1e-15 and worst_z <= 4
    return CheckResult(
        passed=ok,
        summary=f"gennorm excess kurtosis exact, zero only at alpha=2 (failing: {bad or 'none'});"
                f" kappa*sum(u^4) identity n=2,3: {identity_ok}; min sum(u^4)-1/n = "
                f"{min_excess:.2e}; MC max |z| {worst_z:.2f}",
        figures={"excess_kurtosis": values, "identity_n2_n3": identity_ok,
                 "min_sum_u4_minus_1_over_n": min_excess, "mc_z_scores": zs},
        tolerance="exact (sympy, 50 digits) for the kurtosis values and the identity; "
                  "sum(u^4) >= 1/n up to 1e-15 rounding; MC over 20 batches of 50000, "
                  "|z| <= 4 (t_19 tail ~8e-4 per test)")


@check("T2.laplace_uniform_kurtosis")
def laplace_uniform_kurtosis(seed: int, *, laplace_density=None) -> CheckResult:
    """Exact excess kurtosis: Laplace (any scale b) = 3, uniform on [−c, c] = −6/5; they are
    the α = 1 and α → ∞ ends of the generalized-normal family, and match scipy."""
    x = sp.Symbol("x", real=True)
    b, c = sp.symbols("b c", positive=True)
    lap = laplace_density(x, b) if laplace_density else sp.exp(-sp.Abs(x) / b) / (2 * b)

    def excess(density, lo, hi):
        m = [sp.integrate(x**p * density, (x, lo, hi), conds="none") for p in (2, 4)]
        return sp.simplify(m[1] / m[0] ** 2 - 3)

    k_lap = excess(lap, -sp.oo, sp.oo)
    k_uni = excess(1 / (2 * c), -c, c)
    a, kurt = _gennorm_excess_kurtosis(lambda t: t)
    k_alpha1, k_limit = sp.gammasimp(kurt.subs(a, 1)), sp.limit(kurt, a, sp.oo)
    scipy_vals = (float(stats.laplace.stats(moments="k")), float(stats.uniform.stats(moments="k")))
    ok = (k_lap == 3 and k_uni == sp.Rational(-6, 5) and k_alpha1 == 3
          and k_limit == sp.Rational(-6, 5)
          and abs(scipy_vals[0] - 3) < 1e-12 and abs(scipy_vals[1] + 1.2) < 1e-12)
    return CheckResult(
        passed=ok,
        summary=f"Laplace excess kurtosis {k_lap}, uniform {k_uni}; gennorm alpha=1: {k_alpha1}, "
                f"alpha->oo: {k_limit}; scipy: {scipy_vals}",
        figures={"laplace": str(k_lap), "uniform": str(k_uni), "gennorm_alpha1": str(k_alpha1),
                 "gennorm_limit": str(k_limit), "scipy": list(scipy_vals)},
        tolerance="exact symbolic equality (scale parameters kept symbolic); scipy to 1e-12")


def _sampler(name: str):
    """Standardized iid latent sampler ``(rng, shape) -> array`` and its excess kurtosis."""
    if name == "gaussian":
        return (lambda rng, shape: rng.standard_normal(shape)), 0.0
    if name == "uniform":
        return (lambda rng, shape: rng.uniform(-math.sqrt(3), math.sqrt(3), shape)), -1.2
    beta = {"laplace": 1.0, "gennorm4": 4.0, "gennorm0.5": 0.5}[name]
    d = stats.gennorm(beta, scale=math.sqrt(math.gamma(1 / beta) / math.gamma(3 / beta)))
    return (lambda rng, shape: d.rvs(size=shape, random_state=rng)), float(d.stats(moments="k"))


@check("T2.normality_test_power")
def normality_test_power(seed: int, *, latents=("laplace", "uniform", "gennorm4"),
                         n: int = 2, size: int = 2000, reps: int = 200,
                         min_power: float = 0.9) -> CheckResult:
    """Non-Gaussian iid latents, randomly mixed by an affine map and empirically whitened:
    the D'Agostino–Pearson test (``scipy.stats.normaltest``, level 0.05) on the *most
    Gaussian* unit projection (``u = 1/sqrt(n)`` in latent coordinates, excess kurtosis
    ``κ/n``, the smallest T2 allows) rejects Gaussianity with power ``≥ min_power``."""
    rng = np.random.default_rng(seed)
    powers, kappas, measured, kurt_z = {}, {}, {}, {}
    for name in latents:
        draw, kappa = _sampler(name)
        z = draw(rng, (reps, size, n))
        A = rng.standard_normal((reps, n, n)) + 2 * np.eye(n)
        x = np.einsum("rij,rsj->rsi", A, z) + rng.standard_normal((reps, 1, n))
        xc = x - x.mean(axis=1, keepdims=True)
        lam, V = np.linalg.eigh(np.einsum("rsi,rsj->rij", xc, xc) / size)
        h = np.einsum("rsi,rij->rsj", xc, V / np.sqrt(lam)[:, None, :])   # empirical whitening
        lam_p, V_p = np.linalg.eigh(A @ A.transpose(0, 2, 1))            # population Σ_x
        w = np.einsum("rij,rj->ri", V_p / np.sqrt(lam_p)[:, None, :],
                      np.einsum("rji,rj->ri", V_p, A @ np.full(n, n**-0.5)))
        w = np.einsum("rji,rj->ri", V, w)                                # into h's coordinates
        w /= np.linalg.norm(w, axis=1, keepdims=True)
        proj = np.einsum("rsi,ri->rs", h, w)
        p = stats.normaltest(proj, axis=1).pvalue
        powers[name], kappas[name] = float(np.mean(p < 0.05)), kappa / n
        # the projection tested is the one T2 names: its excess kurtosis, measured, is κ/n
        # (until session 45 the figure was κ/n as a label; a projection on one latent, or on
        # a random direction, passed the check)
        k = stats.kurtosis(proj, axis=1, fisher=True, bias=False)
        measured[name] = float(k.mean())
        kurt_z[name] = float((k.mean() - kappa / n) / (k.std(ddof=1) / math.sqrt(reps)))
    worst = min(powers.values())
    worst_z = max(abs(v) for v in kurt_z.values())
    return CheckResult(
        passed=worst >= min_power and worst_z <= 5,
        summary=f"power of normaltest on the most Gaussian whitened projection "
                f"(n={n}, {size} samples, {reps} draws): {powers}; its excess kurtosis, "
                f"measured: {({k: round(v, 3) for k, v in measured.items()})} against kappa/n "
                f"{({k: round(v, 3) for k, v in kappas.items()})} (max |z| {worst_z:.2f})",
        figures={"power": powers, "projection_excess_kurtosis": kappas,
                 "measured_projection_excess_kurtosis": measured, "kurtosis_z": kurt_z,
                 "samples": size, "draws": reps, "level": 0.05},
        tolerance=f"power >= {min_power}: at these sizes the projection kurtosis kappa/n is "
                  ">= 3 standard errors sqrt(24/N) from 0, so a working test rejects almost "
                  "always; a Gaussian latent would give power ~0.05. The measured kurtosis "
                  "(bias-corrected, mean over the draws) within 5 standard errors of kappa/n "
                  "(the s.e. from the draws' spread): empirical whitening leaves an O(1/N) "
                  "bias of about 0.7 s.e. here (seeds 0-29: mean z -0.70 / +0.74 / +0.64, "
                  "max |z| 2.9), so 5 keeps a false alarm below ~1e-5 per latent, while a "
                  "projection on one latent (kappa, not kappa/n) or a random direction is "
                  "25-100 s.e. off")


@check("T2.gaussian_positive_case")
def gaussian_positive_case(seed: int, *, latent: str = "gaussian", whitening: str = "population",
                           n: int = 3, size: int = 500, reps: int = 400) -> CheckResult:
    """At α = 2: ``z ~ N(μ, Σ)`` whitened by the affine map ``h = Σ^{-1/2}(z − μ)`` is
    ``N(0, I)``, so level-0.05 tests reject at their nominal rate: ``normaltest`` on a random
    unit projection and a KS test of ``‖h‖²`` against ``χ²_n``, each within a binomial test.
    Each of ``reps`` draws: ``μ``, ``G`` (``n × n``), the latent sample ``X`` and the direction
    ``u``, all standard normal for the Gaussian latent, and ``z = μ + X Bᵀ`` with ``B = G + I``."""
    rng = np.random.default_rng(seed)
    draw, _ = _sampler(latent)
    rates, pvals = {}, {}
    rej_proj = rej_chi = 0
    for _ in range(reps):
        mu = rng.standard_normal(n)
        B = rng.standard_normal((n, n)) + np.eye(n)
        lam, V = np.linalg.eigh(B @ B.T)
        z = mu + draw(rng, (size, n)) @ B.T                     # N(mu, B Bᵀ) when Gaussian
        W = (V / np.sqrt(lam)) @ V.T if whitening == "population" else np.eye(n)
        h = (z - mu) @ W.T
        u = rng.standard_normal(n)
        rej_proj += stats.normaltest(h @ (u / np.linalg.norm(u))).pvalue < 0.05
        rej_chi += stats.kstest(np.sum(h**2, axis=1), stats.chi2(n).cdf).pvalue < 0.05
    for key, k in (("normaltest_projection", rej_proj), ("ks_chi2_norm", rej_chi)):
        rates[key] = float(k / reps)
        pvals[key] = float(stats.binomtest(int(k), reps, 0.05).pvalue)
    # 5e-4 per test (family 1e-3; was 5e-3, family 1%, the largest false-alarm rate of
    # `pycheck verify` at another seed, session 36): 3.5 binomial s.d., so at 400 draws a
    # rejection rate outside about 0.012-0.088 still fails; a non-Gaussian or unwhitened
    # latent rejects near always (tests/test_T2_converse.py, 100 draws)
    ok = min(pvals.values()) >= 5e-4
    return CheckResult(
        passed=ok,
        summary=f"whitened Gaussian, {reps} draws of {size}: rejection rates {rates} at level "
                f"0.05; binomial p-values {pvals}",
        figures={"rejection_rate": rates, "binomial_pvalue": pvals, "draws": reps,
                 "samples": size, "n": n},
        tolerance="each rejection rate consistent with 0.05: two-sided binomial test "
                  "p >= 5e-4 (Bonferroni over the two tests: family false alarm 1e-3)")


def _gaussian_preimage(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """T2's identification: the law ``p`` with ``p.map (A·+b) = N(0, I)`` is
    ``N(−A⁻¹b, A⁻¹A⁻ᵀ)``; returns its mean and covariance."""
    Ainv = np.linalg.inv(A)
    return -Ainv @ b, Ainv @ Ainv.T


def _rank_deficient(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random ``n × n`` matrix of rank ``n − 1``."""
    U, s, Vt = np.linalg.svd(rng.standard_normal((n, n)))
    s[-1] = 0.0
    return U * s @ Vt


@check("T2.affine_pushforward")
def affine_pushforward(seed: int, *, law=_gaussian_preimage, singular=_rank_deficient,
                       draws: int = 200) -> CheckResult:
    """The general form of T2 (Lean ``isGaussian_of_ae_affine_map_eq``,
    ``bijective_of_ae_affine_map_eq``). (a) For invertible ``A``, ``N(−A⁻¹b, A⁻¹A⁻ᵀ)`` is pushed
    by ``z ↦ Az + b`` to mean 0 and covariance ``I`` (exact linear algebra), the law the
    theorem identifies (``draws`` maps, ``n ~ {1..6}``, ``A = G + 2I``, ``G`` and ``b`` standard
    normal). (b) For singular ``A`` and any latent covariance ``Σ_p`` (drawn as
    ``L Lᵀ + 0.1 I``, ``L`` standard normal, for each map with ``n ≥ 2``), some unit
    ``u`` has ``uᵀA = 0``, so ``⟨u, Az + b⟩`` is constant: ``Cov(Az + b) = AΣ_pAᵀ`` has a zero
    eigenvalue, while ``N(0, I)`` needs every eigenvalue 1 — no such encoder is feasible.

    ``A = G + 2I`` is not always well conditioned (an eigenvalue of ``G`` near −2: cond(A) up to
    1.2e6 over 400 seeds), and the float64 residuals grow with it, so each is measured against
    its rounding scale: ``|Am + b|`` against ``ε cond(A) (1 + max|b|)`` and ``|ASAᵀ − I|``
    against ``ε cond(A)²``. Over 400 seeds × 200 maps these ratios stayed below 0.83 and 2.3
    (session 35); before, a fixed 1e-9 failed at seeds 12345 and 31337 (``|ASAᵀ − I|`` 1.4e-9,
    3.2e-9)."""
    rng = np.random.default_rng(seed)
    eps = np.finfo(float).eps
    worst_mean = worst_cov = worst_null = 0.0
    mean_ratio = cov_ratio = 0.0
    max_min_eig = max_cond = 0.0
    for _ in range(draws):
        n = int(rng.integers(1, 7))
        A = rng.standard_normal((n, n)) + 2 * np.eye(n)
        b = rng.standard_normal(n)
        m, S = law(A, b)
        cond = float(np.linalg.cond(A))
        max_cond = max(max_cond, cond)
        err_mean = float(np.abs(A @ m + b).max())
        err_cov = float(np.abs(A @ S @ A.T - np.eye(n)).max())
        worst_mean, worst_cov = max(worst_mean, err_mean), max(worst_cov, err_cov)
        mean_ratio = max(mean_ratio, err_mean / (eps * cond * (1 + np.abs(b).max())))
        cov_ratio = max(cov_ratio, err_cov / (eps * cond ** 2))
        if n >= 2:
            As = singular(rng, n)
            L = rng.standard_normal((n, n))
            Sp = L @ L.T + 0.1 * np.eye(n)                       # any latent covariance
            u = np.linalg.svd(As)[0][:, -1]                      # left null vector of As
            worst_null = max(worst_null, float(np.abs(u @ As).max() / np.abs(As).max()))
            eig = np.linalg.eigvalsh(As @ Sp @ As.T)
            max_min_eig = max(max_min_eig, float(eig[0] / eig[-1]))
    ok = mean_ratio <= 100 and cov_ratio <= 100 and worst_null <= 1e-12 and max_min_eig <= 1e-12
    return CheckResult(
        passed=ok,
        summary=f"{draws} affine maps (n = 1..6): pushforward of N(-A^-1 b, A^-1 A^-T) has max "
                f"|mean| {worst_mean:.1e}, max |cov - I| {worst_cov:.1e} (at most {mean_ratio:.2g} "
                f"and {cov_ratio:.2g} x their rounding scales); singular A: max "
                f"|u^T A| {worst_null:.1e}, largest relative smallest eigenvalue of Cov(Az + b) "
                f"{max_min_eig:.1e} (N(0, I) needs 1)",
        figures={"draws": draws, "max_mean_error": worst_mean, "max_cov_error": worst_cov,
                 "max_mean_error_over_scale": mean_ratio, "max_cov_error_over_scale": cov_ratio,
                 "max_null_residual": worst_null, "max_relative_min_eigenvalue": max_min_eig,
                 "max_cond": max_cond},
        tolerance="mean and covariance residuals <= 100 x their float64 rounding scales, "
                  "eps cond(A) (1 + max|b|) and eps cond(A)^2 (at most 0.83 and 2.3 over 400 "
                  "seeds x 200 maps; a wrong law is off by O(1)); 1e-12 relative for the null "
                  "vector and the zero eigenvalue (SVD rounding ~1e-15 relative)")
