"""Slow feature analysis: the exact T1 minimiser within the span of fixed features.

Under the whitening constraint (``E h = 0``, ``Cov h = I``) the alignment
``E||h(x') - h(x)||²`` of a linear read-out ``h = (φ - μ) W`` of fixed features ``φ`` is
``tr(Wᵀ Ċ W)`` with ``Ċ = E[(φ' - φ)(φ' - φ)ᵀ]``, subject to ``Wᵀ C W = I`` with ``C = Cov φ``.
Its minimisers are the ``n`` lowest generalised eigenvectors of ``(Ċ, C)`` (Wiskott &
Sejnowski 2002), up to a rotation of the read-out: the same freedom T1 leaves.

Regularisation: directions of tiny variance in ``C`` (collinear features, as in the hidden
layer of a trained network) are also tiny in ``Ċ``, and their ratio is rounding noise that
can look arbitrarily slow; a ridge added to ``C`` alone does not remove them (it turns
``0 / 0`` into ``~0 / ridge``, still "slow"). So the problem is solved in the span of the
principal directions of ``C`` whose variance exceeds ``ridge`` times the largest, where
the ridge is also added.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import eigh


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
        they do not depend on the features' scale).

    Returns
    -------
    mean : ndarray (k,)
        Feature mean over both views.
    W : ndarray (k, n)
        Read-out; ``(phi - mean) @ W`` has covariance ``≈ I`` (exactly ``I`` at ridge 0).
    slowness : ndarray (n,)
        Generalised eigenvalues, ascending: ``E(h'_j - h_j)²`` of each output (per pair).
    """
    phi = np.asarray(phi, dtype=np.float64)
    phi_next = np.asarray(phi_next, dtype=np.float64)
    if phi.ndim != 2 or phi.shape != phi_next.shape:
        raise ValueError(f"phi and phi_next must be 2D of one shape, got {phi.shape} and "
                         f"{phi_next.shape}")
    k = phi.shape[1]
    both = np.concatenate([phi, phi_next])
    diff = phi_next - phi
    return sfa_from_moments(both.mean(0), np.cov(both, rowvar=False).reshape(k, k),
                            diff.T @ diff / diff.shape[0], n, ridge=ridge)


def sfa_from_moments(mean, c, c_dot, n: int, *, ridge: float = 1e-6):
    """:func:`sfa_readout` from the features' moments: ``mean`` (k,), covariance ``c`` and
    ``c_dot = E[(φ' - φ)(φ' - φ)ᵀ]`` (k, k), e.g. accumulated over chunks of pairs too
    many to hold at once. Returns ``(mean, W, slowness)`` as :func:`sfa_readout`."""
    c, c_dot = np.asarray(c, dtype=np.float64), np.asarray(c_dot, dtype=np.float64)
    if not 1 <= n <= c.shape[0]:
        raise ValueError(f"n must lie in [1, {c.shape[0]}], got {n}")
    if not ridge >= 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    evals, evecs = np.linalg.eigh(c)
    keep = evals > ridge * evals[-1]
    if keep.sum() < n:
        raise ValueError(f"the features span only {int(keep.sum())} directions above the "
                         f"ridge, fewer than n = {n}")
    # whiten within the kept span: p.T @ c_reg @ p = I, then an ordinary eigenproblem
    p = evecs[:, keep] / np.sqrt(evals[keep] + ridge * max(float(np.mean(np.diag(c))),
                                                            1e-300))
    vals, u = eigh(p.T @ c_dot @ p, subset_by_index=[0, n - 1])
    return np.asarray(mean, dtype=np.float64), p @ u, vals
