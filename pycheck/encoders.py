"""Encoders ``f``: an MLP for unknown mixings and a RealNVP encoder matched to the RealNVP mixing.

:func:`pycheck.train.fit_encoder` wraps the encoder it trains in :class:`Standardized`, which
stores the input statistics, so the returned module maps raw observations to embeddings.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .mixings import coupling_halves
from .validate import KERNELS_USED, check_int


def _apply(fn: type[torch.autograd.Function], *args: Tensor) -> Tensor:
    """``fn.apply(*args)`` without ``Function.apply``'s per-call ``inspect.signature``.

    Why: for a Function with ``setup_context`` (needed by ``torch.func``), torch 2.13's
    ``Function.apply`` binds the arguments to ``forward``'s signature through ``inspect``
    on every call: 35 against 17 us per call here (session 16), 13 calls per RealNVP
    encoder pass. Our Functions take positional arguments without defaults, so the bind
    is a no-op; outside functorch transforms this calls the C ``apply`` that
    ``Function.apply`` itself ends in, and inside them it defers to ``Function.apply``
    (vmap and grad keep working, tested)."""
    if torch._C._are_functorch_transforms_active():
        return fn.apply(*args)
    return super(torch.autograd.Function, fn).apply(*args)


class _SigmoidTanh(torch.autograd.Function):
    """``tanh(x) = 2 sigmoid(2x) - 1``; backward ``g (1 - y²)`` from the saved output."""

    generate_vmap_rule = True   # torch.func.vmap / grad work through it

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        return torch.sigmoid(2 * x).mul_(2).sub_(1)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        ctx.save_for_backward(output)

    @staticmethod
    def backward(ctx, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return torch.ops.aten.tanh_backward(g, y)


class Tanh(nn.Module):
    """``nn.Tanh`` computed as ``2 sigmoid(2x) - 1`` (within 2e-7 of tanh in float32).

    Why: torch's CPU ``tanh`` kernel is slow here: 0.70 ms for a (2048, 128) float32
    tensor on one thread against 0.19 ms for this form (sigmoid 0.11 ms; session 15,
    AVX512 host), and the hidden tanh of the RealNVP encoder's conditioner nets was 31% of
    a VICReg training step at N = 8 (torch profiler, batch 1024). The backward is torch's
    own ``tanh_backward`` of the output."""

    def forward(self, x: Tensor) -> Tensor:
        return _apply(_SigmoidTanh, x)


class MLPEncoder(nn.Sequential):
    """``dim_in -> hidden -> ... -> dim_out`` with ``depth`` hidden layers and SiLU.

    SiLU (smooth) rather than ReLU: the targets are inverses of smooth mixings, and a
    piecewise-linear fit leaves kinks that cost R² at the 1e-4 level.
    """

    def __init__(self, dim_in: int, dim_out: int, hidden: int = 128, depth: int = 3):
        # integers: 2.0 had reached torch.empty as a TypeError (session 43, a user's trial)
        for name, v in dict(dim_in=dim_in, dim_out=dim_out, hidden=hidden, depth=depth).items():
            check_int(f"MLPEncoder's {name}", v)
        layers, d = [], dim_in
        for _ in range(depth):
            layers += [nn.Linear(d, hidden), nn.SiLU()]
            d = hidden
        layers.append(nn.Linear(d, dim_out))
        super().__init__(*layers)


class ResidualMLPEncoder(nn.Module):
    """``h = A x + b + mlp(x)``: a linear path plus an :class:`MLPEncoder` branch whose last
    layer starts at zero, so training starts from a linear map of the (whitened) input --
    the identity when ``dim_in == dim_out`` -- and learns only the nonlinear correction.
    """

    def __init__(self, dim_in: int, dim_out: int, hidden: int = 128, depth: int = 3):
        super().__init__()
        self.mlp = MLPEncoder(dim_in, dim_out, hidden, depth)
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)
        self.linear = nn.Linear(dim_in, dim_out)
        if dim_in == dim_out:
            with torch.no_grad():
                self.linear.weight.copy_(torch.eye(dim_in))
                self.linear.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x) + self.mlp(x)

    def features(self, x: Tensor) -> Tensor:
        """``[x, last hidden layer]``: the output is an affine map of these features."""
        hidden = x
        for layer in list(self.mlp)[:-1]:
            hidden = layer(hidden)
        return torch.cat([x, hidden], -1)

    @torch.no_grad()
    def readout(self) -> tuple[Tensor, Tensor]:
        """The current read-out ``(weight, bias)`` in :meth:`set_readout`'s form: the output
        is ``features(x) @ weight + bias``."""
        return (torch.cat([self.linear.weight.T, self.mlp[-1].weight.T]),
                self.linear.bias + self.mlp[-1].bias)

    @torch.no_grad()
    def set_readout(self, weight: Tensor, bias: Tensor) -> None:
        """Make the output ``features(x) @ weight + bias`` (``weight``: (dim_in + hidden, dim_out))."""
        d = self.linear.in_features
        self.linear.weight.copy_(weight[:d].T)
        self.linear.bias.copy_(bias)
        self.mlp[-1].weight.copy_(weight[d:].T)
        self.mlp[-1].bias.zero_()


#: a product ``a @ b`` whose ``b`` has at most this many columns (and ``a`` more rows) is
#: computed as ``(bᵀ aᵀ)ᵀ`` (:func:`_mm`)
SKINNY = 16


def _mm(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``; when ``b`` has few columns, as ``(bᵀ aᵀ)ᵀ`` (a transposed view).

    Why: MKL's sgemm is slow for a tall product with a narrow result here, e.g. (1536, 128)
    @ (128, 8) 223 us (14 GFLOP/s) and (128, 1536) @ (1536, 4) 232 us, against 61 and 37 us
    for the same products transposed (one thread, session 15)."""
    if b.shape[1] <= SKINNY < a.shape[0]:
        return (b.T @ a.T).T
    return a @ b


