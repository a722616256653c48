"""Slow feature analysis: the exact T1 minimiser within the span of fixed features.

Under the whitening constraint (``E h = 0``, ``Cov h = I``) the alignment
``E||h(x') - h(x)||²`` of a linear read-out ``h = (φ - μ) W`` of fixed features ``φ`` is
``tr(Wᵀ Ċ W)`` with ``Ċ = E[(φ' - φ)(φ' - φ)ᵀ]``, subject to ``Wᵀ C W = I`` with ``C = Cov φ``.
Its minimisers are the ``n`` lowest generalised eigenvectors of ``(Ċ, C)`` (Wiskott &
Sejnowski 2002), up to a rotation of the read-out: the same freedom T1 leaves.

Finite samples: :func:`sfa_excess_independent` and :func:`sfa_excess_delta` give the first-order
excess ``1 − R²`` of this minimiser fitted on ``n`` pairs (the variance term a regression on
``z`` does not have: the alignment's target carries the innovation).

Regularisation: directions of tiny variance in ``C`` (collinear features, as in the hidden
layer of a trained network) are also tiny in ``Ċ``, and their ratio is rounding noise that
can look arbitrarily slow; a ridge added to ``C`` alone does not remove them (it turns
``0 / 0`` into ``~0 / ridge``, still "slow"). So the problem is solved in the span of the
principal directions of ``C`` whose variance exceeds ``ridge`` times the largest (and the
numerical-rank floor ``k * eps`` times the largest, even at ridge 0), where the ridge is
also added.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import eigh

from .validate import check_int


def sfa_readout(phi, phi_next, n: int, *, ridge: float = 1e-6):
    """Fit the whitened, alignment-minimising linear read-out of features ``phi``.

    Parameters
    ----------
    phi, phi_next : array, shape (N, k)
        Features of the two views of ``N`` positive pairs (float64 internally).
    n : int
        Output dimension, ``1 <= n <= k``.
    ridge : float
        Principal directions of ``C`` with variance below ``ridge * max eigenvalue`` are
        dropped and ``ridge * mean(diag C) * I`` is added to ``C`` (both relative, so
        they do not depend on the features' scale). Directions below the numerical rank
        (variance ``<= k * eps * max eigenvalue``, NumPy's ``matrix_rank`` rule) are
        dropped at every ridge, 0 included: their variance is rounding noise.

    Returns
    -------
    mean : ndarray (k,)
        Feature mean over both views.
    W : ndarray (k, n)
        Read-out; ``(phi - mean) @ W`` has covariance ``≈ I`` (``I`` up to rounding at
        ridge 0, rank-deficient features included: ``W`` lies in the kept span).
    slowness : ndarray (n,)
        Generalised eigenvalues, ascending: ``E(h'_j - h_j)²`` of each output (per pair).
    """
    phi = np.asarray(phi, dtype=np.float64)
    phi_next = np.asarray(phi_next, dtype=np.float64)
    _check_features(phi, phi_next)
    k = phi.shape[1]
    both = np.concatenate([phi, phi_next])
    diff = phi_next - phi
    return sfa_from_moments(both.mean(0), np.cov(both, rowvar=False).reshape(k, k),
                            diff.T @ diff / diff.shape[0], n, ridge=ridge)


def _check_features(phi: np.ndarray, phi_next: np.ndarray) -> None:
    """Two 2-D arrays of one shape, finite (a NaN reached LAPACK as "eigenvalues did not
    converge"; session 36)."""
    if phi.ndim != 2 or phi.shape != phi_next.shape:
        raise ValueError(f"phi and phi_next must be 2D of one shape, got {phi.shape} and "
                         f"{phi_next.shape}")
    for name, a in (("phi", phi), ("phi_next", phi_next)):
        if not np.isfinite(a).all():
            raise ValueError(f"{name} contains NaN or inf ({int((~np.isfinite(a)).sum())} "
                             "entries)")


def sfa_from_moments(mean, c, c_dot, n: int | None, *, ridge: float = 1e-6):
    """:func:`sfa_readout` from the features' moments: ``mean`` (k,), covariance ``c`` and
    ``c_dot = E[(φ' - φ)(φ' - φ)ᵀ]`` (k, k), e.g. accumulated over chunks of pairs too
    many to hold at once. Returns ``(mean, W, slowness)`` as :func:`sfa_readout`;
    ``n=None`` returns every direction the ridge keeps (the full generalised eigenbasis).
    ``c`` and ``c_dot`` must be symmetric (to 1e-8 of their largest entry: ``eigh`` reads
    one triangle only, so an asymmetric matrix was silently half-ignored; session 43)."""
    c, c_dot = np.asarray(c, dtype=np.float64), np.asarray(c_dot, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1] or c_dot.shape != c.shape:
        raise ValueError(f"c and c_dot must be square matrices of one shape (k, k), got "
                         f"{c.shape} and {c_dot.shape}")
    if mean.shape != (c.shape[0],):      # was passed through unchecked (session 43)
        raise ValueError(f"mean must have shape ({c.shape[0]},) like c, got {mean.shape}")
    if not (np.isfinite(c).all() and np.isfinite(c_dot).all() and np.isfinite(mean).all()):
        raise ValueError("the moments contain NaN or inf")
    for name, a in (("c", c), ("c_dot", c_dot)):
        if np.abs(a - a.T).max(initial=0.0) > 1e-8 * np.abs(a).max(initial=0.0):
            raise ValueError(f"{name} must be symmetric, got max |{name} - {name}.T| = "
                             f"{np.abs(a - a.T).max():.3g}")
    if n is not None:
        n = check_int("n", n)      # n = 2.5 was accepted (session 36)
    if n is not None and not 1 <= n <= c.shape[0]:
        raise ValueError(f"n must lie in [1, {c.shape[0]}], got {n}")
    # a real number (a 0-d array too); None raised a bare TypeError, a bool is a mistake
    if ridge is None or isinstance(ridge, (bool, np.bool_, str, bytes)) or np.ndim(ridge) != 0 \
            or not np.isrealobj(ridge) or not float(ridge) >= 0 or not np.isfinite(ridge):
        raise ValueError(f"ridge must be finite and >= 0, got {ridge}")
    evals, evecs = np.linalg.eigh(c)
    # the numerical-rank floor: at ridge 0, "> 0" kept eigenvalues of rounding noise
    # (~1e-15 of the largest) and whitened them by 1/sqrt(1e-15); rank-6 features spread
    # over 40 columns gave negative slowness (session 43, a user's trial). Full-rank
    # features keep every direction, as before.
    keep = evals > max(ridge, c.shape[0] * np.finfo(np.float64).eps) * evals[-1]
    n = int(keep.sum()) if n is None else n
    if keep.sum() < n:
        raise ValueError(f"the features span only {int(keep.sum())} directions above the "
                         f"ridge and the numerical rank, fewer than n = {n}")
    # whiten within the kept span: p.T @ c_reg @ p = I, then an ordinary eigenproblem
    p = evecs[:, keep] / np.sqrt(evals[keep] + ridge * max(float(np.mean(np.diag(c))),
                                                            1e-300))
    vals, u = eigh(p.T @ c_dot @ p, subset_by_index=[0, n - 1])
    return mean, p @ u, vals


# ------------------------------------------------- finite-sample error of the T1 minimiser
def sfa_excess_independent(rho: float, rho_junk, n_pairs: int) -> float:
    """Expected excess ``1 − R²(h→z)`` of :func:`sfa_readout` fitted on ``n_pairs`` pairs,
    to first order in ``1/n_pairs``, when the features span ``z`` (autocorrelation ``rho``
    in every coordinate) and independent Gaussian AR(1) "junk" coordinates with
    autocorrelations ``rho_junk`` (each ``-1 < ρ_j < rho``, so that ``z`` is the slowest
    span), in any invertible linear mix.

    ``Σ_j (1 − ρ²)(1 − ρ ρ_j) / (2 n (ρ − ρ_j)²)``: the same for every latent dimension, and
    independent of how the features mix ``z`` with the junk. Derivation: in whitened
    coordinates the estimated slow direction ``s`` tilts towards junk direction ``j`` by
    ``θ_js = X_js / (ρ − ρ_j)`` with ``X_js`` the sample mean of
    ``[(y_j y'_s + y'_j y_s) − ρ (y_j y_s + y'_j y'_s)] / 2`` (first-order perturbation of the
    generalised eigenproblem), whose variance is ``(1 − ρ²)(1 − ρ ρ_j) / (2n)``; each unit of
    ``Σ_j θ_js²`` is a unit of output variance uncorrelated with ``z``. Checked against
    Monte Carlo in ``tests/test_sfa_floor.py`` and ``scripts/sfa_variance_floor.py``.
    """
    from .theory import check_rho
    # a list or string as rho ended in a TypeError from '<' (session 45)
    rho = check_rho(rho)
    try:
        rj = np.asarray(rho_junk, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"the junk autocorrelations must be real numbers, got "
                         f"{rho_junk!r}") from None
    if not np.isfinite(rj).all():      # NaN passed the range test below (session 36)
        raise ValueError(f"the junk autocorrelations must be finite, got {rho_junk!r}")
    n_pairs = check_int("n_pairs", n_pairs)  # 2.5 and NaN passed, as in sfa_excess_delta
    if np.any(rj >= rho) or np.any(rj <= -1):
        raise ValueError(f"every junk autocorrelation must satisfy -1 < rho_j < rho = {rho}")
    return float(np.sum((1 - rho ** 2) * (1 - rho * rj) / (2 * n_pairs * (rho - rj) ** 2)))


def sfa_excess_delta(phi, phi_next, n: int, n_pairs: int, *, ridge: float = 1e-9,
                     chunk: int = 20000) -> float:
    """First-order prediction of ``E Σ_{s, j} θ_js² / n``: the excess ``1 − R²(h→z)`` of
    :func:`sfa_readout` fitted on ``n_pairs`` pairs of these features, estimated from the
    sample ``(phi, phi_next)`` (many more pairs than ``n_pairs``; the moments are taken as
    the population's).

    The features are whitened and rotated to their generalised eigenbasis on the sample
    (``y``, lag-one autocorrelations ``μ_k`` descending); for the ``n`` slowest ``s`` and
    every other ``j`` the per-pair term ``ξ_js = [(y_j y'_s + y'_j y_s) − μ_s (y_j y_s +
    y'_j y'_s)] / 2`` is formed and ``Σ Var(ξ_js) / (n_pairs (μ_s − μ_j)²) / n`` returned.
    Unlike :func:`sfa_excess_independent` this needs no model of the features (the junk
    may be nonlinear functions of ``z``, as Hermite polynomials or a network's units are).
    It assumes the population slow span holds ``z`` (R² at infinite sample near 1), so that
    each unit of tilt costs a unit of R²; a gap ``μ_n − μ_{n+1}`` near 0 breaks the first
    order (the prediction grows without bound, as the error does). ``ridge`` (relative
    to the largest covariance eigenvalue) drops the directions below it: features that are
    collinear to that level count as one direction, and the prediction changes with them
    (pass ``ridge=0`` for features whose covariance is well conditioned).
    """
    phi = np.asarray(phi, dtype=np.float64)
    phi_next = np.asarray(phi_next, dtype=np.float64)
    if phi.ndim != 2 or phi.shape != phi_next.shape:
        raise ValueError(f"phi and phi_next must be 2D of one shape, got {phi.shape} and "
                         f"{phi_next.shape}")
    n, n_pairs = check_int("n", n), check_int("n_pairs", n_pairs)
    chunk = check_int("chunk", chunk)   # a negative chunk skipped the loop: 0.0 (s36)
    _check_features(phi, phi_next)
    k = phi.shape[1]
    both = np.concatenate([phi, phi_next])
    diff = phi_next - phi
    mean, w, slow = sfa_from_moments(both.mean(0), np.cov(both, rowvar=False).reshape(k, k),
                                     diff.T @ diff / diff.shape[0], None, ridge=ridge)
    kept = w.shape[1]
    if kept <= n:
        raise ValueError(f"the features span {kept} directions, not more than n = {n}")
    mu = 1 - slow / 2                                   # lag-one autocorrelations, descending
    acc = np.zeros((n, kept - n))
    acc2 = np.zeros((n, kept - n))
    for lo in range(0, phi.shape[0], chunk):
        y = (phi[lo:lo + chunk] - mean) @ w
        yn = (phi_next[lo:lo + chunk] - mean) @ w
        yj, ynj = y[:, n:], yn[:, n:]
        for s in range(n):
            ys, yns = y[:, s:s + 1], yn[:, s:s + 1]
            xi = 0.5 * ((yj * yns + ynj * ys) - mu[s] * (yj * ys + ynj * yns))
            acc[s] += xi.sum(0)
            acc2[s] += (xi ** 2).sum(0)
    m = phi.shape[0]
    var = acc2 / m - (acc / m) ** 2
    return float(np.sum(var / (mu[:n, None] - mu[None, n:]) ** 2)) / (n * n_pairs)
