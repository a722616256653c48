"""Identifiability metrics: linear R², deviation from rotation, and Theorem 3's quantities.

All functions take float arrays of shape ``(N, n)`` (rows are samples) and return floats.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg import orthogonal_procrustes


def _array(name: str, v):
    """``v`` as fit_encoder takes it (session 46, an API trial: a torch tensor that needs a
    gradient or is bfloat16 raised torch's own errors here, a masked array was scored on
    the values under its mask, and numeric strings were parsed)."""
    if type(v).__module__.split(".")[0] == "torch":       # without importing torch here
        v = v.detach().cpu()
        if not v.is_complex() and v.dtype.is_floating_point:
            v = v.double()          # numpy() has no bfloat16
        v = v.numpy()
    if np.ma.is_masked(v):
        raise ValueError(f"{name} has {int(np.ma.count_masked(v))} masked entries; drop "
                         "those rows or fill them (.filled()) first")
    dtype = np.asarray(v).dtype
    if dtype.kind in "US":
        raise ValueError(f"{name} holds text ({dtype}); pass numbers")
    return v


def _pair(a, b, names=("h", "z")) -> tuple[np.ndarray, np.ndarray]:
    a, b = _array(names[0], a), _array(names[1], b)
    for name, v in zip(names, (a, b)):
        if np.iscomplexobj(v):       # float64 dropped the imaginary part with a warning (s36)
            raise ValueError(f"{name} must be real, got a complex array")
        if np.asarray(v).dtype == np.bool_:     # a mask passed by mistake scored R² 0.447 (s43)
            raise ValueError(f"{name} is boolean; it must hold real numbers (cast with "
                             ".astype(float) if 0/1 values are really meant)")
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        one = [n for n, v in zip(names, (a, b)) if v.ndim == 1]
        raise ValueError(f"{names[0]} and {names[1]} must be 2D with the same number of rows, "
                         f"got {a.shape} and {b.shape}" + (
                             f" (a single column: pass {one[0]}[:, None])" if one else ""))
    if a.shape[0] < 4:
        raise ValueError(f"need at least 4 samples, got {a.shape[0]}")
    for name, v in zip(names, (a, b)):
        if not np.isfinite(v).all():
            raise ValueError(f"{name} contains NaN or inf ({int((~np.isfinite(v)).sum())} entries)")
    return a, b


def r2_split(n_rows: int, dim: int, test_fraction: float = 0.5) -> int:
    """The rows :func:`linear_r2` scores of ``n_rows`` (the rest fit the map); ``ValueError``
    if the rest cannot fit an affine map from ``dim`` dimensions."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    n_test = max(2, int(round(test_fraction * n_rows)))
    if n_rows - n_test < dim + 1:
        raise ValueError(f"{n_rows - n_test} training rows cannot fit an affine map from "
                         f"{dim} dims")
    return n_test


def linear_r2(h, z, *, test_fraction: float = 0.5, seed: int = 0) -> float:
    """R² of the best affine map ``h -> z``, fitted on a random train part, scored held out.

    ``R² = 1 - Σ_j SSE_j / Σ_j SST_j`` over the held-out rows (variance-weighted over the
    coordinates of ``z``; ``SST`` uses the held-out mean). 1 means ``z`` is an exact affine
    function of ``h``. Use ``linear_r2(x, z)`` for the mixing's own ``R²(x -> z)``.
    """
    from .validate import check_int
    seed = check_int("seed", seed, low=0)
    h, z = _pair(h, z)
    n_test = r2_split(h.shape[0], h.shape[1], test_fraction)
    perm = np.random.default_rng(seed).permutation(h.shape[0])
    te, tr = perm[:n_test], perm[n_test:]
    mu_h, mu_z = h[tr].mean(0), z[tr].mean(0)
    coef, *_ = np.linalg.lstsq(h[tr] - mu_h, z[tr] - mu_z, rcond=None)
    resid = z[te] - (mu_z + (h[te] - mu_h) @ coef)
    sst = ((z[te] - z[te].mean(0)) ** 2).sum()
    if sst == 0:
        # "held-out rows" read as fit_encoder's held-out pairs to pycheck fit's users (s42)
        raise ValueError("z is constant on the rows that score R² (linear_r2's test part): "
                         "R² is undefined")
    return float(1.0 - (resid ** 2).sum() / sst)


