"""Six invertible mixing families the kit has never seen (trial hA).

Every g maps R^n -> R^n injectively and smoothly; each family's comment argues why.
Parameters are seeded by the world's name; the data by the trial script.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

# name: (family, n, rho)
WORLDS = {
    "radial-3d": ("radial", 3, 0.8),
    "autoreg-softplus-5d": ("autoreg-softplus", 5, 0.9),
    "householder-sin-8d": ("householder-sin", 8, 0.3),
    "erf-squash-6d": ("erf-squash", 6, 0.5),
    "quad-shear-2d": ("quad-shear", 2, 0.5),
    "linear-algsig-12d": ("linear-algsig", 12, 0.3),
}


def _rotation(n, rng):
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _well_conditioned(n, rng):
    """Singular values in [0.7, 1.4]: invertible, condition number <= 2."""
    return _rotation(n, rng) @ np.diag(rng.uniform(0.7, 1.4, n)) @ _rotation(n, rng)


def _softplus(t):
    return np.logaddexp(0.0, t)


def mix(name: str, z: np.ndarray) -> np.ndarray:
    family, n, _ = WORLDS[name]
    rng = np.random.default_rng([7, sum(map(ord, name)), n])
    x = np.array(z, dtype=np.float64)
    if family == "radial":
        # 6 radial flows f(x) = x + beta (x - c) / (alpha + |x - c|), a rotation before each.
        # Invertible iff beta > -alpha (Rezende & Mohamed 2015): along each ray from c the
        # radius maps r -> r (1 + beta / (alpha + r)), whose derivative 1 + beta alpha /
        # (alpha + r)^2 >= 1 + beta / alpha > 0, and 1 + beta/(alpha + r) > 0 keeps the
        # direction; r -> r + beta + O(1/r) is onto [0, inf). Rotations are bijections.
        for _ in range(6):
            x = x @ _rotation(n, rng)
            c = 0.8 * rng.standard_normal(n)
            alpha = rng.uniform(0.2, 0.6)
            beta = rng.choice([-0.9 * alpha, rng.uniform(2.0, 3.0)])
            d = x - c
            r = np.linalg.norm(d, axis=1, keepdims=True)
            x = x + beta * d / (alpha + r)
        return x
    if family == "autoreg-softplus":
        # rotation, then a triangular (autoregressive) map
        #   y_i = x_i + 0.8 softplus(1.5 x_i + s_i(x_<i)) + t_i(x_<i),
        # s_i = tanh(a_i . x_<i), t_i = 0.7 sin(b_i . x_<i + c_i); then another rotation and
        # a second triangular map in reversed order. dy_i/dx_i = 1 + 1.2 sigmoid(.) in [1, 2.2],
        # so each y_i is a strictly increasing bijection of x_i given x_<i (growth >= slope 1
        # on both sides): the triangular map is invertible coordinate by coordinate.
        for rev in (False, True):
            x = x @ _rotation(n, rng)
            y = x.copy()
            order = list(range(n))[::-1] if rev else list(range(n))
            for k, i in enumerate(order):
                prev = order[:k]
                if prev:
                    a = rng.standard_normal(len(prev)) / math.sqrt(len(prev))
                    b = 1.2 * rng.standard_normal(len(prev)) / math.sqrt(len(prev))
                    s = np.tanh(x[:, prev] @ a)
                    t = 0.7 * np.sin(x[:, prev] @ b + rng.uniform(0, 2 * math.pi))
                else:
                    s, t = 0.0, 0.0
                y[:, i] = x[:, i] + 0.8 * _softplus(1.5 * x[:, i] + s) + t
            x = y
        return x @ _rotation(n, rng)
    if family == "householder-sin":
        # 3 x (two Householder reflections H = I - 2 v v^T, elementwise t + 0.5 sin(w t + b)
        # with w in [0.8, 1.8]); slope 1 + 0.5 w cos(.) >= 1 - 0.9 = 0.1 > 0, and t + bounded
        # is onto R, so each elementwise map is a smooth increasing bijection (smooth inverse
        # since the slope is bounded below); reflections are orthogonal.
        for _ in range(3):
            for _ in range(2):
                v = rng.standard_normal(n)
                v /= np.linalg.norm(v)
                x = x - 2.0 * np.outer(x @ v, v)
            w, b = rng.uniform(0.8, 1.8, n), rng.uniform(0, 2 * math.pi, n)
            x = x + 0.5 * np.sin(w * x + b)
        return x
    if family == "erf-squash":
        # rotation, 1.5 erf(0.7 t) on 3 of the 6 coordinates, rotation, 1.5 erf(0.5 t) on 2
        # others, rotation. erf is strictly increasing and smooth, so each step is a smooth
        # injection of R^n onto an open set, with a smooth inverse there (erfinv); the
        # observations are bounded in the squashed directions.
        x = x @ _rotation(n, rng)
        x[:, :3] = 1.5 * erf(0.7 * x[:, :3])
        x = x @ _rotation(n, rng)
        x[:, 3:5] = 1.5 * erf(0.5 * x[:, 3:5])
        return x @ _rotation(n, rng)
    if family == "quad-shear":
        # 3 x (rotation, triangular shear x2 += c x1^2 - c, c = 0.5, 0.4, 0.3), rotation.
        # Each shear has the explicit inverse x2 -= c x1^2 - c (Jacobian determinant 1);
        # rotations are bijections. Polynomial of degree 8: kept mild by the small c.
        for c in (0.5, 0.4, 0.3):
            x = x @ _rotation(n, rng)
            x[:, 1] = x[:, 1] + c * (x[:, 0] ** 2 - 1.0)
        return x @ _rotation(n, rng)
    if family == "linear-algsig":
        # well-conditioned linear map + offset, then elementwise 1.5 a(1.2 u),
        # a(t) = t / sqrt(1 + t^2) (a smooth softsign: strictly increasing, slope
        # (1 + t^2)^(-3/2) > 0): an injection of R^n onto the open box (-1.5, 1.5)^n with
        # the smooth inverse t = y / sqrt(1 - y^2). Once (twice was ill-conditioned:
        # median smallest Jacobian singular value 0.016).
        u = x @ _well_conditioned(n, rng) + 0.3 * rng.standard_normal(n)
        t = 1.2 * u
        return 1.5 * t / np.sqrt(1.0 + t * t)
    raise KeyError(name)
