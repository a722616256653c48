"""Invertible nonlinear mixings ``x = g(z)``: the "unknown world process" of the paper.

Every mixing maps float64 arrays of shape ``(N, dim)`` to the same shape and has an
explicit inverse (``inverse(forward(z)) == z`` up to rounding; tested in
``tests/test_mixings.py``). The 2D shapes of the paper's figure act on consecutive
coordinate pairs ``(z_0, z_1), (z_2, z_3), ...`` when ``dim > 2`` (an odd last coordinate
passes through), so every mixing is defined for every ``dim >= 2``.

* ``spiral``     -- rotate each pair by the angle ``a * r`` with ``r`` the pair's radius.
  Radius is preserved and the map is a rotation on each circle, so its Jacobian
  determinant is 1 and the law ``N(0, I)`` is preserved (measure-preserving w.r.t. the
  Gaussian): ``x`` is itself exactly Gaussian, yet not a linear function of ``z``.
* ``parabolic``  -- shear ``x_0 = z_0, x_1 = z_1 + a z_0^2``.
* ``sinusoidal`` -- shear ``x_0 = z_0, x_1 = z_1 + a sin(b z_0)``.
* ``realnvp``    -- a seeded stack of affine coupling layers (Dinh et al., 2017) with small
  random tanh networks and bounded log-scales, followed by nothing else: ``x`` stays in
  the RealNVP family that :class:`pycheck.encoders.RealNVPEncoder` can represent.

The strengths are chosen so that a linear read-out of ``z`` from ``x`` is clearly imperfect:
``R^2(x -> z)`` is 0.79-0.85 for the 2D shapes (spiral 0.846, parabolic 0.791, sinusoidal
0.850) and, for ``realnvp`` with ``seed=0``, 0.82 / 0.77 / 0.76 / 0.68 / 0.68 / 0.67 / 0.68 at
N = 2 / 4 / 8 / 16 / 32 / 64 / 256 (other seeds differ: 0.91 and 0.87 at N = 2 with seeds 1
and 2; the paper's table: 0.73-0.78). Measured in session 36 on 400 000 samples (100 000 at
N = 32, 64; 60 000 at N = 256) with :func:`pycheck.metrics.linear_r2`; the figures given
before (0.80-0.86, 0.86 / 0.77 / 0.70 / 0.67 / 0.65) were not this code's.
"""
from __future__ import annotations

import math

import numpy as np

NAMES = ("spiral", "parabolic", "sinusoidal", "realnvp")

SPIRAL_RATE = 0.6       # radians of rotation per unit radius
PARABOLIC_A = 0.6
SINUSOIDAL_A, SINUSOIDAL_B = 1.0, 2.0


def _as_2d(z: np.ndarray, dim: int, dtype=np.float64) -> np.ndarray:
    if np.dtype(dtype) not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"mixings compute in float64 or float32, got dtype {dtype!r}")
    z = np.asarray(z, dtype=dtype)
    if z.ndim != 2 or z.shape[1] != dim:
        raise ValueError(f"expected an array of shape (N, {dim}), got {z.shape}")
    return z


class Mixing:
    """An invertible map ``R^dim -> R^dim`` acting row-wise on ``(N, dim)`` arrays."""

    name = "mixing"

    def __init__(self, dim: int):
        if int(dim) != dim or dim < 2:
            raise ValueError(f"mixings need dim >= 2, got {dim!r}")
        self.dim = int(dim)

    def forward(self, z: np.ndarray, dtype=np.float64) -> np.ndarray:
        """``g(z)`` computed in ``dtype``: float64 (the default), or float32 for the
        experiments' fresh training pairs (:mod:`pycheck.experiments._common`), which the
        encoder sees in float32 anyway: within 2e-5 of float64 (tested), 2.2x faster for
        RealNVP at N = 64 (1536 rows: 1.09 vs 2.49 ms, one thread, session 16), a sixth
        of a VICReg training step there."""
        return self._forward(_as_2d(z, self.dim, dtype).copy())

    def inverse(self, x: np.ndarray) -> np.ndarray:
        return self._inverse(_as_2d(x, self.dim).copy())

    __call__ = forward

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class _PairMixing(Mixing):
    """A 2D map applied to each consecutive coordinate pair."""

    def _pairs(self, a: np.ndarray):
        m = self.dim // 2 * 2
        return a[:, 0:m:2], a[:, 1:m:2]


class Spiral(_PairMixing):
    name = "spiral"

    def __init__(self, dim: int, rate: float = SPIRAL_RATE):
        super().__init__(dim)
        self.rate = rate

    def _rotate(self, a: np.ndarray, sign: float) -> np.ndarray:
        u, v = self._pairs(a)
        phi = sign * self.rate * np.hypot(u, v)  # radius is invariant, so forward and
        c, s = np.cos(phi), np.sin(phi)          # inverse use the same angle
        a[:, 0:2 * u.shape[1]:2], a[:, 1:2 * u.shape[1]:2] = c * u - s * v, s * u + c * v
        return a

    def _forward(self, z):
        return self._rotate(z, 1.0)

    def _inverse(self, x):
        return self._rotate(x, -1.0)