def deviation_from_rotation(h, z) -> float:
    """``D = min_{Q in O(n), b} mean ||h - Q z - b||²`` (Theorem 3's left-hand side).

    The optimal ``b`` centres both sides; the optimal ``Q`` is the orthogonal Procrustes
    solution. ``h`` is used as is (no rescaling): a shrunken or stretched ``h`` counts.
    """
    h, z = _pair(h, z)
    if h.shape[1] != z.shape[1]:
        raise ValueError(f"h and z must have the same dimension, got {h.shape[1]} and {z.shape[1]}")
    hc, zc = h - h.mean(0), z - z.mean(0)
    q, _ = orthogonal_procrustes(zc, hc)  # zc @ q ≈ hc
    return float(((hc - zc @ q) ** 2).sum(1).mean())


def best_rotation(h, z) -> np.ndarray:
    """The orthogonal ``Q`` (n x n) minimising ``||(h - mean h) Q - (z - mean z)||``; ``h @ Q ≈ z``."""
    h, z = _pair(h, z)
    q, _ = orthogonal_procrustes(h - h.mean(0), z - z.mean(0))
    return q


def t3_quantities(h, h_next, z, rho: float) -> dict:
    """Empirical ``(eps, delta, D)`` of Theorem 3 and its bound, on a sample of pairs.

    ``eps = mean ||h' - h||² - 2 n (1 - rho)`` (alignment excess over the rotation optimum),
    ``delta = ||Cov h - I||_F``, ``D = deviation_from_rotation(h, z)``, and
    ``bound`` = the deviation bound of :func:`pycheck.theory.t3_bound` (its energy
    bound ``B`` is ``bound_energy``). T3 is a population statement, while ``eps`` here is a
    sample mean with standard error ``eps_se``; a sampling error of ``eps`` moves ``B`` (and,
    for small ``B``, the bound) by ``eps_se / (2 rho (1 - rho))``. For a well-trained ``h``
    the bound is small and can fall below the measured ``D`` by sampling noise alone, so
    compare ``D`` with the bound at ``eps + 2 eps_se``.
    """
    from .theory import t3_bound
    h, z = _pair(h, z)
    h_next, _ = _pair(h_next, z, ("h_next", "z"))
    if h_next.shape != h.shape:     # (N, 1) against (N, 3) broadcast silently (session 36)
        raise ValueError(f"h and h_next must have one shape, got {h.shape} and "
                         f"{h_next.shape}")
    n = h.shape[1]
    sq = ((h_next - h) ** 2).sum(1)
    eps = float(sq.mean() - 2.0 * n * (1.0 - rho))
    delta = float(np.linalg.norm(np.cov(h, rowvar=False).reshape(n, n) - np.eye(n)))
    d = deviation_from_rotation(h, z)
    b = t3_bound(eps, delta, n, rho)
    return dict(n=n, rho=float(rho), eps=eps, eps_se=float(sq.std(ddof=1) / np.sqrt(sq.size)),
                delta=delta, D=d, bound=float(b.deviation), bound_energy=float(b.energy))


def r2_summary(values) -> str:
    """``mean ± std`` with enough digits to tell 0.9999 from 0.99999."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:                  # "nan ± nan" with RuntimeWarnings (session 36)
        raise ValueError("r2_summary needs at least one value")
    sd = float(v.std(ddof=1)) if v.size > 1 else math.nan
    return f"{v.mean():.6f} ± {sd:.1e}"
