"""Straight-line planning in an encoder's latent space, decoded by nearest-neighbour retrieval.

The paper's control protocol (T4, panels (c)-(d)): given a start and a goal observation,
interpolate linearly between their embeddings ``h_s`` and ``h_g``, decode every waypoint
by retrieving the nearest embedding in a bank of observed samples ``(x_i, z_i, h_i)``, and
score the plan by the length of the decoded path *in the true latent space* ``z``,
normalised by the oracle's straight line ``||z_g - z_s||`` (ideal 1; by the triangle
inequality the ratio is always >= 1 because the decoded path starts at ``z_s`` and ends
at ``z_g``). For an encoder ``h = Q z + b`` with ``Q`` orthogonal, retrieval in ``h``
space is retrieval in ``z`` space, so the plan is the oracle's exactly (T4); a nonlinear
encoder bends the decoded path and raises the ratio. With a finite bank even the oracle's
ratio exceeds 1 slightly (retrieval jitter), which is why encoders are compared with the
oracle decoded through the same bank, not with 1.
"""
from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial import cKDTree

from .validate import check_int


def check_index_pairs(pairs, n_items: int, name: str = "pairs") -> np.ndarray:
    """``pairs`` as an integer array of shape ``(K, 2)`` with every index in
    ``[0, n_items)``; ``ValueError`` naming ``name`` otherwise. A list of pairs is converted.

    Session 43, a user's trial: 1-D or ``(K, 3)`` pairs were reshaped into a meaningless
    objective, ``-1`` was taken as the last item and float pairs failed deep inside."""
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array of shape (K, 2), got dtype "
                         f"{pairs.dtype} and shape {pairs.shape}")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n_items):
        raise ValueError(f"{name} must index [0, {n_items}), got indices from "
                         f"{pairs.min()} to {pairs.max()}")
    return pairs


def sample_pairs(z_bank: np.ndarray, k: int, rng: np.random.Generator,
                 min_dist: float = 1.0) -> np.ndarray:
    """Draw ``k`` random (start, goal) index pairs with ``||z_g - z_s|| >= min_dist``,
    independently (a pair may repeat in a small bank; it said "distinct" until session 36).

    Returns an int array of shape ``(k, 2)``. The distance floor keeps the normalising
    length away from 0, where retrieval jitter would dominate the ratio; it must be > 0, so
    that a start is never its own goal (``plan_cost`` is then 0 / 0).
    """
    if not min_dist > 0:
        raise ValueError(f"min_dist must be > 0 (a start at its own goal has no cost ratio), "
                         f"got {min_dist!r}")
    check_int("k", k)
    z_bank = np.asarray(z_bank, dtype=np.float64)
    if z_bank.ndim != 2 or len(z_bank) < 2:  # an empty bank failed in rng.integers (s43)
        raise ValueError(f"z_bank must be a 2-D array of at least 2 rows, got shape "
                         f"{z_bank.shape}")
    pairs = []
    for _ in range(1000):  # rejection sampling; a bank of normal samples accepts most pairs
        cand = rng.integers(0, len(z_bank), size=(4 * k, 2))
        ok = np.linalg.norm(z_bank[cand[:, 0]] - z_bank[cand[:, 1]], axis=1) >= min_dist
        pairs.extend(cand[ok].tolist())
        if len(pairs) >= k:
            return np.asarray(pairs[:k], dtype=np.int64)
    raise ValueError(f"could not find {k} bank pairs at distance >= {min_dist}")


def straight_line_plans(h_start: np.ndarray, h_goal: np.ndarray, n_steps: int) -> np.ndarray:
    """Waypoints ``(1 - t) h_s + t h_g`` at ``t = 0, 1/n_steps, ..., 1``.

    ``h_start``, ``h_goal``: shape ``(K, d)``. Returns shape ``(K, n_steps + 1, d)``.
    """
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps!r}")
    t = np.linspace(0.0, 1.0, n_steps + 1)[None, :, None]
    return (1.0 - t) * np.asarray(h_start)[:, None, :] + t * np.asarray(h_goal)[:, None, :]