class Parabolic(_PairMixing):
    name = "parabolic"

    def __init__(self, dim: int, a: float = PARABOLIC_A):
        super().__init__(dim)
        self.a = a

    def _forward(self, z):
        u, v = self._pairs(z)
        v += self.a * u ** 2
        return z

    def _inverse(self, x):
        u, v = self._pairs(x)
        v -= self.a * u ** 2
        return x


class Sinusoidal(_PairMixing):
    name = "sinusoidal"

    def __init__(self, dim: int, a: float = SINUSOIDAL_A, b: float = SINUSOIDAL_B):
        super().__init__(dim)
        self.a, self.b = a, b

    def _forward(self, z):
        u, v = self._pairs(z)
        v += self.a * np.sin(self.b * u)
        return z

    def _inverse(self, x):
        u, v = self._pairs(x)
        v -= self.a * np.sin(self.b * u)
        return x


def coupling_halves(dim: int, n_layers: int) -> list[tuple[slice, slice]]:
    """``(conditioning, transformed)`` coordinate slices per layer, alternating halves.

    Layer ``l`` leaves ``x[:, cond]`` unchanged and transforms ``x[:, out]`` conditioned on
    it. Shared by :class:`RealNVP` and :class:`pycheck.encoders.RealNVPEncoder` so that the
    encoder (with the layers in reverse order) can represent the exact inverse.
    """
    a, b = slice(0, dim // 2), slice(dim // 2, dim)
    return [(a, b) if l % 2 == 0 else (b, a) for l in range(n_layers)]


class RealNVP(Mixing):
    """Seeded affine-coupling flow ``x = c_L ∘ ... ∘ c_1 (z)``.

    Layer ``l`` with conditioning half ``c`` and transformed half ``o``:
    ``x_o = (z_o - t(z_c)) * exp(-s(z_c))``, where ``s = scale * tanh(W_s tanh(W_1 z_c + b_1))``
    (bounded log-scale, |s| <= scale) and ``t = shift * W_t tanh(W_1 z_c + b_1)``; the weights are Gaussian with variance
    1/fan-in, hence O(1) pre-activations at every ``dim``. Inverse: run the layers
    backwards with ``z_o = x_o * exp(s(x_c)) + t(x_c)`` -- the coupling form of
    :class:`pycheck.encoders.RealNVPEncoder` (same halves, reverse order), which is why the
    layers are written "inverse first": the matched encoder represents the inverse's shifts
    exactly and its log-scales up to the squashing function (its conditioner nets are
    wider, 128 vs 32 hidden units).
    """

    name = "realnvp"

    def __init__(self, dim: int, seed: int = 0, n_layers: int = 4, hidden: int = 32,
                 scale: float = 0.6, shift: float = 1.1):
        super().__init__(dim)
        rng = np.random.default_rng([seed, 0x5EA1])
        self.halves = coupling_halves(self.dim, n_layers)
        self.layers = []
        for c, o in self.halves:
            d_in, d_out = c.stop - c.start, o.stop - o.start
            self.layers.append(dict(
                w1=rng.standard_normal((d_in, hidden)) / math.sqrt(d_in),
                b1=0.5 * rng.standard_normal(hidden),
                ws=rng.standard_normal((hidden, d_out)) / math.sqrt(hidden),
                wt=rng.standard_normal((hidden, d_out)) / math.sqrt(hidden)))
        self.scale, self.shift = scale, shift
        self._layers32 = [{k: v.astype(np.float32) for k, v in p.items()} for p in self.layers]

    def _params(self, a: np.ndarray) -> list[dict]:
        """The layers' weights in ``a``'s dtype (float32 copies for float32 inputs)."""
        return self._layers32 if a.dtype == np.float32 else self.layers

    def _st(self, p: dict, a: np.ndarray):
        hid = np.tanh(a @ p["w1"] + p["b1"])
        return self.scale * np.tanh(hid @ p["ws"]), self.shift * (hid @ p["wt"])

    def _forward(self, z):
        for (c, o), p in zip(self.halves, self._params(z)):
            s, t = self._st(p, z[:, c])
            z[:, o] = (z[:, o] - t) * np.exp(-s)
        return z

    def _inverse(self, x):
        for (c, o), p in zip(self.halves[::-1], self._params(x)[::-1]):
            s, t = self._st(p, x[:, c])
            x[:, o] = x[:, o] * np.exp(s) + t
        return x


def make_mixing(name: str, dim: int, seed: int = 0) -> Mixing:
    """The mixing ``name`` (one of :data:`NAMES`) on ``R^dim``; ``seed`` draws RealNVP's weights.

    The three 2D shapes are deterministic (``seed`` is ignored).
    """
    if name == "spiral":
        return Spiral(dim)
    if name == "parabolic":
        return Parabolic(dim)
    if name == "sinusoidal":
        return Sinusoidal(dim)
    if name == "realnvp":
        return RealNVP(dim, seed=seed)
    raise ValueError(f"unknown mixing {name!r}; valid: {', '.join(NAMES)}")
