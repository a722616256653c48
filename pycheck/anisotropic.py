"""Anisotropic Gaussian-OU worlds (manifest IDs ``A1``, ``A2``; beyond the paper).

World. ``z ~ γ_n``; one step ``z'_i = ρ_i z_i + sqrt(1 − ρ_i²) ε_i`` with unequal ``ρ_i ∈ (0, 1)``.
Still stationary, additive-noise and Gaussian. Mehler's relation holds coordinate-wise, so the
Hermite basis function ``He_α/sqrt(α!)`` is an eigenfunction of the step with eigenvalue
``ρ^α = Π_i ρ_i^{α_i}``, and for ``h_k = Σ_α c_{kα} He_α/sqrt(α!)`` (:class:`PolyEncoder`)

    L(h) = E‖h(z') − h(z)‖² = 2 Σ_k Σ_α (1 − ρ^α) c_{kα}².

**A1 (proved here on paper; Lean: ``LeJEPA/Anisotropic.lean``).** Write ``ρ₊ = max ρ_i``,
``ρ₋ = min ρ_i`` and ``g = ρ₋ − ρ₊²``. For every whitened ``h`` (``E h = 0``, ``Cov h = I``):

(a) ``min L`` over whitened ``h`` is ``2 Σ_{j≤n} (1 − λ_j)`` with ``λ_1 ≥ λ_2 ≥ …`` the weights
    ``ρ^α``, ``|α| ≥ 1``, in decreasing order (Ky Fan: maximise ``tr(C Λ Cᵀ)`` over ``C`` with
    orthonormal rows). Every rotation has ``L = 2 Σ_i (1 − ρ_i)``. The minimisers are all linear
    iff ``g > 0``. *If*: by (b). *Only if* (``n ≥ 2``): with ``i₊ = argmax``, ``i₋ = argmin``
    (distinct unless all ``ρ_i`` are equal, when ``g = ρ(1 − ρ) > 0``), replace ``z_{i₋}`` by
    ``He_2(z_{i₊})/√2`` in the identity; the result is whitened (orthonormal basis functions)
    and has ``L = 2 Σ_i (1 − ρ_i) + 2g`` (the swapped term's weight goes from ``ρ_{i₋}`` to
    ``ρ_{i₊}²``), ``≤`` every rotation's value when ``g ≤ 0``, so then a
    nonlinear whitened encoder is a minimiser too (strictly better when ``g < 0``).
    Example ``ρ = (0.9, 0.5)``: ``(z_1, He_2(z_1)/√2)`` has ``L = 0.2 + 0.38 = 0.58 < 1.2``.

(b) If ``g > 0``: ``ε := L(h) − 2 Σ_i (1 − ρ_i) ≥ 2 g E_nl``, so ``L`` is minimal exactly at
    rotations. Proof. Let ``W`` be the degree-1 block (``n × n``) and ``N`` the rest, so
    ``WWᵀ + NNᵀ = I`` and ``E_nl = ‖N‖_F²``. Then with ``Λ = diag(ρ)``
    ``ε = 2[tr(Λ(I − WᵀW)) − Σ_{|α|≥2} ρ^α ‖c_α‖²]``. ``WᵀW`` has the eigenvalues of
    ``WWᵀ = I − NNᵀ ⪯ I``, so ``I − WᵀW ⪰ 0`` with trace ``tr(NNᵀ) = E_nl``; hence
    ``tr(Λ(I − WᵀW)) ≥ ρ₋ E_nl``. And ``ρ^α ≤ ρ₊^{|α|} ≤ ρ₊²`` for ``|α| ≥ 2``. So
    ``ε ≥ 2(ρ₋ − ρ₊²) E_nl``; ``ε = 0`` forces ``E_nl = 0`` and then ``W`` orthogonal.
    The constant is sharp: ``h`` = identity with ``z_{i₋}`` replaced by
    ``cos θ z_{i₋} + sin θ He_2(z_{i₊})/√2`` has ``ε = 2g sin²θ = 2g E_nl`` exactly
    (:func:`sharp_encoder`). With all ``ρ_i = ρ`` it is T1's ``2ρ(1 − ρ)``.

(c) Approximate version (T3 with per-coordinate ``ρ_i``), for every ``h ∈ L²``, not whitened:
    with ``δ = ‖Cov h − I‖_F``, ``E_nl ≤ B := (ε + 2(1 − ρ₋)√n δ) / (2g)`` and
    ``D(h) ≤ B + (δ + B)²`` (:func:`anisotropic_bound`): T3's bound with ``ρ(1 − ρ)`` replaced
    by ``g`` and ``1 − ρ`` by ``1 − ρ₋``. Proof: with ``d_i = (WᵀW)_ii``, degree 1 costs
    ``2 Σ_i (1 − ρ_i) d_i`` and degree ``≥ 2`` at least ``2(1 − ρ₊²) E_nl``; writing
    ``1 − ρ_i = (1 − ρ₋) − (ρ_i − ρ₋)`` and ``Σ_i d_i = tr Σ_h − E_nl``,
    ``ε ≥ 2[(1 − ρ₋) tr(Σ_h − I) + g E_nl − Σ_i (ρ_i − ρ₋)(d_i − 1)]``. Let ``P`` and ``M`` be
    the sums of the positive and of the negative parts of the eigenvalues of ``Σ_h − I``
    (``tr(Σ_h − I) = P − M``). The diagonal ``d`` is majorised by the eigenvalues of
    ``WᵀW`` (Schur–Horn), which are those of ``WWᵀ ⪯ Σ_h`` and so lie below ``Σ_h``'s in
    order (Weyl); ``x ↦ (x − 1)₊`` is convex and increasing, so ``Σ_i (d_i − 1)₊ ≤ P`` and
    ``Σ_i (ρ_i − ρ₋)(d_i − 1) ≤ (ρ₊ − ρ₋) P``. Hence ``ε ≥ 2[(1 − ρ₊) P − (1 − ρ₋) M + g E_nl]
    ≥ 2[g E_nl − (1 − ρ₋)√n δ]`` (``M ≤ √n δ``, Cauchy–Schwarz). The ``D`` step is T3's (L5),
    unchanged. Isotropic ``ρ``: T3's bound. (Until session 45 the bound carried an extra
    ``2δ Σ_i (ρ_i − ρ₋)`` in its numerator, from ``d_i − 1 ≤ δ`` term by term: valid, looser;
    a trial's mutation test found that no check could tell the two apart.)

**A2 (conjecture, numerical).** Under the Gaussianity constraint (``h(z) ~ γ_n``, SIGReg) the
harmonic encoder of (a) is infeasible (``He_2`` is not Gaussian). The γ₂-preserving maps of
:data:`GAUSSIAN_MAPS` show that the constraint does *not* force linearity either: the *fold*
map beats every rotation at e.g. ``ρ = (0.95, 0.5)``: ``L = 1.028808`` by quadrature
(:func:`fold_alignment`) against ``1.1``; :func:`gaussian_map_search` maps where it wins.
What holds exactly for ``n = 2``: if ``h(z) ~ γ_2`` and ``h_1 = z_1`` then ``h_2`` is independent
of ``z_1``, so its chaos expansion has no pure-``z_1`` term, every weight it carries is
``≤ ρ_1^{α_1} ρ_2 ≤ ρ_2`` and ``L(h) ≥ 2(1 − ρ_1) + 2(1 − ρ_2)``: the conditional
rearrangements ``(z_1, τ_{z_1}(z_2))`` never beat the rotations, whichever latent is slower.
"""
from __future__ import annotations

