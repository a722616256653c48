"""Exact theory for polynomial encoders in the Gaussian-OU world (DESIGN.md §1).

Setting. Latents ``z ~ γ_n = N(0, I_n)``; one world step ``z' = ρ z + sqrt(1-ρ²) ε`` with
``ε ~ γ_n`` independent of ``z``. An encoder (the composite ``h = f∘g``) is a polynomial
written on the orthonormal Hermite basis of ``L²(γ_n)``::

    h_k(z) = Σ_α C[k, α] · He_α(z) / sqrt(α!),      He_α(z) = Π_i He_{α_i}(z_i),

stored as a :class:`PolyEncoder` (coefficients ``C`` of shape ``(n_out, M)`` plus the ``M``
multi-indices). Because the basis is orthonormal (L3) and an eigenbasis of the OU step
(Mehler, L2), every quantity the theorems speak of has a closed form in ``C``:

* mean ``E h = C[:, α=0]``; covariance ``Σ_h = C₊ C₊ᵀ`` with ``C₊`` the columns ``|α| ≥ 1``;
* chaos energies ``e_{k,d} = Σ_{|α|=d} C[k, α]²`` and ``E_nl = Σ_k Σ_{d≥2} e_{k,d}``;
* alignment ``L(h) = E‖h(z') − h(z)‖² = 2 Σ_k Σ_{d≥1} (1 − ρ^d) e_{k,d}`` (L4);
* the distance to the rotations ``D(h) = min_{Q∈O(n), b} E‖h − Qz − b‖²`` (T3), see
  :func:`deviation_from_rotation`.

The T3 bound lives in exactly one function, :func:`t3_bound`; everything else calls it.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations_with_replacement
from typing import NamedTuple

import numpy as np
from numpy.polynomial import hermite_e
from scipy.linalg import orthogonal_procrustes
from scipy.special import gammaln
from scipy.stats import ortho_group

from .validate import check_int

__all__ = [
    "hermite", "multi_indices", "basis", "gauss_hermite", "PolyEncoder",
    "mean", "covariance", "linear_block", "chaos_energies", "nonlinear_energy",
    "alignment_loss", "whitening_residual", "alignment_excess", "T3Bound", "t3_bound",
    "T3Quantities", "t3_quantities", "deviation_from_rotation", "random_encoder", "whiten",
    "random_whitened_encoder", "random_rotation", "rotation_encoder", "ou_pairs",
    "alignment_monte_carlo", "check_rho", "check_excesses",
]


def _real(name: str, v, domain: str) -> float:
    """``v`` as a float if it is one real number (a NumPy or torch 0-d value too); a bool,
    string, complex or array is refused with a ``ValueError`` naming ``name`` and ``domain``."""
    dtype = str(getattr(v, "dtype", ""))
    if not isinstance(v, (bool, str, bytes)) and "bool" not in dtype \
            and "complex" not in dtype and np.ndim(v) == 0:
        try:
            return float(v)
        except (TypeError, ValueError):
            pass
    raise ValueError(f"{name} must be a real number {domain}, got {v!r}")


def check_rho(rho, why: str = "", closed: bool = False) -> float:
    """``rho`` as a float in the paper's range ``0 < ρ < 1`` or, with ``closed``, in
    ``[−1, 1]``: there the step ``ρz + sqrt(1 − ρ²)ε`` still exists and L4 still holds, and
    it is the range of the AR(1) junk of :mod:`pycheck.checks.finite_sample` (ρ ≤ 0 too).
    ``ValueError`` naming rho (with ``why`` it is needed) otherwise, NaN and inf included."""
    interval = "[-1, 1]" if closed else "(0, 1)"
    v = _real("rho", rho, f"in {interval}")
    if not (-1 <= v <= 1 if closed else 0 < v < 1):         # also rejects NaN
        raise ValueError(f"rho must lie in {interval}{why}, got {rho!r}")
    return v


# ---------------------------------------------------------------- Hermite basis (L2, L3)
def hermite(k: int, x: np.ndarray) -> np.ndarray:
    """Probabilists' Hermite polynomial ``He_k`` evaluated at ``x`` (any shape)."""
    check_int("the degree k", k, low=0)
    return hermite_e.hermeval(np.asarray(x, dtype=float), np.eye(k + 1)[k])


