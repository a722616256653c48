"""Latent worlds: pairs ``(z, z')`` of consecutive latent states.

Three worlds, all returning float64 arrays of shape ``(n_samples, dim)``:

* :func:`gaussian_ou_pairs` -- the paper's world (``DESIGN.md`` section 1):
  ``z ~ N(0, I)``, ``z' = rho z + sqrt(1 - rho^2) eps``. Stationary, additive noise, Gaussian.
  Theorems T1, T3 and T4 are about this world.

* :func:`gennorm_pairs` -- the generalized-normal ablation (T2). Each component of ``z``
  has the generalized-normal law with shape ``alpha`` (density ``∝ exp(-|z/s|^alpha)``,
  ``alpha = 1`` Laplace, ``alpha = 2`` Gaussian, ``alpha = inf`` uniform), standardized to
  unit variance. The transition is a **Gaussian copula**: with ``(w, w')`` a Gaussian-OU
  pair and ``T_alpha = F_alpha^{-1} ∘ Φ`` applied componentwise,
  ``z = T_alpha(w)``, ``z' = T_alpha(w')``.

  *Why this construction.* ``z'`` has exactly the law of ``z`` (both are ``T_alpha`` of a
  standard Gaussian), so the world is exactly stationary for every ``alpha`` -- no burn-in,
  no approximation. An additive-noise world ``z' = m z + eta`` with an exactly stationary
  generalized-normal marginal does not exist in general: for linear ``m`` the marginal
  must be self-decomposable (hence infinitely divisible), which rules out the uniform and
  every ``alpha > 2`` (no non-Gaussian infinitely divisible law has tails lighter than
  Gaussian). The copula world therefore leaves T2's additive-noise class:
  ``z' = T(rho T^{-1}(z) + sqrt(1 - rho^2) eps)`` is not ``m(z) + independent noise``
  unless ``alpha = 2``.

  *What it means for T2.* T2's core statement -- an invertible affine ``h`` pushing the
  latent law to ``N(0, I)`` forces that law to be Gaussian -- does not involve the
  transition at all, so it applies unchanged: for ``alpha != 2`` no linear encoder is
  feasible and the Gaussianity constraint forces a nonlinear ``h``. The copula world even
  makes the failure exact: ``w = T_alpha^{-1}(z)`` is a Gaussian-OU world, so by T1 the
  LeJEPA minimizers are exactly ``h = Q T_alpha^{-1}(z)``, whose linear recovery is
  ``R^2 = corr(w, T_alpha(w))^2`` (:func:`copula_r2_ceiling`): 1 at ``alpha = 2`` and
  strictly below 1 elsewhere. The ablation thus tests the mechanism behind T2 (the
  Gaussianity constraint is incompatible with linear recovery of non-Gaussian latents)
  with a known target; it does not test T2's hypotheses literally. At ``alpha = 2`` the
  world *is* the Gaussian-OU world (``T_2`` is the identity).

* :func:`trajectory_pairs` -- the non-stationary "trajectory" world for the control
  experiment: consecutive states of rollouts of a goal-reaching policy with momentum,
  every episode starting in one fixed region (:func:`trajectory_rollouts` documents the
  dynamics). Its pair distribution is neither stationary nor Gaussian nor additive-noise
  in the T1 sense, the analogue of the paper's encoder trained on RL trajectories.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import special, stats
from scipy.integrate import quad

from .theory import check_rho
from .validate import check_int


def _check(n_samples: int, dim: int, rng, rho: float | None = None) -> float | None:
    """Refuse bad arguments; ``rho`` as a float (a torch scalar made z' a tensor, s43)."""
    # ints, not 10.0 or True (they passed `int(v) == v`, then failed in NumPy; s36)
    check_int("n_samples", n_samples)
    check_int("dim", dim)
    # a seed passed as rng failed as an AttributeError deep inside (s43); duck-typed, not
    # isinstance, so that wrappers with the Generator methods keep working
    if not callable(getattr(rng, "standard_normal", None)):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    return None if rho is None else check_rho(rho)


def gaussian_ou_pairs(n_samples: int, dim: int, rho: float,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stationary Gaussian-OU pairs: ``z ~ N(0, I)``, ``z' = rho z + sqrt(1-rho^2) eps``.

    Returns ``(z, z_next)``, float64 arrays of shape ``(n_samples, dim)``.
    """
    rho = _check(n_samples, dim, rng, rho)
    z = rng.standard_normal((n_samples, dim))
    z_next = rho * z + math.sqrt(1.0 - rho * rho) * rng.standard_normal((n_samples, dim))
    return z, z_next


# --------------------------------------------------------------- generalized normal
#: the finite shapes whose laws this module computes reliably (session 37, a probe of
#: gennorm_pairs and copula_r2_ceiling): below 0.05 the quantile map underflows (sample std
#: 0.0 at alpha = 0.01, NaN at 0.005); above 200 the ceiling turns non-monotone (0.9541 at
#: 300, 0.9387 at 500, 0.804 at 1000, against the uniform limit's 0.9549) and the sample
#: std drifts (0.94 at 1000). np.inf is the uniform limit.
ALPHA_RANGE = (0.05, 200.0)


def _check_alpha(alpha) -> float:
    """``alpha`` as a float in ALPHA_RANGE or inf; ``ValueError`` otherwise (a string or an
    array raised a TypeError from the comparison until session 45)."""
    from .theory import _real
    alpha = _real("alpha", alpha, "> 0 (np.inf for the uniform limit)")
    if not (alpha > 0):  # also rejects NaN
        raise ValueError(f"alpha must be > 0 (np.inf for the uniform limit), got {alpha!r}")
    lo, hi = ALPHA_RANGE
    if not math.isinf(alpha) and not lo <= alpha <= hi:
        raise ValueError(f"alpha must lie in [{lo:g}, {hi:g}] or be np.inf (the uniform "
                         f"limit): outside, the law's numerics fail; got {alpha!r}")
    return alpha


def gennorm_law(alpha: float):
    """The standardized (mean 0, variance 1) generalized-normal law as a frozen scipy law.

    ``alpha = np.inf`` gives the uniform law on ``[-sqrt 3, sqrt 3]``.
    """
    alpha = _check_alpha(alpha)
    if math.isinf(alpha):
        r3 = math.sqrt(3.0)
        return stats.uniform(loc=-r3, scale=2 * r3)
    # Var of scipy's gennorm(beta) with scale 1 is Gamma(3/beta) / Gamma(1/beta).
    scale = math.exp(0.5 * (special.gammaln(1 / alpha) - special.gammaln(3 / alpha)))
    return stats.gennorm(alpha, scale=scale)


def gaussian_to_gennorm(w: np.ndarray, alpha: float) -> np.ndarray:
    """``T_alpha = F_alpha^{-1} ∘ Φ`` componentwise: standard Gaussian -> standardized gennorm.

    Evaluated through the lower tail, ``T(w) = -sign(w) F^{-1}(Φ(-|w|))`` (the law is
    symmetric), so that ``|w|`` up to about 37 keeps full relative precision. Near the
    centre ``Φ(-|w|)`` is ``0.5 - O(|w|)``, so there the error is absolute, about 1e-16
    (relative 4e-5 at ``|w| = 1e-12`` against mpmath at alpha = 0.5 and 8); where alpha's
    ``(|z|/s)^alpha`` would underflow (from alpha about 30 at such ``|w|``) a closed form is
    exact (:func:`_gennorm_centre`).
    """
    alpha = _check_alpha(alpha)
    w = np.asarray(w, dtype=np.float64)
    if math.isinf(alpha):
        return math.sqrt(3.0) * special.erf(w / math.sqrt(2.0))
    if alpha == 2.0:
        return w.copy()
    law = gennorm_law(alpha)
    z = -np.sign(w) * law.ppf(special.ndtr(-np.abs(w)))
    # Near the centre of a large-alpha law, F^{-1} goes through u = (|z|/s)^alpha, which
    # underflows: at alpha = 200 every |w| < 0.035 came out as exactly 0 (session-45 trial).
    # There P(1/alpha, u) = u^(1/alpha) e^{-u} (1 + O(u)) / Gamma(1 + 1/alpha) and u < 1e-280,
    # so |z| = s Gamma(1 + 1/alpha) erf(|w|/sqrt2) to the last bit. Elsewhere (every alpha
    # <= 8 short of |w| < 1e-35) scipy's values are kept, bit for bit.
    return _gennorm_centre(w, z, alpha, law.kwds["scale"], forward=True)


def gennorm_to_gaussian(z: np.ndarray, alpha: float) -> np.ndarray:
    """Inverse of :func:`gaussian_to_gennorm`: the componentwise Gaussianizer ``Φ^{-1} ∘ F``.

    At ``alpha = np.inf`` the round trip ``w -> z -> w`` is ill-conditioned in the tails, for
    every formula: ``T(w) = sqrt3 (2Φ(w) − 1)`` flattens at ``sqrt3``, so half an ulp of ``z``
    moves ``w`` by about ``1e-6`` at ``|w| = 7`` and ``3e-3`` at 8, and beyond ``|w| ≈ 8.3``
    ``T(w)`` rounds to ``±sqrt3``, the end of the support, whose inverse is ``±inf``. Each
    direction is within a few ulps of exact (tested against mpmath).
    """
    alpha = _check_alpha(alpha)
    z = np.asarray(z, dtype=np.float64)
    if math.isinf(alpha):
        return math.sqrt(2.0) * special.erfinv(np.clip(z / math.sqrt(3.0), -1.0, 1.0))
    if alpha == 2.0:
        return z.copy()
    law = gennorm_law(alpha)
    w = -np.sign(z) * special.ndtri(law.cdf(-np.abs(z)))
    return _gennorm_centre(z, w, alpha, law.kwds["scale"], forward=False)


#: below this u = (|z|/s)^alpha the centre's closed form is exact in float64 (its first
#: correction is a factor 1 + O(u)); scipy's u there is subnormal or 0
_CENTRE_U = 1e-280


def _gennorm_centre(v: np.ndarray, out: np.ndarray, alpha: float, scale: float,
                    forward: bool) -> np.ndarray:
    """``out`` with its entries near the law's centre, where ``(|z|/s)^alpha < 1e-280``
    (``s``: the law's ``scale``), replaced by the closed form
    ``|z| = s Gamma(1 + 1/alpha) erf(|w|/sqrt2)`` (``forward``: ``v`` is w) or its inverse
    (``v`` is z)."""
    c = scale * math.exp(special.gammaln(1.0 + 1.0 / alpha))     # |z| = c erf(|w|/sqrt2)
    a = np.abs(v)
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        z_abs = c * special.erf(a / math.sqrt(2.0)) if forward else a
        centre = alpha * np.log(z_abs / scale) < math.log(_CENTRE_U)
    if not np.any(centre):
        return out
    scalar = np.ndim(out) == 0
    out = np.array(out, dtype=np.float64)
    if forward:
        out[centre] = (np.sign(v) * z_abs)[centre]
    else:
        out[centre] = (np.sign(v) * math.sqrt(2.0) * special.erfinv(a / c))[centre]
    return out[()] if scalar else out      # a 0-d input gives a NumPy scalar, as before


def gennorm_pairs(n_samples: int, dim: int, alpha: float, rho: float,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Exactly stationary pairs with i.i.d. standardized generalized-normal components.

    Gaussian-copula transition (see the module docstring for why and what it implies):
    ``z = T_alpha(w)``, ``z' = T_alpha(w')`` with ``(w, w')`` from :func:`gaussian_ou_pairs`.
    ``alpha = 2`` reproduces the Gaussian-OU world draw for draw; ``alpha = np.inf`` is the
    uniform limit. Returns float64 arrays of shape ``(n_samples, dim)``.
    """
    alpha = _check_alpha(alpha)
    w, w_next = gaussian_ou_pairs(n_samples, dim, rho, rng)
    return gaussian_to_gennorm(w, alpha), gaussian_to_gennorm(w_next, alpha)


def copula_r2_ceiling(alpha: float) -> float:
    """Linear recovery ``R^2(h -> z)`` of the exact LeJEPA minimizer in the copula world.

    The minimizers are ``h = Q T_alpha^{-1}(z)`` (module docstring), so per component
    ``R^2 = corr(w, T_alpha(w))^2 = (E[w T_alpha(w)])^2`` with ``w ~ N(0, 1)`` (both unit
    variance). Equal to 1 only at ``alpha = 2``. Computed by adaptive quadrature.
    """
    alpha = _check_alpha(alpha)
    if alpha == 2.0:
        return 1.0
    # The integrand is odd x odd = even: integrate over w >= 0 and double. Beyond w = 12
    # the Gaussian weight exp(-72) makes the rest negligible (T grows polynomially).
    f = lambda w: w * float(gaussian_to_gennorm(np.array(w), alpha)) * math.exp(-0.5 * w * w)
    val, _ = quad(f, 0.0, 12.0, limit=200, epsabs=1e-12)
    return float((2.0 * val / math.sqrt(2.0 * math.pi)) ** 2)


# --------------------------------------------------------------- trajectory world
def trajectory_rollouts(n_episodes: int, dim: int, rng: np.random.Generator, *,
                        horizon: int = 40, start_center: float = -1.5,
                        start_radius: float = 0.2, goal_std: float = 1.0,
                        momentum: float = 0.8, gain: float = 0.05,
                        noise: float = 0.03) -> np.ndarray:
    """Rollouts of a goal-reaching policy with momentum; shape ``(n_episodes, horizon+1, dim)``.

    Each episode starts near the fixed point ``start_center * (1, ..., 1)``
    (``z_0 = c + start_radius * N(0, I)``), draws a goal ``g ~ N(0, goal_std^2 I)`` and
    follows the damped controller

        ``v_{t+1} = momentum * v_t + gain * (g - z_t) + noise * xi_t``,
        ``z_{t+1} = z_t + v_{t+1}``,    ``v_0 = 0``.

    The state distribution drifts with ``t`` (from the start region towards the goals,
    overshooting because of momentum), so the world is non-stationary; the step
    ``z_{t+1} - z_t`` depends on the hidden velocity and goal, so it is not a function of
    ``z_t`` plus independent noise.
    """
    _check(n_episodes, dim, rng)
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1, got {horizon!r}")
    z = np.empty((n_episodes, horizon + 1, dim))
    z[:, 0] = start_center + start_radius * rng.standard_normal((n_episodes, dim))
    goal = goal_std * rng.standard_normal((n_episodes, dim))
    v = np.zeros((n_episodes, dim))
    for t in range(horizon):
        v = momentum * v + gain * (goal - z[:, t]) + noise * rng.standard_normal((n_episodes, dim))
        z[:, t + 1] = z[:, t] + v
    return z


def trajectory_pairs(n_samples: int, dim: int, rng: np.random.Generator, *,
                     horizon: int = 40, **policy) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive-state pairs ``(z_t, z_{t+1})`` from :func:`trajectory_rollouts`.

    Uses ``ceil(n_samples / horizon)`` episodes, all time steps of each, and returns the
    first ``n_samples`` pairs in random order (float64, shape ``(n_samples, dim)``).
    ``policy`` keywords are passed to :func:`trajectory_rollouts`.
    """
    _check(n_samples, dim, rng)
    check_int("horizon", horizon)          # before the division (ZeroDivisionError at 0)
    roll = trajectory_rollouts(-(-n_samples // horizon), dim, rng, horizon=horizon, **policy)
    z, z_next = roll[:, :-1].reshape(-1, dim), roll[:, 1:].reshape(-1, dim)
    idx = rng.permutation(len(z))[:n_samples]
    return z[idx], z_next[idx]