import heapq
import math
from typing import Callable

import numpy as np
from scipy.integrate import quad
from scipy.special import erf, ndtr, ndtri

from .theory import PolyEncoder, T3Bound, _real, check_excesses
from .validate import check_int

__all__ = [
    "check_rhos", "anisotropic_ou_pairs", "weights", "alignment_loss", "rotation_alignment",
    "spectral_gap", "linear_is_optimal", "slowest_indices", "whitened_minimum",
    "sfa_encoder", "sharp_encoder", "anisotropic_bound", "GAUSSIAN_MAPS",
    "gaussian_map_search", "sign_flip_exact_alignment", "fold_alignment",
]


def check_rhos(rho) -> np.ndarray:
    """``rho`` as a float array of shape (n,), every entry in (0, 1); ``ValueError`` otherwise."""
    try:
        r = np.asarray(rho, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"rho must be a sequence of numbers in (0, 1), got {rho!r}") from None
    if r.ndim != 1 or r.size < 1:
        raise ValueError(f"rho must be a non-empty 1-D sequence, got shape {r.shape}")
    if not np.all((r > 0) & (r < 1)):            # also rejects NaN
        raise ValueError(f"every rho_i must lie in (0, 1), got {r.tolist()}")
    return r


def anisotropic_ou_pairs(n_samples: int, rho, rng: np.random.Generator
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Stationary pairs ``z ~ γ_n``, ``z'_i = ρ_i z_i + sqrt(1 − ρ_i²) ε_i``; each (N, n)."""
    r = check_rhos(rho)
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    z = rng.standard_normal((int(n_samples), r.size))
    return z, r * z + np.sqrt(1 - r * r) * rng.standard_normal(z.shape)


def _check_alphas(alphas) -> np.ndarray:
    """Multi-indices as a 2-D array of non-negative integers (a 1-D array raised an
    IndexError, negative entries gave weights above 1; session 45)."""
    a = np.asarray(alphas)
    if a.ndim != 2 or a.dtype.kind not in "iu" or (a < 0).any():
        raise ValueError(f"alphas must be a 2-D array (M, n) of non-negative integer "
                         f"multi-indices, got shape {a.shape} and dtype {a.dtype}")
    return a


def weights(alphas: np.ndarray, rho) -> np.ndarray:
    """Eigenvalues ``ρ^α = Π_i ρ_i^{α_i}`` of the step, shape (M,) for ``alphas`` (M, n)."""
    r = check_rhos(rho)
    alphas = _check_alphas(alphas)
    if alphas.shape[1] != r.size:
        raise ValueError(f"alphas have {alphas.shape[1]} coordinates, rho has {r.size}")
    return np.prod(r[None, :] ** alphas, axis=1)


def alignment_loss(h: PolyEncoder, rho) -> float:
    """Closed form ``L(h) = 2 Σ_k Σ_α (1 − ρ^α) c_{kα}²`` (the constant term has weight 1)."""
    return float(2 * ((1 - weights(h.alphas, rho)) * (h.coef**2)).sum())


def rotation_alignment(rho) -> float:
    """``L(Qz) = 2 Σ_i (1 − ρ_i)``, the same for every ``Q ∈ O(n)`` (``tr(QΛQᵀ) = tr Λ``)."""
    return float(2 * (1 - check_rhos(rho)).sum())


def spectral_gap(rho) -> float:
    """``g = min ρ − (max ρ)²``: A1's constant, ``ε ≥ 2g E_nl`` (T1's ``ρ(1−ρ)`` when isotropic)."""
    r = check_rhos(rho)
    return float(r.min() - r.max() ** 2)


def linear_is_optimal(rho) -> bool:
    """A1(a): every whitened minimiser is a rotation iff ``max ρ² < min ρ``."""
    return spectral_gap(rho) > 0


def slowest_indices(rho, count: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` (default ``n``) multi-indices ``|α| ≥ 1`` of largest weight ``ρ^α``.

    Best-first search from the ``e_i``: a heap of multi-indices keyed by decreasing ``ρ^α``,
    each popped ``α`` pushing its unseen neighbours ``α + e_i``. A neighbour never outranks
    its parent (``ρ^{α+e_i} ≤ ρ^α`` and ties go to the lower degree), so the pops come in
    the order of a full sort, after ``count`` pops and at most ``count·n`` pushes. (Listing
    every ``α`` with ``ρ^α ≥ min ρ`` instead took 128 s at ``ρ = (0.99, 0.99, 0.99, 0.02)``.)
    Ties are broken by lower total degree, then lexicographically decreasing ``α``.

    Returns
    -------
    alphas : ndarray of int, shape (count, n)
    lam : ndarray, shape (count,), decreasing
    """
    r = check_rhos(rho)
    n = r.size
    # 2.5 was taken as 2 (session 45)
    count = n if count is None else check_int("count", count, low=1, high=n)

    def entry(alpha: tuple[int, ...]) -> tuple:
        w = 1.0
        for ri, k in zip(r, alpha):     # this product, in this order: ties must stay exact
            w = w * ri ** k
        return -w, sum(alpha), tuple(-a for a in alpha)

    units = [tuple(int(i == j) for j in range(n)) for i in range(n)]
    heap, seen, top = [entry(a) for a in units], set(units), []
    heapq.heapify(heap)
    while len(top) < count:
        neg_w, _, neg_alpha = heapq.heappop(heap)
        alpha = tuple(-a for a in neg_alpha)
        top.append((-neg_w, alpha))
        for i in range(n):
            nxt = alpha[:i] + (alpha[i] + 1,) + alpha[i + 1:]
            if nxt not in seen:
                seen.add(nxt)
                heapq.heappush(heap, entry(nxt))
    return np.array([a for _, a in top], dtype=int), np.array([w for w, _ in top])


def whitened_minimum(rho) -> float:
    """A1(a): ``min {L(h) : E h = 0, Cov h = I} = 2 Σ_{j ≤ n} (1 − λ_j)``."""
    _, lam = slowest_indices(rho)
    return float(2 * (1 - lam).sum())


def sfa_encoder(rho) -> PolyEncoder:
    """A whitened minimiser (the slow-feature-analysis solution): ``h_j = He_{α_j}/sqrt(α_j!)``
    for the ``n`` slowest multi-indices ``α_j``. Linear exactly when ``max ρ² < min ρ``."""
    alphas, _ = slowest_indices(rho)
    n = alphas.shape[1]
    full = np.vstack([np.zeros((1, n), dtype=int), alphas])
    return PolyEncoder(np.hstack([np.zeros((n, 1)), np.eye(n)]), full)


def sharp_encoder(rho, theta: float) -> PolyEncoder:
    """The identity with ``z_{i₋}`` replaced by ``cos θ z_{i₋} + sin θ He_2(z_{i₊})/√2``.

    Whitened for every ``θ``; ``L − 2Σ(1 − ρ_i) = 2 g sin²θ`` and ``E_nl = sin²θ``, so it attains
    A1(b)'s constant exactly, and at ``θ = π/2`` it is the counter-example of A1(a). Needs
    ``n ≥ 2`` with ``argmax ρ ≠ argmin ρ``.
    """
    r = check_rhos(rho)
    theta = _real("theta", theta, "(finite)")
    if not math.isfinite(theta):    # NaN gave an encoder of NaN (session 45)
        raise ValueError(f"theta must be finite, got {theta!r}")
    n, lo, hi = r.size, int(np.argmin(r)), int(np.argmax(r))
    if n < 2 or lo == hi:
        raise ValueError("sharp_encoder needs n >= 2 and unequal rho_i")
    alphas = np.vstack([np.zeros((1, n), dtype=int), np.eye(n, dtype=int),
                        2 * np.eye(n, dtype=int)[hi][None, :]])
    coef = np.hstack([np.zeros((n, 1)), np.eye(n), np.zeros((n, 1))])
    coef[lo, 1 + lo], coef[lo, -1] = math.cos(theta), math.sin(theta)
    return PolyEncoder(coef, alphas)


def anisotropic_bound(eps: float, delta: float, rho) -> T3Bound:
    """A1(c), T3 with per-coordinate ``ρ_i`` (module docstring for the proof)::

        B = (ε + 2(1 − ρ₋)√n δ) / (2g),   E_nl ≤ B,   D(h) ≤ B + (δ + B)²,

    with ``ε = L(h) − 2Σ(1 − ρ_i)``, ``δ = ‖Cov h − I‖_F``, ``g = ρ₋ − ρ₊²``. Equal ``ρ_i``
    give :func:`pycheck.theory.t3_bound`. Raises ``ValueError`` when ``g ≤ 0`` (no bound
    exists there: A1(a)).
    """
    r = check_rhos(rho)
    eps, delta = check_excesses(eps, delta)     # as t3_bound: delta < 0 or NaN gave a "bound"
    g = spectral_gap(r)
    if g <= 0:
        raise ValueError(f"no anisotropic bound: max rho^2 >= min rho (gap {g:.4g})")
    B = (eps + 2 * delta * (1 - r.min()) * math.sqrt(r.size)) / (2 * g)
    return T3Bound(energy=B, deviation=B + (delta + B) ** 2)


# ---------------------------------------------------------------- γ₂-preserving maps (A2)
# Each map acts on the pair (slow, fast) = (z_{argmax ρ}, z_{argmin ρ}) of an (N, 2) array and
# pushes γ₂ to γ₂. Most are written on u = Φ(z) ∈ [0, 1]²: a Lebesgue-preserving map of the
# square conjugated by Φ preserves γ₂.
def _on_square(fn: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]):
    def h(z: np.ndarray) -> np.ndarray:
        v1, v2 = fn(ndtr(z[:, 0]), ndtr(z[:, 1]))
        # ndtri(0) = -inf has probability 0 but float rounding can hit it; clip to the
        # largest quantile float64 resolves (|z| ≈ 38), far outside any sample's range.
        eps = np.finfo(float).tiny
        return ndtri(np.clip(np.stack([v1, v2], axis=1), eps, 1 - 1e-16))
    return h


def _sign_flip(z):
    """``(z_s, sign(z_s) z_f)``: conditionally on ``z_s`` a reflection of ``z_f``."""
    return np.stack([z[:, 0], np.sign(z[:, 0]) * z[:, 1]], axis=1)


def _spiral(rate: float):
    def h(z):
        a = rate * np.hypot(z[:, 0], z[:, 1])
        c, s = np.cos(a), np.sin(a)
        return np.stack([c * z[:, 0] - s * z[:, 1], s * z[:, 0] + c * z[:, 1]], axis=1)
    return h


GAUSSIAN_MAPS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rotation": lambda z: z.copy(),
    "sign_flip": _sign_flip,
    # radius-dependent rotations: a rotation on every circle, so γ₂ is preserved
    "spiral_0.5": _spiral(0.5),
    "spiral_2": _spiral(2.0),
    # conditional rearrangement (z_s, τ_{z_s}(z_f)), τ a circular shift of Φ(z_f) by Φ(z_s)
    "cond_shift": _on_square(lambda u, v: (u, np.mod(v + u, 1.0))),
    # baker's map: the first binary digit of Φ(z_s) moves into the second output
    "baker": _on_square(lambda u, v: (np.mod(2 * u, 1.0), (v + np.floor(2 * u)) / 2)),
    # fold (tent) map: output 1 is the even function |2Φ(z_s) − 1| of z_s (a "harmonic"),
    # output 2 carries the sign of z_s plus z_f
    "fold": _on_square(lambda u, v: (np.abs(2 * u - 1), (v + (u > 0.5)) / 2)),
}


def sign_flip_exact_alignment(rho) -> float:
    """Exact ``L`` of the sign-flip map on ``(z_s, z_f)``: ``E[sign z_s sign z_s'] =
    (2/π) arcsin ρ_s`` (Sheppard), so ``L = 2(1 − ρ_s) + 2(1 − ρ_f (2/π) arcsin ρ_s)``
    (plus ``2(1 − ρ_i)`` for the untouched coordinates)."""
    r = check_rhos(rho)
    if r.size < 2:      # one rate gave a number for a map that needs two coordinates
        raise ValueError(f"the sign-flip map acts on two coordinates: rho needs n >= 2, got "
                         f"{r.size} rate")
    s, f = r.max(), r.min()
    rest = rotation_alignment(r) - 2 * (1 - s) - 2 * (1 - f)
    return float(rest + 2 * (1 - s) + 2 * (1 - f * 2 / math.pi * math.asin(s)))


# Beyond |x| = 12 the Gaussian weight is below 1e-31: the quadratures stop there.
_CUT = 12.0


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _fold_even(x: float) -> float:
    """``Φ^{-1}(2Φ(|x|) − 1)``, the fold's first output: through ``erf`` near 0 (where it
    tends to −∞ like ``−sqrt(2 log(1/|x|))``, integrably) and through the upper tail beyond 1."""
    a = abs(x)
    if a < 1:
        return float(ndtri(max(float(erf(a / math.sqrt(2))), 1e-300)))
    return float(-ndtri(2 * ndtr(-a)))


def _half(x: float) -> float:
    """``Φ^{-1}((1 + Φ(x))/2) = −Φ^{-1}(Φ(−x)/2)``: the fold's second output when ``z_s > 0``."""
    return float(-ndtri(ndtr(-x) / 2))


def _pair_moment(u, v, r: float, singular: float | None = None, even: bool = False,
                 tol: float = 1e-10) -> float:
    """``E[u(x) v(x')]`` for a standard bivariate normal pair with correlation ``r``, as
    ``∫ φ(x) u(x) ∫ φ(t) v(r x + sqrt(1 − r²) t) dt dx`` by nested adaptive quadrature; the
    inner integral is split where ``v`` has its ``singular`` point, ``even`` uses ``u`` and the
    inner integral being even in ``x``."""
    s = math.sqrt(1 - r * r)

    def inner(x: float) -> float:
        c = r * x
        pts = [-_CUT, _CUT] if singular is None else \
            [-_CUT, min(max((singular - c) / s, -_CUT), _CUT), _CUT]
        return sum(quad(lambda t: _phi(t) * v(c + s * t), a, b, epsabs=tol, limit=100)[0]
                   for a, b in zip(pts, pts[1:]) if b > a)

    outer = lambda x: _phi(x) * u(x) * inner(x)
    if even:
        return 2 * quad(outer, 0, _CUT, epsabs=tol, limit=100)[0]
    return quad(outer, -_CUT, _CUT, epsabs=tol, limit=100)[0]


def fold_alignment(rho, tol: float = 1e-10) -> float:
    """``L`` of the fold map on ``(z_s, z_f)`` by quadrature (``n = 2``).

    ``h_1 = F(z_s)`` with ``F`` even; ``h_2 = g(z_f)`` if ``z_s > 0`` and ``−g(−z_f)`` otherwise,
    ``g(x) = Φ^{-1}((1 + Φ(x))/2)``. Both outputs are N(0, 1), so ``L = 4 − 2E[h_1h_1'] −
    2E[h_2h_2']`` with ``E[h_2 h_2'] = p A − (1 − p) B``, ``p = P(sign z_s = sign z_s') =
    1/2 + arcsin(ρ_s)/π`` (Sheppard), ``A = E[g(z)g(z')]`` at correlation ``ρ_f`` and ``B`` the
    same at ``−ρ_f``. Quadrature tolerance ``tol`` per integral (absolute).
    """
    r = check_rhos(rho)
    if r.size != 2:
        raise ValueError(f"fold_alignment is for n = 2, got {r.size} rates")
    slow, fast = r.max(), r.min()
    e1 = _pair_moment(_fold_even, _fold_even, slow, singular=0.0, even=True, tol=tol)
    a, b = _pair_moment(_half, _half, fast, tol=tol), _pair_moment(_half, _half, -fast, tol=tol)
    p = 0.5 + math.asin(slow) / math.pi
    return float(4 - 2 * e1 - 2 * (p * a - (1 - p) * b))


def gaussian_map_search(rho, size: int, rng: np.random.Generator,
                        maps: dict | None = None, chunk: int = 200_000) -> dict[str, tuple]:
    """Monte-Carlo ``L`` of every map in ``maps`` (default :data:`GAUSSIAN_MAPS`) on the
    anisotropic world ``rho`` (``n = 2``); all maps see the same pairs.

    Returns
    -------
    dict name -> (L, stderr, excess, excess_stderr): the sample mean of ``‖h(z') − h(z)‖²``
    and the sample mean of ``‖h(z') − h(z)‖² − ‖z' − z‖²``, an unbiased estimate of
    ``L(h) − 2Σ(1 − ρ_i)`` whose paired standard error is far below ``stderr``.
    """
    r = check_rhos(rho)
    if r.size != 2:
        raise ValueError(f"gaussian_map_search is for n = 2, got {r.size} rates")
    # size 0 returned a dict of NaN (session 45); 1 pair has no standard error
    size, chunk = check_int("size", size, low=2), check_int("chunk", chunk)
    maps = GAUSSIAN_MAPS if maps is None else maps
    order = [int(np.argmax(r)), int(np.argmin(r))] if r[0] != r[1] else [0, 1]
    acc = {k: np.zeros(4) for k in maps}        # Σ L, Σ L², Σ d, Σ d² with d = L − L_rot
    for start in range(0, int(size), chunk):
        z, zn = anisotropic_ou_pairs(min(chunk, int(size) - start), r, rng)
        z, zn = z[:, order], zn[:, order]
        rot = ((zn - z) ** 2).sum(1)
        for name, h in maps.items():
            v = ((h(zn) - h(z)) ** 2).sum(1)
            d = v - rot
            acc[name] += [v.sum(), (v * v).sum(), d.sum(), (d * d).sum()]
    out = {}
    for name, (s, s2, ds, ds2) in acc.items():
        m, dm = s / size, ds / size
        se = math.sqrt(max(s2 / size - m * m, 0.0) / (size - 1))
        dse = math.sqrt(max(ds2 / size - dm * dm, 0.0) / (size - 1))
        out[name] = (m, se, dm, dse)
    return out