def decode_plans(h_bank: np.ndarray, plans: np.ndarray) -> np.ndarray:
    """Nearest-neighbour decoding: bank index of every waypoint, shape ``plans.shape[:-1]``."""
    _, idx = cKDTree(np.asarray(h_bank, dtype=np.float64)).query(
        plans.reshape(-1, plans.shape[-1]))
    return idx.reshape(plans.shape[:-1])


def path_lengths(paths: np.ndarray) -> np.ndarray:
    """Length of each polyline ``paths[k]`` (shape ``(K, T+1, n)``), shape ``(K,)``."""
    return np.linalg.norm(np.diff(paths, axis=1), axis=-1).sum(axis=1)


def plan_cost(h_bank: np.ndarray, z_bank: np.ndarray, pairs: np.ndarray,
              n_steps: int = 20) -> np.ndarray:
    """Normalised control cost of straight-line latent plans, one per start-goal pair.

    Parameters
    ----------
    h_bank : (M, d) embeddings of the bank observations by the encoder under test.
    z_bank : (M, n) true latents of the same observations.
    pairs : (K, 2) bank indices of start and goal (:func:`sample_pairs`).
    n_steps : number of interpolation steps (``n_steps + 1`` waypoints).

    Returns
    -------
    (K,) array: decoded path length in ``z`` divided by ``||z_goal - z_start||`` (>= 1).

    Raises ``ValueError`` for pairs not integer ``(K, 2)`` in ``[0, M)``, a non-finite
    ``z_bank`` (a NaN in ``h_bank`` was refused, one in ``z_bank`` gave NaN ratios) and a
    pair whose start and goal share their ``z`` (the ratio is 0 / 0; session 43).
    """
    h_bank = np.asarray(h_bank, dtype=np.float64)
    z_bank = np.asarray(z_bank, dtype=np.float64)
    if len(h_bank) != len(z_bank):
        raise ValueError(f"h_bank has {len(h_bank)} rows but z_bank has {len(z_bank)}")
    if not np.isfinite(z_bank).all():
        raise ValueError(f"z_bank contains NaN or inf ({int((~np.isfinite(z_bank)).sum())} "
                         "entries)")
    pairs = check_index_pairs(pairs, len(z_bank))
    direct = np.linalg.norm(z_bank[pairs[:, 1]] - z_bank[pairs[:, 0]], axis=1)
    if np.any(direct == 0):
        raise ValueError(f"start and goal have the same z in pairs "
                         f"{np.flatnonzero(direct == 0)[:5].tolist()}: the cost ratio is 0 / 0")
    plans = straight_line_plans(h_bank[pairs[:, 0]], h_bank[pairs[:, 1]], n_steps)
    # Pin the end points to the start and goal items themselves: with duplicate
    # embeddings a nearest-neighbour query could return another item at distance 0.
    idx = decode_plans(h_bank, plans)
    idx[:, 0], idx[:, -1] = pairs[:, 0], pairs[:, 1]
    return path_lengths(z_bank[idx]) / direct


def bootstrap_ci(values: np.ndarray, seed: int = 0, n_resamples: int = 2000,
                 level: float = 0.95) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap confidence interval ``(mean, lo, hi)`` of ``values``
    (1-D, finite) at confidence ``level`` in ``(0, 1)``."""
    values = np.asarray(values, dtype=np.float64)
    # level=95 gave (2.0, nan, nan) and a NaN value (nan, nan, nan) (session 43)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1) (0.95, not 95), got {level!r}")
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D array, got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"values contain NaN or inf ({int((~np.isfinite(values)).sum())} "
                         "entries)")
    if np.ptp(values) == 0.0:  # degenerate sample: the interval is the point
        return float(values[0]), float(values[0]), float(values[0])
    res = stats.bootstrap((values,), np.mean, n_resamples=n_resamples, confidence_level=level,
                          method="percentile", rng=np.random.default_rng(seed))
    ci = res.confidence_interval
    return float(values.mean()), float(ci.low), float(ci.high)