class _LinearFunction(torch.autograd.Function):
    """``x wᵀ + b`` with forward and backward products through :func:`_mm`."""

    generate_vmap_rule = True   # torch.func.vmap / grad work through it

    @staticmethod
    def forward(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        # the bias in the product (addmm), not a separate pass over the output: inside a
        # training step that add of (1024, 256) took 0.25 ms (memory-bound; 0.025 ms alone;
        # torch profiler, N = 256, session 40)
        if x.dim() != 2:
            return _mm(x, w.T) + b
        if w.shape[0] <= SKINNY < x.shape[0]:             # as _mm: the transposed product
            return torch.addmm(b.unsqueeze(1), w, x.T).T
        return torch.addmm(b, x, w.T)

    @staticmethod
    def setup_context(ctx, inputs, output) -> None:
        x, w, _ = inputs
        ctx.save_for_backward(x, w)

    @staticmethod
    def backward(ctx, g: Tensor):
        x, w = ctx.saved_tensors
        gx = _mm(g, w) if ctx.needs_input_grad[0] else None
        gw = _mm(g.T, x) if ctx.needs_input_grad[1] else None
        gb = g.sum(0) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


class _CouplingFn(torch.autograd.Function):
    """A whole coupling ``y_o = x_o exp(c tanh(v / c)) + t``, ``[v | t] = W2 tanh(W1 x_c + b1)
    + b2``, for CPU float32 outside ``torch.func`` transforms (:meth:`_Coupling.transform`):
    the four products by :func:`_mm`, everything else in :mod:`pycheck.coupling_cpp`.

    Why (session 40, issue 16 item 3): in a training step the element-wise passes over the
    (batch, 128) activations are memory-bound (a bias add of (1024, 256) took 0.25 ms there
    against 0.025 ms alone), and autograd made about 30 of them per coupling: the biases,
    the tanh's four, the tail's twenty, the bias gradients' sums. Here each bias is added
    inside the pass that reads the product (the hidden tanh in place, the tail), each
    bias gradient is summed inside the pass that writes the gradient, and the tail's tanh and
    exp are recomputed by its backward rather than stored: forward two passes, backward two.
    Measured: ``scripts/coupling_tail_probe.py``, ``results/bench/coupling_tail_s40.txt``."""

    @staticmethod
    def forward(ctx, x_c, x_o, w1, b1, w2, b2, c):
        from . import coupling_cpp
        # x_c contiguous: the weight gradient's product (x_c as its narrow operand) then
        # sees one memory layout whether x_c is a column slice of the input or a previous
        # coupling's output. MKL on an AVX-512 Intel host sums such a product in another
        # order for a strided operand, so RealNVPEncoder.forward and the chain of its
        # couplings' forward differed in the last bits of that gradient (session 51)
        x_c = x_c.contiguous()
        h1 = coupling_cpp.bias_tanh_(_mm(x_c, w1.T).contiguous(), b1)
        vt, x_o = coupling_cpp._rows(_mm(h1, w2.T)), coupling_cpp._rows(x_o)
        y = coupling_cpp.tail_forward(vt, b2, x_o, c)
        ctx.save_for_backward(x_c, x_o, w1, w2, b2, c, h1, vt)
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gy):
        from . import coupling_cpp
        x_c, x_o, w1, w2, b2, c, h1, vt = ctx.saved_tensors
        need = ctx.needs_input_grad
        gvt, gxo, gb2, gc = coupling_cpp.tail_backward(gy, vt, b2, x_o, c, need[6])
        gw2 = _mm(gvt.T, h1)
        gpre = _mm(gvt, w2).contiguous()
        gb1 = coupling_cpp.tanh_grad_(gpre, h1)
        gw1 = _mm(gpre.T, x_c)
        gxc = _mm(gpre, w1) if need[0] else None
        return gxc, gxo if need[1] else None, gw1, gb1, gw2, gb2, gc


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters, initialisation and state dict) for 2-D inputs whose
    narrow products run transposed (:func:`_mm`): the RealNVP encoder's conditioner nets
    map N / 2 inputs to 128 hidden units to N outputs."""

    def forward(self, x: Tensor) -> Tensor:
        return _apply(_LinearFunction, x, self.weight, self.bias)


class _Coupling(nn.Module):
    """``y_o = x_o * exp(s(x_c)) + t(x_c)``, ``y_c = x_c``; identity at initialisation.

    The log-scale is bounded, ``s = c tanh(v / c)`` with ``v`` the conditioner net's
    output: slope 1 at 0 whatever ``c``, and ``|s| < c``. With ``learn_bound`` the bound
    ``c`` is a parameter per output coordinate (``log_bound = log c``, starting at
    ``log max_log_scale``), else the constant ``max_log_scale``. See
    :class:`RealNVPEncoder` for why it is learned."""

    def __init__(self, cond: slice, out: slice, hidden: int, max_log_scale: float,
                 learn_bound: bool = False):
        super().__init__()
        self.cond, self.out, self.max_log_scale = cond, out, max_log_scale
        d_c, d_o = cond.stop - cond.start, out.stop - out.start
        self.net = nn.Sequential(Linear(d_c, hidden), Tanh(), Linear(hidden, 2 * d_o))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        # no random draw: the other weights are those of the fixed-bound encoder, same seed
        self.log_bound = (nn.Parameter(torch.full((d_o,), math.log(max_log_scale)))
                          if learn_bound else None)

    def transform(self, x_c: Tensor, x_o: Tensor) -> Tensor:
        """The new ``y_o`` from the two halves ``x_c = x[:, cond]``, ``x_o = x[:, out]``."""
        first, act, last = self.net
        from . import coupling_cpp
        if (x_c.dim() == 2 and type(first) is Linear and type(act) is Tanh and
                type(last) is Linear and coupling_cpp.applies(x_c, x_o, first.weight)):
            KERNELS_USED.add("coupling_cpp")
            c = (self.log_bound.exp() if self.log_bound is not None else
                 torch.tensor(self.max_log_scale, dtype=x_o.dtype, device=x_o.device))
            return _apply(_CouplingFn, x_c, x_o, first.weight, first.bias, last.weight,
                          last.bias, c)
        # float64, CUDA, torch.func transforms: plain autograd (session 39's arithmetic)
        KERNELS_USED.add("coupling_torch")
        s, t = self.net(x_c).chunk(2, dim=-1)
        if self.log_bound is None:
            s = self.max_log_scale * torch.tanh(s / self.max_log_scale)
        else:
            c = self.log_bound.exp()
            s = c * torch.tanh(s / c)
        return x_o * torch.exp(s) + t

    def forward(self, x: Tensor) -> Tensor:
        y = x.clone()
        y[:, self.out] = self.transform(x[:, self.cond], x[:, self.out])
        return y


class RealNVPEncoder(nn.Module):
    """Affine-coupling encoder of the same family as :class:`pycheck.mixings.RealNVP`.

    ``n_layers`` couplings ``y_o = x_o e^{s(x_c)} + t(x_c)`` on the same coordinate halves as
    the mixing, in reverse order (the mixing's layers are the inverses of such couplings, so
    the family holds its inverse up to the conditioner nets' approximation), followed by a
    linear layer (initialised to the identity) that absorbs the free rotation and scale.
    ``seed`` draws the initial weights; couplings start at the identity.

    ``learn_bound`` (default): each coupling learns the bound ``c`` of its log-scale
    ``s = c tanh(v / c)`` (per output coordinate, starting at ``max_log_scale``). Why: the
    mixing's log-scales are ``0.6 tanh(W_s tanh(W_1 z_c + b_1))``
    (:class:`pycheck.mixings.RealNVP`), which the encoder holds exactly only when
    ``c = 0.6`` and ``v`` is linear in the hidden layer; with the constant bound 2 the
    conditioner net has to approximate ``2 atanh(0.3 tanh(.))`` of its hidden units, and
    that approximation, not the optimiser, was what capped the scaling table at N = 64
    (session 32, N = 64, seed 0, 12 000 x 1024, fresh pairs: the supervised ceiling
    0.98996 -> 0.99783, VICReg 0.98436 -> 0.99660; ``scripts/learned_bound_probe.py``,
    ``results/scaling/probes_s32.jsonl``). ``learn_bound=False`` is the encoder of the
    tables made before session 32 (bit for bit until session 39; since session 40 the CPU
    float32 couplings run in C++, :mod:`pycheck.coupling_cpp`, rounded differently).
    """

    def __init__(self, dim: int, n_layers: int = 4, hidden: int = 128, seed: int = 0,
                 max_log_scale: float = 2.0, learn_bound: bool = True):
        super().__init__()
        if dim < 2:
            raise ValueError(f"RealNVPEncoder needs dim >= 2, got {dim}")
        if n_layers < 1 or hidden < 1 or not 0 < max_log_scale < math.inf:
            # hidden = 0 built zero-width layers, max_log_scale = 0 a "math domain error" (s36)
            raise ValueError(f"RealNVPEncoder needs n_layers >= 1, hidden >= 1 and a finite "
                             f"max_log_scale > 0, got {n_layers}, {hidden}, {max_log_scale}")
        for name, v in dict(dim=dim, n_layers=n_layers, hidden=hidden).items():
            check_int(f"RealNVPEncoder's {name}", v)   # 2.5: torch's TypeError (s43)
        self.dim = dim
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.couplings = nn.ModuleList(
                _Coupling(c, o, hidden, max_log_scale, learn_bound)
                for c, o in coupling_halves(dim, n_layers)[::-1])
            self.linear = nn.Linear(dim, dim)
            with torch.no_grad():
                self.linear.weight.copy_(torch.eye(dim))
                self.linear.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        # the two halves are carried separately and joined once before the linear layer:
        # the same arithmetic as chaining the couplings' forward (bit-identical output and
        # gradients, tested), without a clone, a slice assignment and the zero-filled
        # slice gradients per layer: encoder forward + backward at batch 1024 took 0.94x
        # the time at N = 256 and 0.93x at N = 64 (2 threads, session 10)
        k = self.dim // 2
        halves = [x[:, :k], x[:, k:]]
        for c in self.couplings:
            i = 0 if c.cond.start == 0 else 1
            halves[1 - i] = c.transform(halves[i], halves[1 - i])
        return self.linear(torch.cat(halves, 1))


#: the input whitenings :func:`whitening` computes
WHITENINGS = ("zca", "diag", "none")


def check_whiten(kind) -> None:
    """``ValueError`` unless ``kind`` is one of :data:`WHITENINGS`."""
    if kind not in WHITENINGS:
        raise ValueError(f"whiten must be 'zca', 'diag' or 'none', got {kind!r}")


#: above this ratio of the largest to the smallest column spread, "zca" whitens the
#: correlation matrix after ``diag(1/std)`` instead of computing ``Cov^{-1/2}`` (see
#: :func:`whitening`)
ZCA_SCALE_RATIO = 1e3


def whitening(x: Tensor, kind: str) -> tuple[Tensor, Tensor]:
    """``(mean, transform)`` (float64) with ``(x - mean) @ transform`` whitened: ``transform``
    is ``diag(1/std)`` ("diag"), the ZCA matrix ``Cov^{-1/2}`` ("zca"; where the column
    spreads differ by more than :data:`ZCA_SCALE_RATIO`, ``diag(1/std) Corr^{-1/2}``) or the
    identity ("none")."""
    if x.dim() != 2 or x.shape[0] < 2:     # one row: a LinAlgError from eigh (session 43)
        raise ValueError(f"whitening needs a (rows, columns) sample of at least 2 rows, got "
                         f"shape {tuple(x.shape)}")
    x = x.double()
    mean = x.mean(0)
    if kind == "diag":
        tr = torch.diag(1.0 / x.std(0).clamp_min(1e-12))
    elif kind == "zca":
        std = x.std(0)
        # Column scales far apart: Cov's small eigenvalues drown in float64 rounding
        # (absolute error ~1e-16 of the largest), and columns of scales 1e-3 .. 1e6 lost a
        # direction with no word (a user's trial, session 47: R²(h→z) 0.916 against 0.980
        # unscaled). ZCA of the correlation matrix after diag(1/std) is an equally exact
        # whitening (it differs from Cov^{-1/2} by a rotation, which the encoder absorbs)
        # and needs no such precision. Below the ratio the symmetric Cov^{-1/2} is kept, so
        # every stored fit keeps its bits (the kit's worlds have ratios below 2).
        far = bool(std.min() > 0 and std.max() > ZCA_SCALE_RATIO * std.min())
        cov = torch.cov((x / std if far else x).T).reshape(x.shape[1], x.shape[1])
        evals, evecs = torch.linalg.eigh(cov)
        tr = evecs @ torch.diag(evals.clamp_min(1e-12 * evals.max()).rsqrt()) @ evecs.T
        if far:
            tr = torch.diag(1.0 / std) @ tr
    elif kind == "none":
        tr = torch.eye(x.shape[1], dtype=x.dtype)
    else:
        check_whiten(kind)
    return mean, tr


class _WithAffine(nn.Module):
    """An encoder plus a fixed affine map ``(mean, transform)`` stored as buffers."""

    def __init__(self, encoder: nn.Module, mean: Tensor, transform: Tensor):
        super().__init__()
        self.encoder = encoder
        self.register_buffer("mean", mean)
        self.register_buffer("transform", transform)


class Standardized(_WithAffine):
    """``encoder((x - mean) @ transform)``: input whitening stored with the encoder.

    ``transform`` is ``diag(1/std)`` ("diag") or the ZCA matrix ``Cov^{-1/2}`` ("zca").
    Mean and transform are float64 and applied in float64 before the cast to float32: an
    offset such as ``x = zA + 1e8`` would otherwise be rounded away with the signal.
    """

    @classmethod
    def fit(cls, encoder: nn.Module, x: Tensor, kind: str) -> "Standardized":
        return cls(encoder, *whitening(x, kind))

    def _apply(self, fn, *args, **kwargs):
        """``.to()``, ``.cuda()``, ``.float()``, ``.half()``, ...: the encoder follows; mean
        and transform move with it but stay float64 (session 36: ``.float()`` rounded a 1e8
        offset away, 0.12 on unit-variance outputs, and ``.double()`` / ``.half()`` raised
        a dtype mismatch)."""
        keep = {k: self._buffers[k] for k in ("mean", "transform")}
        super()._apply(fn, *args, **kwargs)
        for k, v in keep.items():
            self._buffers[k] = v.to(self._buffers[k].device)
        return self

    def _input_dtype(self) -> torch.dtype:
        p = next(self.encoder.parameters(), None)
        return p.dtype if p is not None and p.is_floating_point() else torch.float32

    def standardize(self, x: Tensor) -> Tensor:
        """``(x - mean) @ transform`` computed in float64, returned in the encoder's dtype
        (float32 unless the model was converted).

        A diagonal ``transform`` ("diag", the RealNVP encoder's) is applied as a product
        by its diagonal: the same bits as the matrix product for finite inputs (each
        output is one rounded product plus exact zeros; ``+ 0.0`` turns a ``-0.0`` into
        the product's ``+0.0``; tested), without its ``d``-fold work. Why: at N = 64 the
        dense float64 product took 0.28 ms per call, two calls per training step of the
        scaling experiment, 3% of a VICReg step (session 32, cProfile, one thread)."""
        y = x.double() - self.mean
        tr = self.transform
        d = torch.diagonal(tr)
        dtype = self._input_dtype()
        if torch.count_nonzero(tr) != torch.count_nonzero(d):    # not diagonal
            return (y @ tr).to(dtype)
        return y.mul_(d).add_(0.0).to(dtype)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            # a NumPy array had raised "'numpy.ndarray' object has no attribute 'double'"
            # (session 49, a user's trial)
            raise TypeError(f"the encoder takes a torch tensor of rows, got "
                            f"{type(x).__name__}; for a NumPy array use "
                            "pycheck.train.embed(model, array) or torch.from_numpy(array)")
        return self.encoder(self.standardize(x))


class OutputWhitened(_WithAffine):
    """``(encoder(x) - mean) @ transform``: a fixed ZCA whitening of a trainable encoder's
    output, fitted once on its embeddings (what :func:`pycheck.train.fit_encoder` inserts
    between a ``warm_start`` phase and the main phase)."""

    @classmethod
    def fit(cls, encoder: nn.Module, h: Tensor) -> "OutputWhitened":
        return cls(encoder, *(a.float() for a in whitening(h, "zca")))

    def forward(self, x: Tensor) -> Tensor:
        return (self.encoder(x) - self.mean) @ self.transform