@lru_cache(maxsize=None)
def multi_indices(n: int, degree: int) -> np.ndarray:
    """All multi-indices ``α ∈ ℕⁿ`` with ``|α| ≤ degree``, ordered by total degree.

    Within a degree the order is lexicographically decreasing, so the degree-1 block is
    ``e_1, …, e_n`` in order and row 0 is ``α = 0``. The result is cached and read-only.

    Returns
    -------
    alphas : ndarray of int, shape (M, n), ``M = C(n + degree, degree)``

    ``n ≥ 1`` and ``degree ≥ 0``, else ``ValueError``: ``γ_0`` has no coordinates to index
    and an encoder of no latents is nothing the theorems speak of.
    """
    check_int("n", n)
    check_int("the degree", degree, low=0)
    rows = []
    for d in range(degree + 1):
        for combo in combinations_with_replacement(range(n), d):
            rows.append(np.bincount(np.asarray(combo, dtype=int), minlength=n))
    alphas = np.asarray(rows, dtype=int).reshape(-1, n)
    alphas.flags.writeable = False                  # cached: shared by every caller
    return alphas


def basis(z: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Orthonormal Hermite basis ``He_α(z)/sqrt(α!)`` at the rows of ``z``.

    Parameters
    ----------
    z : ndarray, shape (N, n)
    alphas : ndarray of int, shape (M, n)

    Returns
    -------
    Phi : ndarray, shape (N, M)
    """
    z = np.asarray(z, dtype=float)
    alphas = np.asarray(alphas)
    # (N, n) only: a 1-D z became one row (a product over the samples), and one column
    # broadcast against n-variate indices (session 36)
    if z.ndim != 2 or alphas.ndim != 2 or z.shape[1] != alphas.shape[1]:
        raise ValueError(f"z must have shape (N, n) with n = {alphas.shape[-1]} (the "
                         f"multi-indices' width), got {z.shape}")
    top = int(alphas.max(initial=0))
    # table[j, i, k] = He_k(z_ji) / sqrt(k!)
    table = hermite_e.hermevander(z, top) / np.sqrt(np.exp(gammaln(np.arange(top + 1) + 1)))
    cols = table[:, np.arange(z.shape[1])[None, :], alphas]        # (N, M, n)
    return cols.prod(axis=2)


def gauss_hermite(points: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss–Hermite rule for ``γ_n``: exact for polynomials of degree ``≤ 2·points−1``
    in each variable.

    Returns
    -------
    nodes : ndarray, shape (points**n, n)
    weights : ndarray, shape (points**n,), summing to 1 (``hermegauss`` weights over sqrt(2π))
    """
    x, w = hermite_e.hermegauss(points)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([x] * n), indexing="ij")
    wgrids = np.meshgrid(*([w] * n), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    weights = np.prod(np.stack([g.ravel() for g in wgrids], axis=1), axis=1)
    return nodes, weights


# ---------------------------------------------------------------- polynomial encoders
@dataclass(frozen=True)
class PolyEncoder:
    """``h_k(z) = Σ_α coef[k, α] He_α(z)/sqrt(α!)``.

    Attributes
    ----------
    coef : ndarray, shape (n_out, M)
    alphas : ndarray of int, shape (M, n) — as returned by :func:`multi_indices`
    """

    coef: np.ndarray
    alphas: np.ndarray

    def __post_init__(self):
        # a width mismatch surfaced later as a NumPy broadcast error, far from its cause
        c, a = np.shape(self.coef), np.shape(self.alphas)
        if len(c) != 2 or len(a) != 2 or c[1] != a[0]:
            raise ValueError(f"coef must have shape (n_out, M) and alphas (M, n) with the same "
                             f"M, got coef {c} and alphas {a}")
        # negative multi-indices gave an alignment loss of 0, NaN coefficients NaN (s45)
        alphas = np.asarray(self.alphas)
        if alphas.dtype.kind not in "iu" or (alphas < 0).any():
            raise ValueError(f"alphas must be non-negative integers (multi-indices), got dtype "
                             f"{alphas.dtype}" + (" with negative entries"
                                                  if alphas.dtype.kind in "iuf"
                                                  and (alphas < 0).any() else ""))
        coef = np.asarray(self.coef)
        if coef.dtype.kind not in "iuf" or not np.isfinite(coef).all():
            raise ValueError(f"coef must be finite real numbers, got dtype {coef.dtype}"
                             + (" with non-finite entries" if coef.dtype.kind == "f" else ""))

    @property
    def n(self) -> int:
        return self.alphas.shape[1]

    @property
    def n_out(self) -> int:
        return self.coef.shape[0]

    @property
    def degrees(self) -> np.ndarray:
        """Total degree ``|α|`` of each basis function, shape (M,)."""
        return self.alphas.sum(axis=1)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Evaluate at ``z`` of shape (N, n); returns shape (N, n_out)."""
        return basis(z, self.alphas) @ self.coef.T


def mean(h: PolyEncoder) -> np.ndarray:
    """``E h(z)``, shape (n_out,): the coefficient on ``α = 0`` (all other basis functions
    have mean 0 by orthogonality to ``He_0 = 1``)."""
    return h.coef[:, h.degrees == 0].sum(axis=1)


def covariance(h: PolyEncoder) -> np.ndarray:
    """``Σ_h = Cov h(z) = C₊ C₊ᵀ``, shape (n_out, n_out), with ``C₊`` the ``|α| ≥ 1`` columns."""
    cp = h.coef[:, h.degrees >= 1]
    return cp @ cp.T


def linear_block(h: PolyEncoder) -> np.ndarray:
    """Degree-1 coefficients ``W``, shape (n_out, n): the degree-1 chaos of ``h`` is ``W z``
    (``He_{e_i}(z) = z_i``)."""
    W = np.zeros((h.n_out, h.n))
    lin = np.flatnonzero(h.degrees == 1)
    W[:, h.alphas[lin].argmax(axis=1)] = h.coef[:, lin]
    return W


def chaos_energies(h: PolyEncoder) -> np.ndarray:
    """``e[k, d] = Σ_{|α|=d} coef[k, α]²``, shape (n_out, max_degree + 1)."""
    deg = h.degrees
    e = np.zeros((h.n_out, int(deg.max(initial=0)) + 1))
    np.add.at(e.T, deg, (h.coef**2).T)
    return e


def nonlinear_energy(h: PolyEncoder) -> float:
    """``E_nl = Σ_k Σ_{d≥2} e_{k,d}``."""
    return float(chaos_energies(h)[:, 2:].sum())


def alignment_loss(h: PolyEncoder, rho: float) -> float:
    """Closed form (L4) of ``L(h) = E‖h(z') − h(z)‖² = 2 Σ_k Σ_{d≥1} (1 − ρ^d) e_{k,d}``,
    for ``−1 ≤ ρ ≤ 1`` (:func:`check_rho`; beyond, ``1 − ρ^d`` turns negative)."""
    rho = check_rho(rho, " (the step rho z + sqrt(1 - rho^2) eps)", closed=True)
    e = chaos_energies(h)
    d = np.arange(e.shape[1])
    return float(2 * (e.sum(axis=0) * (1 - rho**d)).sum())


def whitening_residual(h: PolyEncoder) -> float:
    """``δ = ‖Σ_h − I‖_F``."""
    return float(np.linalg.norm(covariance(h) - np.eye(h.n_out)))


def alignment_excess(h: PolyEncoder, rho: float) -> float:
    """``ε = L(h) − 2n(1 − ρ)``: how far ``L`` is above the T1 optimum.

    T1's optimum is for a square encoder ``ℝⁿ → ℝⁿ``; for ``n_out ≠ n`` the reference value
    would be a different one (``2 n_out (1 − ρ)`` for a whitened ``n_out ≤ n``), so such an
    encoder is refused rather than given a negative or meaningless excess."""
    if h.n_out != h.n:
        raise ValueError(f"ε(h) needs a square encoder ℝⁿ → ℝⁿ, got n_out={h.n_out}, n={h.n}")
    rho = check_rho(rho, " (T1's optimum 2n(1 - rho) needs 0 < rho < 1)")
    return alignment_loss(h, rho) - 2 * h.n * (1 - rho)


def check_excesses(eps, delta) -> tuple[float, float]:
    """``(ε, δ)`` of T3 or A1(c) as floats: ``ε`` finite (a negative one is an encoder below
    the optimum, possible when it is not whitened), ``δ = ‖Cov h − I‖_F`` finite and ``≥ 0``;
    ``ValueError`` naming the argument otherwise."""
    e, d = _real("eps", eps, "(finite)"), _real("delta", delta, "(finite, >= 0)")
    if not math.isfinite(e):
        raise ValueError(f"eps must be finite, got {eps!r}")
    if not (math.isfinite(d) and d >= 0):
        raise ValueError(f"delta = ||Cov h - I||_F must be finite and >= 0, got {delta!r}")
    return e, d


class T3Bound(NamedTuple):
    """The two bounds of T3: ``energy = B ≥ E_nl`` and ``deviation = B + (δ+B)² ≥ D(h)``."""

    energy: float
    deviation: float


def t3_bound(eps: float, delta: float, n: int, rho: float) -> T3Bound:
    """The T3 bound, the one place its formula lives (manifest ``ids.T3``)::

        B = (ε + 2(1−ρ)·sqrt(n)·δ) / (2ρ(1−ρ)),     E_nl ≤ B,     D(h) ≤ B + (δ + B)².

    Derivation (valid for every ``h ∈ L²(γ_n; ℝⁿ)``, centred or not, whitened or not):

    1. ``1 − ρ^d ≥ 1 − ρ²`` for ``d ≥ 2`` (L1), so with ``W`` the degree-1 block,
       ``L ≥ 2(1−ρ)‖W‖_F² + 2(1−ρ²) E_nl``.
    2. ``Σ_h = WWᵀ + N`` with ``N = Σ_{|α|≥2} c_α c_αᵀ ⪰ 0`` and ``tr N = E_nl`` (orthogonal
       chaoses), so ``‖W‖_F² = tr Σ_h − E_nl`` and
       ``ε ≥ 2(1−ρ) tr(Σ_h − I) + 2ρ(1−ρ) E_nl ≥ −2(1−ρ)sqrt(n)δ + 2ρ(1−ρ) E_nl``
       (Cauchy–Schwarz: ``|tr A| ≤ sqrt(n)‖A‖_F``). Hence ``E_nl ≤ B`` (and ``B ≥ 0``).
    3. ``D(h) = min_Q ‖W − Q‖_F² + E_nl`` (:func:`deviation_from_rotation`), and by L5
       ``min_Q ‖W − Q‖_F ≤ ‖WWᵀ − I‖_F = ‖Σ_h − I − N‖_F ≤ δ + ‖N‖_F ≤ δ + tr N ≤ δ + B``.
    T3 needs ``0 < ρ < 1`` (else ``ValueError``: ρ = 1.2 gave a negative "bound", ρ = 0 a
    bare ZeroDivisionError; session 36), a finite ``ε``, a finite ``δ ≥ 0`` and an integer
    ``n ≥ 1`` (NaN gave a NaN bound, ``n = 0`` a bound, ``n = −1`` a math domain error).
    """
    rho = check_rho(rho, " (T3's bound needs 0 < rho < 1)")
    eps, delta = check_excesses(eps, delta)
    check_int("n", n)
    B = (eps + 2 * (1 - rho) * math.sqrt(n) * delta) / (2 * rho * (1 - rho))
    return T3Bound(energy=B, deviation=B + (delta + B) * (delta + B))


def deviation_from_rotation(h: PolyEncoder) -> tuple[float, np.ndarray, np.ndarray]:
    """``D(h) = min_{Q ∈ O(n), b} E‖h(z) − Qz − b‖²`` in closed form, with its minimizers.

    ``h − Qz − b`` splits into chaoses: the constant ``E h − b``, the linear part
    ``(W − Q) z`` and the nonlinear rest, which are orthogonal in ``L²(γ_n)`` (L3), so
    ``E‖h − Qz − b‖² = ‖E h − b‖² + ‖W − Q‖_F² + E_nl``. The terms decouple: ``b* = E h``,
    ``Q*`` is the orthogonal Procrustes solution (``argmin_Q ‖Q − W‖_F``, polar factor of W).

    Returns
    -------
    D : float
    Q : ndarray, shape (n, n)
    b : ndarray, shape (n,)
    """
    if h.n_out != h.n:
        raise ValueError(f"D(h) needs a square encoder ℝⁿ → ℝⁿ, got n_out={h.n_out}, n={h.n}")
    W = linear_block(h)
    Q, _ = orthogonal_procrustes(np.eye(h.n), W)   # argmin_Q ‖I·Q − W‖_F
    return float(np.sum((W - Q) ** 2) + nonlinear_energy(h)), Q, mean(h)


class T3Quantities(NamedTuple):
    """Exact T3 quantities of one encoder (see :func:`t3_quantities`)."""

    eps: float
    delta: float
    nonlinear_energy: float
    deviation: float
    bound: T3Bound


def t3_quantities(h: PolyEncoder, rho: float) -> T3Quantities:
    """``(ε, δ, E_nl, D(h), t3_bound(ε, δ, n, ρ))`` for a square encoder."""
    eps, delta = alignment_excess(h, rho), whitening_residual(h)
    return T3Quantities(eps, delta, nonlinear_energy(h), deviation_from_rotation(h)[0],
                        t3_bound(eps, delta, h.n, rho))


# ---------------------------------------------------------------- random encoders
def random_encoder(rng: np.random.Generator, n: int, degree: int, *, n_out: int | None = None,
                   linear_scale: float = 1.0, nonlinear_scale: float = 1.0,
                   mean_scale: float = 0.0) -> PolyEncoder:
    """Gaussian random coefficients: degree-1 block ``N(0, linear_scale²/n)``, each
    degree-``d ≥ 2`` coefficient ``N(0, nonlinear_scale²/M_d)`` (``M_d`` = number of
    degree-``d`` indices, so each output's expected energy per degree is ``nonlinear_scale²``),
    mean ``N(0, mean_scale²)``. ``n_out`` defaults to ``n`` (square)."""
    # `n_out or n` read n_out = 0 as "not given" and returned n outputs
    n_out = n if n_out is None else check_int("n_out", n_out)
    alphas = multi_indices(n, degree)
    deg = alphas.sum(axis=1)
    count = np.bincount(deg)
    sd = np.where(deg == 0, mean_scale,
                  np.where(deg == 1, linear_scale / math.sqrt(n),
                           nonlinear_scale / np.sqrt(count[deg])))
    coef = rng.standard_normal((n_out, len(alphas))) * sd
    return PolyEncoder(coef, alphas)


def whiten(h: PolyEncoder) -> PolyEncoder:
    """Exact whitening: ``C₊ ← Σ_h^{-1/2} C₊`` and mean ← 0, so ``E h = 0`` and ``Σ_h = I``.

    With the thin SVD ``C₊ = U S Vᵀ`` one has ``Σ_h^{-1/2} C₊ = U Vᵀ``; computing that
    instead of forming ``Σ_h`` keeps ``Σ_h = I`` to machine precision however
    ill-conditioned ``C₊`` is. Raises ``numpy.linalg.LinAlgError`` when ``Σ_h`` is singular.
    """
    pos = h.degrees >= 1
    if h.n_out > pos.sum():
        raise np.linalg.LinAlgError("more outputs than basis functions: cannot whiten")
    U, s, Vt = np.linalg.svd(h.coef[:, pos], full_matrices=False)
    if s.min() <= 1e-10 * s.max():
        raise np.linalg.LinAlgError("covariance is (numerically) singular: cannot whiten")
    coef = np.zeros_like(h.coef)
    coef[:, pos] = U @ Vt
    return PolyEncoder(coef, h.alphas)


def random_whitened_encoder(rng: np.random.Generator, n: int, degree: int,
                            nonlinear_scale: float = 1.0) -> PolyEncoder:
    """:func:`random_encoder` (square, with a random mean) followed by :func:`whiten`."""
    return whiten(random_encoder(rng, n, degree, nonlinear_scale=nonlinear_scale,
                                 mean_scale=1.0))


def random_rotation(rng: np.random.Generator, n: int) -> np.ndarray:
    """Haar-random ``Q ∈ O(n)`` (``scipy.stats.ortho_group``), shape (n, n)."""
    return np.atleast_2d(ortho_group.rvs(n, random_state=rng))


def rotation_encoder(Q: np.ndarray, degree: int = 1) -> PolyEncoder:
    """The linear encoder ``h(z) = Q z`` written on the basis of degree ``≤ degree``."""
    Q = np.asarray(Q, dtype=float)
    if Q.ndim != 2 or 0 in Q.shape:     # a 1-D Q raised an IndexError (session 45)
        raise ValueError(f"Q must be a matrix (n_out, n), got shape {Q.shape}")
    n = Q.shape[1]
    alphas = multi_indices(n, degree)
    coef = np.zeros((Q.shape[0], len(alphas)))
    coef[:, 1:n + 1] = Q          # degree-1 columns are e_1..e_n in order
    return PolyEncoder(coef, alphas)


# ---------------------------------------------------------------- Monte Carlo
def ou_pairs(rng: np.random.Generator, size: int, n: int, rho: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """``size`` independent pairs ``(z, z')`` of the stationary Gaussian-OU step,
    each of shape (size, n); ``−1 ≤ ρ ≤ 1`` (:func:`check_rho`)."""
    rho = check_rho(rho, " (the step rho z + sqrt(1 - rho^2) eps)", closed=True)
    z = rng.standard_normal((size, n))
    return z, rho * z + math.sqrt(1 - rho**2) * rng.standard_normal((size, n))


def alignment_monte_carlo(h: Callable[[np.ndarray], np.ndarray], rho: float, size: int,
                          rng: np.random.Generator, n: int | None = None,
                          chunk: int = 100_000) -> tuple[float, float]:
    """Monte-Carlo estimate of ``L(h)`` for any callable ``h: (N, n) → (N, n_out)``.

    ``n`` is the latent dimension; it may be left out when ``h`` has an attribute ``n`` (a
    :class:`PolyEncoder`). ``size ≥ 2`` pairs (the standard error needs two).

    Returns
    -------
    mean : float — sample mean of ``‖h(z') − h(z)‖²``
    stderr : float — its standard error
    """
    if n is None:
        n = getattr(h, "n", None)
        if n is None:
            raise ValueError("alignment_monte_carlo needs the latent dimension: pass n= "
                             "(h has no attribute n)")
    check_int("n", n)
    check_int("size", size, low=2)
    check_int("chunk", chunk)
    s = s2 = 0.0
    for start in range(0, size, chunk):
        m = min(chunk, size - start)
        z, zp = ou_pairs(rng, m, n, rho)
        v = np.sum((h(zp) - h(z)) ** 2, axis=1)
        s, s2 = s + v.sum(), s2 + (v**2).sum()
    mu = s / size
    return float(mu), float(math.sqrt(max(s2 / size - mu**2, 0.0) / (size - 1)))
