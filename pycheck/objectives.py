"""Training objectives: alignment, SIGReg, VICReg, InfoNCE, and the LeJEPA combinations.

Shapes: ``h, h_next`` are ``(B, n)`` tensors (a batch of embedded positive pairs).

The LeJEPA losses used for training (:func:`make_objective`) are

    loss = alignment(h, h') / n  +  lam * regularizer,

with the alignment divided by ``n`` so that one ``lam`` serves every latent dimension: at the
optimum ``alignment / n = 2(1 - rho)`` for all ``n``, while SIGReg (a mean over slices) and
VICReg (means over coordinates) do not grow with ``n``. The regularizer is averaged over
the two views ``h`` and ``h'`` (both are marginally ``N(0, I)`` at the optimum), as LeJEPA
averages over views.

Chosen weights (documented here once, used everywhere), from small sweeps on 2D mixings
(400-2000 steps; R²(h→z) of the result in brackets):

* SIGReg: ``lam`` ramps geometrically from ``lam_start = 0.003`` to ``lam = 3`` over training
  (0.993 on a fresh 2D shear in 400 steps; constant 0.01 / 0.1 / 1: 0.962 / 0.927 / worse).
  Why a ramp: with a weak penalty ``h`` shrinks (``h ≈ c Qz``, ``c < 1``), and SIGReg's
  restoring force on a shrunken Gaussian, ``∝ Σ_k w_k t_k Δφ_k sin(t_k y)``, is a nonlinear
  function of ``y``: the penalised optimum is bent, not just scaled. A strong penalty removes
  that bias but its stiff, slice-noisy gradient dominates Adam's normaliser and slows the
  removal of nonlinear energy. Starting weak and ending strong (when the lr is small) gets
  both: a penalty-method continuation of the constraint ``h ~ N(0, I)``.
* VICReg (used as the paper does, as a second-moment constraint): ``lam = 1`` on
  ``var + 1 * cov`` with the variance hinge ``mean_j relu(1 - std_j)`` and the covariance
  term ``Σ_{i≠j} C_ij² / n``. With ``lam < 4(1 - rho)`` (true at our ``rho = 0.5``; for
  ``rho > 0.75`` pass a smaller ``lam``) the hinge stays active (``std_j =
  lam / (4(1 - rho))`` for a linear ``h``), i.e. a constant outward force: whitening up to a
  common scale, which R² ignores. ``lam = 5`` (hinge at its kink, ``std = 1``) made the
  gradient switch on and off and cut R² from 0.996 to 0.934 at 400 steps.
* ``scale_free=True`` (SIGReg, VICReg): the alignment is divided by the batch's mean
  variance, ``(E||h' - h||² / n) / (½(mean_j Var h_j + mean_j Var h'_j))``. On ``N(0, I)``
  the two are equal, and ``h = Qz`` minimises both terms at once (the normalised alignment
  is smallest, ``2(1 - rho)``, for every linear ``h``; SIGReg is 0), so the penalised
  optimum is exact at *every* ``lam``: no shrinking, hence no bend, and no ramp is needed.
  A small constant weight then keeps SIGReg's slice noise small. Measured on the scaling
  world (RealNVP mixing, matched encoder, rho 0.5, seed 0 = the tuning seed, fresh pairs,
  10 000 x 256 at N <= 8, 6000 x 256 above; ``results/scaling/probes_s11.jsonl``):
  R²(h→z) with the default ramp 0.9885 / 0.9642 / 0.795 / 0.755 at N = 2 / 8 / 32 / 64;
  scale-free with constant ``lam`` 0.01: 0.9964 / 0.9936 / 0.781 / 0.744; 0.03: 0.9967 /
  0.9909 / 0.849 / 0.800; 0.3: 0.9916 / 0.936 / - / 0.763; 3: 0.975 / 0.855. Too weak a
  weight lets the embedding collapse in high dimension (N = 64, 0.03, 3000 steps: Cov(h)
  eigenvalues 1.5e-4 ... 2.8): the sliced statistic's pull on one coordinate falls like
  N^-2 (``results/scaling/sigreg_dilution.md``); more slices cut the slice noise and so
  allow a stronger weight there (the scaling quick profile: weight 0.003 at N <= 8 up to
  0.02 at N = 64, 512 slices from N = 32; ``experiments/scaling.toml``). Not the default of ``"sigreg"``: a weak
  Gaussianity pull also weakens what the generalized-normal ablation (T2) measures.
  For VICReg, whose hinge is already a linear restoring force (no bend), it did not help
  (N = 8: 0.9938 -> 0.9911).
* InfoNCE: Gaussian kernel ``k(a, b) = exp(-||a - b||² / (2 sigma²))``, ``sigma = 1`` (the
  paper's fixed width), positives ``(h_i, h'_i)``, negatives ``h'_j, j ≠ i`` in the batch,
  symmetrised over the two directions. It has no separate regularizer.
"""
from __future__ import annotations

import math
import numbers
import os
import warnings
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable
from torch.utils._python_dispatch import is_in_torch_dispatch_mode

from .validate import KERNEL_FAILURES, KERNELS_USED, reraise_interruption

OBJECTIVES = ("sigreg", "vicreg", "infonce")


def alignment(h: Tensor, h_next: Tensor) -> Tensor:
    """``E ||h' - h||²`` over the batch (sum over coordinates, mean over rows)."""
    if h.shape != h_next.shape:     # (4, 3) against (1, 3) had broadcast (session 43)
        raise ValueError(f"alignment: the two views must have one shape, got "
                         f"{tuple(h.shape)} and {tuple(h_next.shape)}")
    return (h_next - h).square().sum(-1).mean()


# ---------------------------------------------------------------- SIGReg
def _trapezoid_gauss_weights(num_knots: int, t_max: float, dtype=torch.float64):
    """Knots ``t_k = k t_max/(K-1)``, target CF ``phi = exp(-t²/2)`` and quadrature weights.

    As in LeJEPA: integrate on ``[0, t_max]`` and double (the integrand is even), trapezoid
    weights ``dt`` (ends) and ``2 dt`` (interior), times the Gaussian window ``phi``.
    """
    t = torch.linspace(0.0, t_max, num_knots, dtype=dtype)
    dt = t_max / (num_knots - 1)
    w = torch.full((num_knots,), 2 * dt, dtype=dtype)
    w[[0, -1]] = dt
    phi = torch.exp(-t.square() / 2)
    return t, phi, w * phi


def _rotations(c_step: Tensor, s_step: Tensor, cos_rows: Tensor, sin_rows: Tensor) -> None:
    """Continue ``cos_rows[:, j] = cos((j0 + j) a)`` (same for sin) by angle addition.

    Rows 0 of ``cos_rows``/``sin_rows`` must be filled; each further row is the previous one
    rotated by ``(c_step, s_step) = (cos a, sin a)`` (no further cos/sin; rounding error
    grows only linearly in the number of rows).
    """
    for j in range(1, cos_rows.shape[1]):
        c, s = cos_rows[:, j - 1], sin_rows[:, j - 1]
        torch.mul(c, c_step, out=cos_rows[:, j]).addcmul_(s, s_step, value=-1.0)
        torch.mul(s, c_step, out=sin_rows[:, j]).addcmul_(c, s_step)


def _once() -> None:
    """Refuse a second derivative through SIGReg's hand-written backwards, as the C++ node
    does: with ``create_graph=True`` their gradient came back with no graph, so the second
    derivative was silently that of a constant (session 42, a user's trial;
    ``once_differentiable`` would not have caught it: the incoming gradient needs no grad)."""
    if torch.is_grad_enabled():
        raise RuntimeError("SIGReg's backward is differentiable once (create_graph=True is "
                           "not supported)")


class _EvenKnotECF(torch.autograd.Function):
    """Epps–Pulley statistic per slice at evenly spaced knots ``t_k = k t0``, k < K.

    Why it is fast: the knot ``k = 0`` contributes nothing (``ECF(0) = phi(0) = 1``); write
    every other ``k = q m + j`` (``1 <= j <= q``, ``0 <= m < p``, ``q = ceil(sqrt(K-1))``).
    By angle addition ``cos(k θ) = cos(q m θ) cos(j θ) - sin(q m θ) sin(j θ)`` (and the same
    for ``sin``), so the batch means ``mean_i cos/sin(k θ_i)`` for all knots are entries of
    one small matrix product per slice, ``[cos(qmθ), sin(qmθ)] @ [cos(jθ), sin(jθ)]ᵀ / B``
    with ``θ = t0 y``. The ``2q + 2p - 1`` rows come from a single ``cos θ, sin θ`` by
    angle-addition recurrences (``q + p - 2`` rotations), the ``B x S x K`` tensor of the
    reference is never built, and the backward pass is one more batched matmul with no
    transcendental function (derivatives reuse the rows).
    """

    @staticmethod
    def forward(ctx, y: Tensor, t0: float, phi: Tensor, weights: Tensor) -> Tensor:
        # y: (G, B) projections (G = views x slices); returns the statistic per row, (G,)
        n_k = phi.numel() - 1                        # knots k = 1 .. K-1
        q = math.ceil(math.sqrt(n_k))
        p = math.ceil(n_k / q)
        G, B = y.shape
        theta = t0 * y
        r_rows = y.new_empty(G, 2 * q, B)            # cos(j θ), sin(j θ), j = 1..q
        torch.cos(theta, out=r_rows[:, 0])
        torch.sin(theta, out=r_rows[:, q])
        c1, s1 = r_rows[:, 0], r_rows[:, q]
        _rotations(c1, s1, r_rows[:, :q], r_rows[:, q:])
        m_rows = y.new_empty(G, 2 * p - 1, B)        # cos(q m θ), m < p; sin(q m θ), 1 <= m < p
        m_rows[:, 0] = 1.0
        if p > 1:
            m_rows[:, 1], m_rows[:, p] = r_rows[:, q - 1], r_rows[:, 2 * q - 1]
            _rotations(r_rows[:, q - 1], r_rows[:, 2 * q - 1], m_rows[:, 1:p], m_rows[:, p:])
        prod = m_rows @ r_rows.transpose(1, 2) / B                       # (G, 2p-1, 2q)
        prod = torch.cat([prod[:, :p], prod.new_zeros(G, 1, 2 * q), prod[:, p:]], 1)
        cos_m = (prod[:, :p, :q] - prod[:, p:, q:]).reshape(G, p * q)[:, :n_k]
        sin_m = (prod[:, p:, :q] + prod[:, :p, q:]).reshape(G, p * q)[:, :n_k]
        dc = cos_m - phi[1:]
        stat = B * ((dc.square() + sin_m.square()) @ weights[1:])
        ctx.save_for_backward(r_rows, m_rows, dc, sin_m, weights)
        ctx.t0, ctx.q, ctx.p = t0, q, p
        return stat

    @staticmethod
    def backward(ctx, grad_stat: Tensor):
        _once()
        r_rows, m_rows, dc, sin_m, weights = ctx.saved_tensors
        q, p, n_k = ctx.q, ctx.p, dc.shape[-1]
        k = torch.arange(1, n_k + 1, dtype=dc.dtype, device=dc.device)
        # d stat / d theta_i = sum_k 2 w_k k [ -(C_k - phi_k) sin(k θ_i) + S_k cos(k θ_i) ]
        scale = 2 * weights[1:] * k * grad_stat.unsqueeze(-1)             # (G, K-1)
        pad = p * q - n_k
        u = F.pad(scale * dc, (0, pad)).reshape(-1, p, q)                 # coefficient of -sin
        v = F.pad(scale * sin_m, (0, pad)).reshape(-1, p, q)              # coefficient of cos
        # sin(kθ) = sM cR + cM sR,  cos(kθ) = cM cR - sM sR   (M: q m θ, R: j θ)
        g = torch.cat([torch.cat([v, -u], 2), torch.cat([-u[:, 1:], -v[:, 1:]], 2)], 1)
        grad_theta = ((g @ r_rows) * m_rows).sum(1)                       # (G, B)
        return grad_theta * ctx.t0, None, None, None


def _harmonics(c: Tensor, s: Tensor, num_k: int) -> list[tuple[Tensor, Tensor]]:
    """``[(cos kθ, sin kθ) for k = 1..num_k]`` from ``c = cos θ``, ``s = sin θ``, no cos/sin.

    Each power of ``e^{iθ}`` is the product of two lower ones, ``k = a + (k - a)`` with
    ``a`` the largest power of two below ``k`` (a doubling tree): depth ``log2 num_k``
    instead of ``num_k`` for the angle-addition chain. Measured on this CPU with
    :func:`torch.compile` (256 x 2048 angles, one thread): the fused forward pass took 0.83
    ms with the tree against 2.25 ms with the chain (the chain's one long dependency leaves
    the vector units idle), less than the 1.29 ms of a separate ``torch.cos`` and
    ``torch.sin``. Rounding error grows at most linearly in ``k``, as for the chain.
    """
    powers = [(c, s)]
    for k in range(2, num_k + 1):
        a = 1 << ((k - 1).bit_length() - 1)
        (c1, s1), (c2, s2) = powers[a - 1], powers[k - a - 1]
        powers.append((c1 * c2 - s1 * s2, s1 * c2 + c1 * s2))
    return powers


def _ecf_forward(y: Tensor, t0: float, phi: Tensor, weights: Tensor):
    """Statistic per row of ``y`` (``(G, B)``) and what its gradient needs.

    Returns ``cos θ, sin θ`` (``θ = t0 y``), ``ECF_re - phi`` and ``ECF_im`` at knots
    ``1..K-1`` (``(G, K-1)``) and the statistic ``(G,)``. Written for
    :func:`torch.compile`, which fuses one cos/sin pair, the harmonics and all ``2(K-1)``
    batch means into one pass over ``y``.
    """
    theta = t0 * y
    c, s = torch.cos(theta), torch.sin(theta)
    powers = _harmonics(c, s, phi.shape[0] - 1)
    dc = torch.stack([ck.mean(-1) for ck, _ in powers], -1) - phi[1:]
    sin_m = torch.stack([sk.mean(-1) for _, sk in powers], -1)
    stat = y.shape[-1] * ((dc.square() + sin_m.square()) * weights[1:]).sum(-1)
    return c, s, dc, sin_m, stat


def _ecf_backward(c: Tensor, s: Tensor, dc: Tensor, sin_m: Tensor, weights: Tensor,
                  grad_stat: Tensor, t0: float) -> Tensor:
    """Gradient of :func:`_ecf_forward`'s statistic with respect to ``y``, no cos/sin.

    ``d stat / d θ_i = sum_k 2 w_k k [S_k cos(k θ_i) - (C_k - phi_k) sin(k θ_i)]``, a
    trigonometric polynomial in ``θ_i`` evaluated from the saved ``cos θ, sin θ``; fused by
    :func:`torch.compile` into one pointwise pass.
    """
    num_k = dc.shape[-1]
    k = torch.arange(1, num_k + 1, dtype=dc.dtype, device=dc.device)
    scale = 2 * t0 * weights[1:] * k * grad_stat.unsqueeze(-1)
    u, v = scale * dc, scale * sin_m
    powers = _harmonics(c, s, num_k)
    acc = v[:, :1] * c - u[:, :1] * s
    for j in range(1, num_k):
        ck, sk = powers[j]
        acc = acc + v[:, j:j + 1] * ck - u[:, j:j + 1] * sk
    return acc


def _ecf_mean_forward(y: Tensor, t0: float, phi: Tensor, weights: Tensor):
    """:func:`_ecf_forward` with the statistic averaged over the rows of ``y`` (what SIGReg
    returns) and ``phi``, ``weights`` (SIGReg's float64 buffers) cast to ``y``'s dtype.

    Compiled as one call: the mean and the two casts were separate operations, plus a mean
    node in autograd (SIGReg forward + backward at 256 x 256: 0.74 against 0.84 ms, at
    256 x 8 0.32 against 0.39 ms, 2 threads, session 10; statistic and gradient unchanged).
    """
    c, s, dc, sin_m, stat = _ecf_forward(y, t0, phi.to(y.dtype), weights.to(y.dtype))
    return c, s, dc, sin_m, stat.mean()


def _ecf_mean_backward(c: Tensor, s: Tensor, dc: Tensor, sin_m: Tensor, weights: Tensor,
                       grad_mean: Tensor, t0: float) -> Tensor:
    """Gradient of :func:`_ecf_mean_forward`'s mean: :func:`_ecf_backward` with every row's
    upstream gradient ``grad_mean / rows``."""
    rows = dc.shape[0]
    return _ecf_backward(c, s, dc, sin_m, weights.to(c.dtype), (grad_mean / rows).expand(rows),
                         t0)


# (device type, dtype, K) -> compiled (_ecf_mean_forward, _ecf_mean_backward), or None
_FUSED: dict = {}
# CPU kernels with a parallel loop whose thread count is torch's at call time: without
# it, inductor bakes in the thread count of the compile and decides from the compile's
# probe sizes whether to parallelise at all -- and its on-disk cache, keyed without those
# sizes, kept serving kernels compiled from an earlier 2 x 3 probe, serial at every size
_CPU_THREADS = {"cpp.dynamic_threads": True}


#: The largest knot count whose kernels are compiled; above it SIGReg runs the eager kernel
#: (the same statistic, reproducible, 3-9x slower at 17 knots). Why: inductor's compile time
#: grows faster than the knot count (one fused kernel computes ``2(K - 1)`` batch means and
#: the backward sums ``K - 1`` harmonics): cold, with 2 threads, 55 s of CPU at 24 knots, 114
#: s at 33 and more than 12 min (stopped) at 64, against 33 s at the default 17 (session 35,
#: ``results/bench/compile_knots_s35.txt``). A user asking for 64 knots waited, with no sign
#: of progress, for a kernel the eager path replaces.
MAX_COMPILED_KNOTS = 33


def _fused_kernels(y: Tensor, num_knots: int):
    """The compiled kernels for ``y``'s device and dtype and ``num_knots`` knots, or ``None``
    (also for more than :data:`MAX_COMPILED_KNOTS` knots: the eager kernel then).

    Compiled once per process, device type, dtype and ``num_knots`` (``dynamic=True``: one
    kernel for all batch sizes and slice counts, so a training run never recompiles), on a
    probe so that the backward kernel is compiled too before it is needed. Any
    failure (no C++ compiler, no Triton, an unsupported backend) is reported once as a
    warning and SIGReg keeps the eager :class:`_EvenKnotECF`.
    """
    if num_knots > MAX_COMPILED_KNOTS:
        return None
    key = (y.device.type, y.dtype, num_knots)
    if is_in_torch_dispatch_mode():
        # dynamo cannot compile (nor run compiled code) under a dispatch mode
        # (FlopCounterMode, say): the kernels' own source runs uncompiled -- the same
        # operations, so a FLOP count is the compiled path's -- and nothing is cached, so
        # that a later call outside the mode compiles (session 22: a FLOP count before the
        # first step had cached "use eager" for the process)
        return _ecf_mean_forward, _ecf_mean_backward
    if sigreg_kernel() == "cpp":
        # the C++ kernels (issue 16; CPU float32 with 17 knots), else the compiled ones
        from . import sigreg_cpp
        cpp = sigreg_cpp.kernels(y, num_knots)
        if cpp is not None:
            return cpp
    if key not in _FUSED:
        try:
            # on CUDA inductor picks reduction block sizes by timing them, which changes the
            # summation order from run to run; "deterministic" turns that off (session-45
            # CUDA review; the CPU kernels are unchanged)
            options = {**_CPU_THREADS, **({"deterministic": True}
                                          if y.device.type == "cuda" else {})}
            fwd, bwd = (torch.compile(f, dynamic=True, fullgraph=True, options=options)
                        for f in (_ecf_mean_forward, _ecf_mean_backward))
            # a probe of a typical size (256 slices x batch 384): inductor decides from the
            # probe's sizes whether a loop runs on several threads; a 2 x 3 probe gave
            # kernels without any parallel loop, i.e. one core at every size. No_grad and
            # a y that requires grad, as inside _FusedECF (either change would recompile
            # at the first real call: 9 s here)
            # rows != columns: with equal sizes dynamo's duck sizing ties the two symbols
            # (guard "y.size()[1] == y.size()[0]") and the first call with slices x views
            # != batch recompiled both kernels; and not a view: a view of a 1-D tensor put
            # a guard on its base's size ("2 <= y._base.size()[0]") that a single stacked
            # view, h of shape (1, B, n), failed (TORCH_LOGS=recompiles, session 9)
            probe = torch.linspace(-1, 1, 256 * 384, dtype=y.dtype, device=y.device)
            probe = probe.reshape(256, 384).clone().requires_grad_()
            phi, weights = (torch.ones(num_knots, dtype=torch.float64, device=y.device)
                            for _ in range(2))
            # inductor's own use of deprecated torch APIs (torch.jit.script_method) warns
            # 14 times during the first compile: torch's business, not the user's
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", FutureWarning)
                c, s, dc, sin_m, stat = fwd(probe, 0.5, phi, weights)
                bwd(c, s, dc, sin_m, weights, torch.ones_like(stat), 0.5)
            _FUSED[key] = (fwd, bwd)
        except Exception as err:  # noqa: BLE001 -- any compiler failure means "use eager"
            reraise_interruption(err)    # SLURM's time limit is not a compiler failure
            # dynamo compiles a function for at most 8 configurations per process (its
            # recompile limit): the 9th (dtype, knots) pair lands here too (session 42)
            why = ("torch.compile's recompile limit (8 configurations of dtype and knots per "
                   "process) is reached" if "RecompileLimit" in type(err).__name__ else
                   f"torch.compile failed ({type(err).__name__}: {err})")
            warnings.warn(f"SIGReg: {why} for {key}; this configuration uses the eager "
                          "kernel (the same statistic, slower)", RuntimeWarning, stacklevel=3)
            _FUSED[key] = None
            KERNEL_FAILURES.add("sigreg_compiled")
    return _FUSED[key]


class _FusedECF(torch.autograd.Function):
    """The mean over rows of :class:`_EvenKnotECF`'s statistic, and its gradient, from two
    compiled kernels.

    Forward: one pass computing ``cos θ, sin θ``, the ``2(K-1)`` ECF means, the statistic
    and its mean over rows (:func:`_ecf_mean_forward`). Backward: one pointwise pass from
    the saved ``cos θ, sin θ`` (:func:`_ecf_mean_backward`; no transcendental function).
    ``phi`` and ``weights`` may be of any floating dtype (cast to ``y``'s in the kernels).
    """

    @staticmethod
    def forward(ctx, y: Tensor, t0: float, phi: Tensor, weights: Tensor, kernels) -> Tensor:
        fwd, ctx.bwd = kernels
        c, s, dc, sin_m, stat = fwd(y, t0, phi, weights)
        ctx.save_for_backward(c, s, dc, sin_m, weights)
        ctx.t0 = t0
        return stat

    @staticmethod
    def backward(ctx, grad_mean: Tensor):
        _once()
        grad_y = ctx.bwd(*ctx.saved_tensors, grad_mean, ctx.t0)
        return grad_y, None, None, None, None


#: the values of ``PYCHECK_SIGREG_KERNEL``: which fused kernels SIGReg uses on CPU in float32
#: with 17 knots (elsewhere the compiled ones)
SIGREG_KERNELS = ("cpp", "compiled")


def sigreg_kernel() -> str:
    """``PYCHECK_SIGREG_KERNEL``: ``"cpp"`` (the default: :mod:`pycheck.sigreg_cpp`, built
    at first use; the compiled kernels where it cannot be built) or ``"compiled"`` (torch's
    inductor kernels, the default before session 39). Why C++ by default: issue 16's
    targets. In one interleaved run here (session 39, 2 threads, forward + backward, 256
    slices; ``results/bench/sigreg_whole_s39.txt``) the C++ node took 0.235 / 0.583 / 1.084
    ms at 256 x 8 / 256 x 256 / 512 x 256 against the reference's 5.64 / 6.43 / 12.85 and the
    floor's 0.123 / 0.450 / 0.885; ``results/bench/bench_s39_run*.txt`` are the bench runs. The price: the two kernels sum in different
    orders, so SIGReg's float32 results differ from the compiled kernels' in the last bits,
    and results stored before session 39 were made with those (``PYCHECK_SIGREG_KERNEL=
    compiled`` reproduced their bits until session 40 changed SIGReg's gradient; no setting
    does now, docs/RESULTS_HISTORY.md "Which code made which results")."""
    kernel = os.environ.get("PYCHECK_SIGREG_KERNEL", "cpp")
    if kernel not in SIGREG_KERNELS:
        raise ValueError(f"PYCHECK_SIGREG_KERNEL must be one of {', '.join(SIGREG_KERNELS)}; "
                         f"got {kernel!r}")
    return kernel


def compile_enabled() -> bool:
    """Whether SIGReg uses its fused kernels: yes unless ``PYCHECK_SIGREG_COMPILE=0``, which
    selects the eager kernel. Which fused kernels: :func:`sigreg_kernel` (the C++ ones by
    default since session 39, torch's compiled ones with ``PYCHECK_SIGREG_KERNEL=compiled``
    or where the C++ build fails); the variable's name is from before session 39, when the
    fused kernels were torch-compiled.

    On by default: only the fused kernels reach issue 16's 10x over LeJEPA's reference
    computation (``results/bench/``); the eager kernel, one PyTorch operation per table
    row, measured 3-9x. What the torch-compiled kernels cost (the default before session
    39): compiling once per process, dtype, device type and knot count, measured then (float32, 17 knots, 2 cores shared with
    other jobs) 4.4 s of CPU (14 s wall) with torch's on-disk cache warm, 33 s of CPU (95
    s wall) cold, plus the C++ compiler's own processes. A compiler failure falls back to
    eager with a warning. The kernels sum in different orders, so their float32 results
    differ in the last bits (each is reproducible, tested across processes).
    """
    return os.environ.get("PYCHECK_SIGREG_COMPILE", "1") != "0"


def ecf_statistic(y: Tensor, t0: float, phi: Tensor, weights: Tensor,
                  fused: bool | None = None) -> Tensor:
    """Epps–Pulley statistic at knots ``t_k = k t0``, averaged over the rows of ``y``
    (``(G, B)``: one row per slice and view), as SIGReg returns it; a 0-d tensor.

    ``fused``: use the compiled kernels (:class:`_FusedECF`) or the eager one
    (:class:`_EvenKnotECF`, whose per-row statistic is then averaged); ``None`` follows
    :func:`compile_enabled`. Falls back to eager if compiling fails. ``phi`` and
    ``weights`` may be float64 whatever ``y``'s dtype (cast to it).
    """
    use_fused = compile_enabled() if fused is None else fused
    kernels = _fused_kernels(y, phi.numel()) if use_fused else None
    if kernels is None:
        KERNELS_USED.add("sigreg_eager")
        return _EvenKnotECF.apply(y, t0, phi.to(y.dtype), weights.to(y.dtype)).mean()
    from . import sigreg_cpp
    KERNELS_USED.add("sigreg_cpp" if kernels[0] is sigreg_cpp.forward else "sigreg_compiled")
    return _FusedECF.apply(y, t0, phi, weights, kernels)


def _whole_cpp(x: Tensor, directions: Tensor, num_knots: int, fused: bool | None):
    """:func:`pycheck.sigreg_cpp.sigreg` where the C++ kernels are the fused kernels in use
    (:func:`_fused_kernels`) and the directions need no gradient, else ``None``."""
    if directions.requires_grad or directions.dtype != x.dtype or \
            not (compile_enabled() if fused is None else fused):
        return None
    from . import sigreg_cpp
    kernels = _fused_kernels(x, num_knots)
    if kernels is not None and kernels[0] is sigreg_cpp.forward:
        KERNELS_USED.add("sigreg_cpp")
        return sigreg_cpp.sigreg
    return None


def _check_views(views: Sequence[Tensor]) -> Sequence[Tensor]:
    """``views`` if it is a non-empty sequence of ``(B, n)`` tensors of one shape and dtype."""
    if not isinstance(views, (list, tuple)) or not all(isinstance(v, Tensor) for v in views):
        # a NumPy array had met "truth value of an array is ambiguous" (session 43)
        raise ValueError("SIGReg takes a (..., B, n) tensor or a list of (B, n) tensors, "
                         f"got {type(views).__name__}")
    if not views or any(v.dim() != 2 or v.shape != views[0].shape for v in views):
        raise ValueError("SIGReg: views given as a sequence must be (B, n) tensors of one "
                         f"shape, got {[tuple(v.shape) for v in views]}")
    if any(v.dtype != views[0].dtype for v in views):   # the C++ node's own check had
        raise ValueError("SIGReg: the views must share one dtype, got "  # spoken (s43)
                         f"{[str(v.dtype) for v in views]}")
    _check_embedding(views[0])
    return views


#: dtypes SIGReg computes in float32 (LeJEPA's reference promotes them to its float32
#: buffers after the projection; computed in bfloat16 the statistic was 1e-3 to 8e-3 off
#: and its gradient 2e-2 to 6e-2, and float16 overflowed to inf at a batch of 60 000:
#: session 49, a user's trial)
_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype SIGReg computes in for an embedding of ``dtype``: float32 for
    :data:`_LOW_PRECISION`, else ``dtype`` itself."""
    return torch.float32 if dtype in _LOW_PRECISION else dtype


def _autocast_on(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (``False`` for types it does not know)."""
    try:
        return bool(torch.is_autocast_enabled(device_type))
    except (RuntimeError, TypeError, ValueError):
        return False


def _functorch_active() -> bool:
    """Whether a ``torch.func`` transform (grad, vmap, ...) is tracing this call."""
    try:
        return bool(torch._C._are_functorch_transforms_active())
    except AttributeError:                              # pragma: no cover (other torch)
        return False


def _world_size() -> int:
    """The number of processes of an initialised ``torch.distributed`` group, else 1."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def _all_reduce_sum(x: Tensor) -> Tensor:
    """The sum of ``x`` over the processes, differentiable (its backward sums the gradients).

    torch's functional collective, as LeJEPA's reference uses; with ``"sum"``, since torch
    2.13's backward refuses ``"avg"`` ("all_reduce backward only supports 'sum'
    reduction", measured session 49 with gloo: the reference's own ``"AVG"`` cannot be
    differentiated there). ``torch.distributed.nn``'s all-reduce (deprecated) where the
    functional one is missing."""
    try:
        from torch.distributed._functional_collectives import all_reduce
    except ImportError:                                  # pragma: no cover (older torch)
        from torch.distributed.nn.functional import all_reduce as nn_all_reduce
        return nn_all_reduce(x)
    return all_reduce(x, "sum", torch.distributed.group.WORLD)


def _check_embedding(h: Tensor) -> Tensor:
    """``h`` if SIGReg can take it: floating point, at least 2-D, rows and columns. An
    integer tensor, a 1-D one and zero columns had failed inside the kernels with torch's
    messages (session 43)."""
    if not h.is_floating_point():
        raise ValueError(f"SIGReg needs a floating-point embedding, got {h.dtype}")
    if h.dim() < 2 or h.shape[-1] < 1 or h.shape[-2] < 1:
        raise ValueError("SIGReg needs a (..., B, n) embedding with B >= 1 rows and n >= 1 "
                         f"columns, got shape {tuple(h.shape)}")
    return h


class SIGReg(nn.Module):
    """Sketched Isotropic Gaussian Regularizer (LeJEPA): sliced Epps–Pulley statistic.

    For ``num_slices`` random unit directions ``a``, the 1D projections ``y = h a`` are
    compared with ``N(0, 1)`` through their characteristic functions:
    ``T(a) = B * ∫ w(t) |mean_i exp(i t y_i) - exp(-t²/2)|² dt`` with ``w(t) = exp(-t²/2)``,
    integrated by the trapezoid rule on ``num_knots`` evenly spaced knots of ``[0, t_max]``
    (doubled, the integrand being even). Returns the mean of ``T`` over slices (and over any
    leading batch dimensions of ``h``). Equal to LeJEPA's reference computation (statistic
    and gradient, tested to 1e-5 in float32 and 1e-12 in float64 in
    ``tests/test_objectives.py``, at batches up to 2048 and up to 512 slices), computed by
    :func:`ecf_statistic`; ``pycheck bench`` times the two. Beyond that (session 42, a
    user's trial, against float64): the C++ kernels (CPU float32) sum over the batch and
    over the slices in float32 blocks of 4096 samples and 1024 rows, the blocks in float64,
    so their error stays near 1e-6 (batch 262 144: 3.5e-7; 65 536 slices: 4.4e-6; before,
    5e-4 and 4.5e-4: ``results/bench/sigreg_block_sums_s42.txt``); the eager and compiled
    kernels (CUDA, or ``PYCHECK_SIGREG_KERNEL=compiled``) still sum in float32 at once:
    2.8e-4 at a batch of 65 536 and 1.3e-2 at 262 144 (eager). There, at such sizes, pass
    float64 embeddings (float64 agrees with the reference to 1e-14). The attribute ``fused`` (default ``None``: :func:`compile_enabled`)
    selects the compiled kernels (``True``) or the eager one (``False``).

    Directions are fresh every call (as in LeJEPA), drawn from the module's own seeded
    generator, so training is reproducible and independent of global RNG state; the
    generator's state is part of ``state_dict()``, so a checkpoint resumes the directions.

    As LeJEPA's reference does (session 49, a user's trial found each of these missing):

    - **Several processes** (``torch.distributed`` initialised, e.g. DDP): the
      characteristic functions' batch sums and the batch sizes are summed over the
      processes (a differentiable all-reduce) and the statistic is that of the global batch
      (also with unequal batches per rank, where the reference's average of the ranks'
      means is not); the fresh directions are broadcast from rank 0, so every
      rank uses the same slices. The gradient on each rank is the number of processes
      times the global statistic's gradient with respect to that rank's rows, so that DDP's
      average of the parameters' gradients is the global statistic's gradient. It is a
      collective call, as the reference's: every rank must make the same calls (a call
      on rank 0 alone, e.g. a value logged there, waits for the others forever). Set the
      argument (or attribute) ``distributed=False`` for a per-process statistic (the functional
      :func:`sigreg` makes a fresh module: pass ``h`` to a module with it set instead).
    - **bfloat16 / float16 embeddings, and autocast**: computed in float32 (autocast off
      inside; float64 stays float64), the result float32.
    - ``plain=True`` computes with plain PyTorch operations (a cos and a sin per knot, as
      the reference): twice differentiable (``create_graph=True``, gradient penalties) and
      usable under ``torch.func`` (``grad``, ``vmap``), at the reference's speed. The
      default kernels (C++ on CPU, compiled elsewhere) and the eager one are autograd
      Functions differentiable once; the several-process path, ``meta`` tensors and
      calls under a ``torch.func`` transform use the plain operations anyway.
    ``orthogonal=True`` draws them in blocks of orthonormal columns (a quasi-Monte Carlo
    counterpart for slices; :meth:`_orthogonal_directions`). On the scaling world with
    QMC pairs (session 17, seed 0, ``results/scaling/probes_s17.jsonl``) it did not
    measurably help: R²(h→z) 0.97905 / 0.95439 at N = 32 / 64 against 0.97919 / 0.95224
    with independent directions (512 slices), so it is off by default.
    """

    def __init__(self, num_slices: int = 256, num_knots: int = 17, t_max: float = 3.0,
                 seed: int = 0, orthogonal: bool = False, plain: bool = False,
                 distributed: bool | None = None):
        super().__init__()
        ints = [num_knots, num_slices, seed]
        if any(isinstance(v, bool) or not hasattr(v, "__index__") for v in ints) or \
                isinstance(t_max, bool) or not isinstance(t_max, numbers.Real) or \
                num_knots < 2 or num_slices < 1 or not 0 < t_max < math.inf:
            # 17.0 knots failed inside torch, t_max = inf gave NaN (session 36)
            raise ValueError("SIGReg needs integers num_knots >= 2, num_slices >= 1 and seed, "
                             f"and a finite t_max > 0; got num_knots={num_knots!r}, "
                             f"num_slices={num_slices!r}, seed={seed!r}, t_max={t_max!r}")
        for name, flag in (("orthogonal", orthogonal), ("plain", plain),
                           ("distributed", True if distributed is None else distributed)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be True or False, got {flag!r}")
        t1 = t_max / (num_knots - 1)
        if math.exp(-0.5 * t1 * t1) < torch.finfo(torch.float32).tiny:
            # t_max = 1e30 gave exactly 0 (the regulariser off) and 1e300 NaN (session 42)
            raise ValueError(f"SIGReg: t_max = {t_max!r} is too large for num_knots = "
                             f"{num_knots}: the weight exp(-t²/2) of every knot but t = 0 is "
                             "below float32's range, so the statistic would be 0")
        self.num_slices, self.num_knots, self.t_max = num_slices, num_knots, t_max
        self.orthogonal = orthogonal
        t, phi, weights = _trapezoid_gauss_weights(num_knots, t_max)
        # float64 buffers, cast to the input's dtype per call (exact in float64 tests)
        self.register_buffer("t", t)
        self.register_buffer("phi", phi)
        self.register_buffer("weights", weights)
        try:
            self.generator = torch.Generator().manual_seed(seed)
        except (RuntimeError, OverflowError, ValueError) as err:   # 2**64: not naming seed
            raise ValueError(f"SIGReg: seed must fit in 64 bits, got {seed!r} ({err})") \
                from None
        self.fused: bool | None = None
        self.plain = plain
        # None: average over the processes of an initialised torch.distributed group
        self.distributed: bool | None = distributed

    def get_extra_state(self) -> Tensor:
        """The directions' generator state (a uint8 tensor), so that ``load_state_dict``
        resumes the stream (a trial's checkpoint resumed with other directions than an
        uninterrupted run). A tensor, not a dict: ``torch.func.functional_call`` with a
        ``state_dict`` takes only tensors (a dict had raised its TypeError; session 49)."""
        return self.generator.get_state()

    def set_extra_state(self, state) -> None:
        if not (isinstance(state, Tensor) and state.dtype == torch.uint8 and state.dim() == 1):
            raise ValueError(f"SIGReg: _extra_state must be the directions' generator state "
                             f"(a 1-D uint8 tensor, from state_dict()), got "
                             f"{type(state).__name__}")
        self.generator.set_state(state.cpu())

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """A state_dict from before session 49 has no ``_extra_state``: it loads (strict
        too) and the direction stream stays this module's."""
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                      missing_keys, unexpected_keys, error_msgs)
        key = prefix + "_extra_state"
        if key not in state_dict and key in missing_keys:
            missing_keys.remove(key)

    def _world(self) -> int:
        return 1 if self.distributed is False else _world_size()

    def directions(self, dim: int, device=None, dtype=torch.float32) -> Tensor:
        """``(dim, num_slices)`` matrix of random unit columns.

        Drawn in float32 (as LeJEPA's reference draws them) and normalised in float64:
        torch's CPU ``randn`` has a vectorised path for float32 only, and a float64 draw
        took 1.06 ms at 256 x 256 against 0.18 ms (2 threads, session 10), 1.45 ms of a
        7.0 ms SIGReg loss (forward + backward) at batch 512, N = 256."""
        if self.orthogonal:
            return self._orthogonal_directions(dim).to(device=device, dtype=dtype)
        a = torch.randn(dim, self.num_slices, generator=self.generator,
                        dtype=torch.float32).double()
        return (a / a.norm(dim=0)).to(device=device, dtype=dtype)

    def _orthogonal_directions(self, dim: int) -> Tensor:
        """``orthogonal=True``: the directions in blocks of ``dim`` orthonormal columns, each
        block an independent Haar-random orthogonal matrix (QR of a Gaussian matrix with the
        signs of ``R``'s diagonal moved into ``Q``); the last block is cut to ``num_slices``.

        Each column is still uniform on the sphere, so the expected statistic is unchanged;
        within a block the directions are stratified: ``Σ_a (aᵀ h)² = ||h||²`` exactly, so
        the slices of one block see the embedding's whole second moment, where independent
        directions see it with a random error."""
        blocks = -(-self.num_slices // dim)
        g = torch.randn(blocks, dim, dim, generator=self.generator, dtype=torch.float32)
        q, r = torch.linalg.qr(g.double())
        q = q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)
        return q.transpose(0, 1).reshape(dim, blocks * dim)[:, :self.num_slices]

    def statistic(self, h: Tensor | Sequence[Tensor], directions: Tensor) -> Tensor:
        """The statistic for given ``directions`` (``(n, S)``), averaged over slices and views.

        ``h`` is ``(..., B, n)`` (leading dimensions are views) or a sequence of ``(B, n)``
        views, e.g. ``(h, h_next)``: that saves stacking them (one copy of the batch)."""
        # one matmul projects every view (row s V + v of y: slice s, view v). Below 16
        # dimensions the views are first copied into one contiguous (n, V B) matrix:
        # autograd then takes dL/dh as directions @ dL/dy (0.23 ms at B = 2048, N = 8, one
        # thread) instead of dL/dy.T @ directions.T on a transposed h (2.2 ms, 10x the
        # floor's matmul). From 16 on, the transposed view is faster than the copy (SIGReg
        # forward + backward, 2 threads, session 10: 0.92x at 256 x 16, 0.96x 2048 x 16,
        # 0.94x 2048 x 32, 0.90x 1024 x 64, 0.92x 256 x 256, 0.86x 1024 x 256; with the
        # view 1.05x at 256 x 8 and 1.44x at 2048 x 8)
        first = _check_embedding(h) if isinstance(h, Tensor) else _check_views(h)[0]
        n = first.shape[-1]
        if not isinstance(directions, Tensor) or directions.dim() != 2 or \
                directions.shape[0] != n or directions.shape[1] < 1 or \
                not directions.is_floating_point():
            # a transposed or wrong-width matrix had met a raw C++ check or a reshape error
            # (session 49, a user's trial)
            got = (f"shape {tuple(directions.shape)} {directions.dtype}"
                   if isinstance(directions, Tensor) else type(directions).__name__)
            hint = (" (transposed? pass directions.T)" if isinstance(directions, Tensor)
                    and directions.dim() == 2 and directions.shape[1] == n else "")
            raise ValueError(f"SIGReg.statistic: directions must be a floating-point (n, S) "
                             f"matrix with n = {n} rows, one unit column per slice; got "
                             f"{got}{hint}")
        # the embedding's device and (computing) dtype: float64 directions with a float32
        # embedding had raised torch's matmul dtype error
        dtype = _compute_dtype(first.dtype)
        return self._statistic(h, directions.to(device=first.device, dtype=dtype))

    def _statistic(self, h: Tensor | Sequence[Tensor], directions: Tensor) -> Tensor:
        """:meth:`statistic` on views already checked (once per call, not at every layer)."""
        first = h if isinstance(h, Tensor) else h[0]
        if first.dtype in _LOW_PRECISION or _autocast_on(first.device.type):
            # float32 inside, whatever autocast does outside: under CPU autocast the C++
            # node's projection ran in bfloat16 and was read as float32 (a crash, s49)
            def up(v: Tensor) -> Tensor:
                return v.to(_compute_dtype(v.dtype))
            with torch.autocast(first.device.type, enabled=False):
                return self._statistic(up(h) if isinstance(h, Tensor) else [up(v) for v in h],
                                       up(directions))
        world = self._world()
        if self.plain or world > 1 or first.device.type == "meta" or _functorch_active():
            # under torch.func's transforms too: the fused and eager kernels are autograd
            # Functions that functorch refuses (a trial met its generic message; s49)
            return self._plain_statistic(h, directions, world)
        t0 = self.t_max / (self.num_knots - 1)
        whole = _whole_cpp(first, directions, self.num_knots, self.fused)
        if isinstance(h, Tensor):
            if whole is not None:            # the C++ node takes h as it is
                return whole(h, directions, t0, self.phi, self.weights)
            batch = h.shape[-2]
            x = h.reshape(-1, h.shape[-1]).T
            if h.shape[-1] < 16:
                x = x.contiguous()
        else:
            batch = h[0].shape[0]
            if whole is not None:       # rows, not columns: a contiguous copy, 10x cheaper
                # than the transposed one (1024 x 256: 24 against 239 us, session 40)
                return whole(torch.cat(h).view(len(h), batch, -1), directions, t0, self.phi,
                             self.weights)
            x = torch.cat([v.T for v in h], 1)
        y = (directions.T @ x).reshape(-1, batch)                    # (S V, B), contiguous
        return ecf_statistic(y, t0, self.phi, self.weights, self.fused)

    def forward(self, h: Tensor | Sequence[Tensor]) -> Tensor:
        first = _check_embedding(h) if isinstance(h, Tensor) else _check_views(h)[0]
        return self._fresh(h, first)

    def _fresh(self, h: Tensor | Sequence[Tensor], first: Tensor) -> Tensor:
        """The statistic of checked views ``h`` (``first``: one of them) for fresh directions."""
        dtype = _compute_dtype(first.dtype)
        directions = self.directions(first.shape[-1], first.device, dtype)
        if self._world() > 1:
            # every rank the same slices, whatever its seed (LeJEPA's reference seeds every
            # rank's draw with the largest step count over the ranks)
            torch.distributed.broadcast(directions, src=0)
        return self._statistic(h, directions)

    def _plain_statistic(self, h: Tensor | Sequence[Tensor], directions: Tensor,
                         world: int) -> Tensor:
        """The statistic as LeJEPA's reference computes it: a cos and a sin at every knot
        for every sample and slice, autograd's own backward; with ``world > 1`` processes
        the batch sums and sizes are summed over them (a differentiable all-reduce, whose
        backward sums the ranks' gradients), so ``B`` and the means are the global batch's,
        with equal or unequal batches per rank."""
        views = h if isinstance(h, Tensor) else torch.stack(list(h))
        y = views @ directions                                       # (..., B, S)
        t, phi, w = (b.to(device=y.device, dtype=y.dtype)
                     for b in (self.t, self.phi, self.weights))
        yt = y.unsqueeze(-1) * t                                     # (..., B, S, K)
        batch = y.shape[-2]
        if world == 1:
            cos_mean, sin_mean = torch.cos(yt).mean(-3), torch.sin(yt).mean(-3)
        else:
            # sums and counts over the ranks, so that ranks with unequal batches (a last,
            # smaller batch) give the global batch's means and size; LeJEPA's reference
            # averages the ranks' means and takes B times the number of ranks, which is the
            # same for equal batches only
            count = _all_reduce_sum(torch.tensor([float(batch)], device=y.device))
            batch = int(count.item())
            cos_mean = _all_reduce_sum(torch.cos(yt).sum(-3)) / batch
            sin_mean = _all_reduce_sum(torch.sin(yt).sum(-3)) / batch
        err = (cos_mean - phi).square() + sin_mean.square()
        return ((err @ w) * batch).mean()


def sigreg(h: Tensor, *, num_slices: int = 256, num_knots: int = 17, t_max: float = 3.0,
           seed: int = 0) -> Tensor:
    """Functional SIGReg (a fresh :class:`SIGReg` with seeded directions); see the class.

    The same ``seed`` gives the same directions at every call: in a training loop use one
    :class:`SIGReg` module (fresh directions each call, as LeJEPA) or vary ``seed`` with the
    step; a loop over this function with the default seed constrains only 256 fixed slices
    (session 49, a user's trial).

    First call: on a CPU with float32 and 17 knots (what training uses) the C++ kernels
    run, built once per machine (about 30 s, then cached on disk). Any other dtype, knot
    count or device compiles torch's kernels once per process and configuration: seconds
    to minutes (a user's trial, session 43: 12-44 s for float64, 163 s for 21 knots on a
    busy 2-core machine). For one-off values, ``PYCHECK_SIGREG_COMPILE=0`` (or
    ``SIGReg(...).fused = False``) gives the same statistic at once, eagerly.
    """
    if not isinstance(h, Tensor):
        raise ValueError(f"sigreg takes a (..., B, n) tensor, got {type(h).__name__}")
    return SIGReg(num_slices, num_knots, t_max, seed).to(h.device)(h)


# ---------------------------------------------------------------- VICReg
def vicreg(h: Tensor, *, cov_weight: float = 1.0, eps: float = 1e-4) -> Tensor:
    """VICReg's variance + covariance terms as a second-moment (whitening) penalty.

    ``mean_j relu(1 - sqrt(Var h_j + eps)) + cov_weight * Σ_{i≠j} Cov(h)_ij² / n``.
    Zero exactly when every ``std_j >= 1`` and ``Cov h`` is diagonal (e.g. whitened ``h``).
    """
    if not isinstance(h, Tensor) or h.dim() != 2 or h.shape[0] < 2:  # B = 1: NaN (s36)
        raise ValueError(f"vicreg needs a (B, n) tensor batch with B >= 2, got "
                         f"{tuple(h.shape) if isinstance(h, Tensor) else type(h).__name__}")
    # as make_objective checks them: cov_weight -1 was taken, eps -1 gave NaN (session 43)
    cov_weight = _positive("cov_weight", cov_weight, zero=True)
    eps = _positive("eps", eps, zero=True)
    n = h.shape[-1]
    hc = h - h.mean(0)
    cov = hc.T @ hc / (h.shape[0] - 1)
    var_term = F.relu(1 - torch.sqrt(torch.diagonal(cov) + eps)).mean()
    off = cov - torch.diag(torch.diagonal(cov))
    return var_term + cov_weight * off.square().sum() / n


# ---------------------------------------------------------------- InfoNCE
def infonce(h: Tensor, h_next: Tensor, sigma: float = 1.0) -> Tensor:
    """Symmetrised InfoNCE with a Gaussian kernel of width ``sigma``.

    Logits ``-||h_i - h'_j||² / (2 sigma²)``; the positive of row ``i`` is column ``i``.
    They are computed as ``(h_i·h'_j - |h_i|²/2 - |h'_j|²/2) / sigma²`` (one matmul), so in
    float32 a large common offset of the embeddings costs precision: measured at batch 256,
    n = 8 (session 42, a user's trial), the loss's relative error 3.9e-5 at an offset of
    100, 7e-4 at 300, 1.9e-2 at 1000. Centred embeddings (fit_encoder standardises its
    input and the loss is translation-invariant) or float64 avoid it.
    """
    _check_pair("InfoNCE", h, h_next)
    return _SymmetricInfoNCE.apply(h, h_next, _sigma(sigma))


def _sigma(v) -> float:
    """InfoNCE's kernel width: finite, > 0 and with ``1 / (2 sigma²)`` finite in float32
    (1e-30 passed and failed inside the matmul's epilogue; 0 raised ZeroDivisionError and
    -1 was accepted by the functional form; session 42)."""
    sigma = _positive("sigma", v)
    if 0.5 / (sigma * sigma) > torch.finfo(torch.float32).max:
        raise ValueError(f"sigma = {v!r} is too small: 1 / (2 sigma²) overflows float32")
    return sigma


def _check_pair(what: str, h, h_next) -> None:
    """Two views of one batch: 2-D floating-point tensors of one shape and dtype, at least 2
    rows and one column. Mismatched views had broadcast or raised torch's own messages (InfoNCE took
    (8, 3) against (1, 3); a batch of 1 gave -0.0 and no gradient; session 42)."""
    if not (isinstance(h, Tensor) and isinstance(h_next, Tensor)):
        raise ValueError(f"{what}: the two views must be tensors, got "
                         f"{type(h).__name__} and {type(h_next).__name__}")
    if h.dim() != 2 or h.shape != h_next.shape or h.dtype != h_next.dtype:
        raise ValueError(f"{what}: the two views must be (B, n) tensors of one shape and "
                         f"dtype, got {tuple(h.shape)} {h.dtype} and {tuple(h_next.shape)} "
                         f"{h_next.dtype}")
    if h.shape[0] < 2 or h.shape[1] < 1:
        raise ValueError(f"{what}: needs a batch of at least 2 rows of at least 1 column, "
                         f"got {tuple(h.shape)}")
    if not h.is_floating_point():       # what SIGReg's own view check asks too
        raise ValueError(f"{what}: needs floating-point views, got {h.dtype}")


class _SymmetricInfoNCE(torch.autograd.Function):
    """:func:`infonce` with a hand-written backward: ``-0.5 mean_i (log P_row + log P_col)_ii``
    for the row- and column-softmax of the logits ``L`` of :func:`_infonce_logits`; the
    gradient with respect to ``L`` is ``G = (P_row + P_col - 2 I) / 2B``, and through ``L``
    (``σ² ∂L_ij/∂h_i = h'_j - h_i``) ``σ² dh = G h' - rowsum(G) h`` and ``σ² dh' = Gᵀ h -
    colsum(G) h'``.

    Why (issue 16 item 3): autograd through two ``cross_entropy`` calls, one on the
    transposed logits, made about a dozen passes over the B x B matrix, several strided:
    at N = 256, batch 512, 2 threads, the loss's forward + backward took 5.1 against 4.1 ms
    on the bench step's embeddings and 6.5 against 4.0 ms on small synthetic ones (the
    three matmuls 2.2-2.3 ms; ``scripts/infonce_probe.py``,
    ``results/bench/infonce_probe_s39.txt``, session 39). Not
    ``torch.logsumexp``: on the logits of the scaling world's first steps (N = 256, -460 to
    -84) its ``exp`` of arguments below -87 (subnormal results) took 1.9 ms against 0.14 ms
    for ``log_softmax`` of the same matrix (session 39). The same loss and gradient to float32
    rounding (tested against the autograd form)."""

    @staticmethod
    def forward(ctx, h: Tensor, h_next: Tensor, sigma: float) -> Tensor:
        s2 = sigma * sigma
        # L = (h h'^T - |h_i|^2 / 2 - |h'_j|^2 / 2) / sigma^2: one matmul with its epilogue
        bias = h.square().sum(1, keepdim=True).mul_(-0.5) - h_next.square().sum(1).mul_(0.5)
        logits = torch.addmm(bias, h, h_next.T, beta=1 / s2, alpha=1 / s2)
        log_row, log_col = torch.log_softmax(logits, 1), torch.log_softmax(logits, 0)
        ctx.save_for_backward(h, h_next, log_row, log_col)
        ctx.s2 = s2
        return -0.5 * (log_row.diagonal().mean() + log_col.diagonal().mean())

    @staticmethod
    @once_differentiable     # the backward is not written to be differentiated again
    def backward(ctx, grad: Tensor):
        h, h_next, log_row, log_col = ctx.saved_tensors
        # g = P_row + P_col - 2 I, i.e. G / scale; the scale is applied to the (B, n) results.
        # The log-probabilities are clamped at LOG_P_MIN: below exp(-87) float32 turns
        # subnormal, and torch's exp of such arguments is slow (above); the change is below
        # 1.8e-35 per entry, of probabilities that sum to 1.
        g = log_row.clamp(min=LOG_P_MIN).exp_()
        g += log_col.clamp(min=LOG_P_MIN).exp_()
        g.diagonal().sub_(2.0)
        scale = grad / (2 * g.shape[0] * ctx.s2)
        dh = (g @ h_next).sub_(g.sum(1, keepdim=True) * h).mul_(scale)
        dh_next = (g.T @ h).sub_(g.sum(0).unsqueeze(1) * h_next).mul_(scale)
        return dh, dh_next, None


#: the smallest log-probability :class:`_SymmetricInfoNCE`'s backward exponentiates (see there)
LOG_P_MIN = -80.0


def infonce_per_pair(h: Tensor, h_next: Tensor, sigma: float = 1.0) -> Tensor:
    """Per-pair terms of :func:`infonce` (shape ``(B,)``; their mean is the loss)."""
    # checked as infonce checks them: sigma 0 gave NaN, -1 was taken, and views of two
    # batch sizes an IndexError (session 43)
    _check_pair("InfoNCE", h, h_next)
    logits, labels = _infonce_logits(h, h_next, _sigma(sigma))
    return 0.5 * (F.cross_entropy(logits, labels, reduction="none")
                  + F.cross_entropy(logits.T, labels, reduction="none"))


def _infonce_logits(h: Tensor, h_next: Tensor, sigma: float) -> tuple[Tensor, Tensor]:
    # ||h_i||² + ||h'_j||² - 2 h_i·h'_j: forward and backward are matmuls, where
    # cdist(...).square() takes a sqrt only to square it and its backward
    # (_cdist_backward) is not a matmul
    sq = h.square().sum(-1, keepdim=True) + h_next.square().sum(-1) - 2 * h @ h_next.T
    return sq / (-2 * sigma ** 2), torch.arange(h.shape[0], device=h.device)


def mean_variance(h: Tensor, h_next: Tensor) -> Tensor:
    """``½(mean_j Var h_j + mean_j Var h'_j)``: what ``scale_free`` divides the alignment by."""
    return 0.5 * (h.var(0).mean() + h_next.var(0).mean())


# ---------------------------------------------------------------- factory
def _positive(name: str, v, zero: bool = False) -> float:
    """``v`` as a finite float > 0 (>= 0 with ``zero``): inf or NaN options gave inf, NaN or
    constant losses without a word (session 36)."""
    # a real number only: float("0.1") had accepted the string "0.1" and float(True) the
    # bool (session 37)
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise ValueError(f"{name} must be a number, got {v!r}")
    f = float(v)
    if not math.isfinite(f) or not (f >= 0 if zero else f > 0):
        raise ValueError(f"{name} must be a finite number {'>=' if zero else '>'} 0, got {v!r}")
    return f



DEFAULT_LAM = {"sigreg": 3.0, "vicreg": 1.0}
DEFAULT_LAM_START = {"sigreg": 0.003}


def make_objective(name: str, **opts) -> Callable[[Tensor, Tensor], tuple[Tensor, dict]]:
    """Training loss ``(h, h') -> (loss, parts)`` for ``name`` in :data:`OBJECTIVES`.

    Options: ``lam`` (the final regularizer weight; defaults :data:`DEFAULT_LAM`) and
    ``lam_start``, for SIGReg ``num_slices``, ``num_knots``, ``t_max``, ``seed``; for VICReg
    ``cov_weight``; for InfoNCE ``sigma``; for SIGReg and VICReg ``scale_free`` (bool: the
    alignment divided by the batch's mean variance, see the module docstring). ``parts``
    holds floats for logging (``alignment`` is per coordinate, after the scale-free
    division; ``weight`` is the regularizer weight in force). Unknown names or options
    raise ``ValueError``.

    **The weight ramps, and your loop drives it.** SIGReg and VICReg start at ``lam_start``
    and move geometrically to ``lam`` as you call ``loss.set_progress(frac)`` with the
    fraction of training done (``fit_encoder`` calls it before every step). Without those
    calls the weight stays at ``lam_start``, which for SIGReg defaults to 0.003 (the chosen
    ramp 0.003 -> 3, module docstring), a thousandth of ``lam``. For a constant weight pass
    ``lam_start=lam``. InfoNCE has no weight; its ``set_progress`` does nothing, so one loop
    serves every objective.
    """
    allowed = {"sigreg": {"lam", "lam_start", "num_slices", "num_knots", "t_max", "seed",
                          "scale_free", "orthogonal"},
               "vicreg": {"lam", "lam_start", "cov_weight", "scale_free"}, "infonce": {"sigma"}}
    if name not in allowed:
        raise ValueError(f"unknown objective {name!r}; valid: {', '.join(OBJECTIVES)}")
    bad = set(opts) - allowed[name]
    if bad:
        raise ValueError(f"objective {name!r} got unknown option(s) {sorted(bad)}; "
                         f"valid: {sorted(allowed[name])}")

    if name == "infonce":
        sigma = _sigma(opts.get("sigma", 1.0))

        def loss_infonce(h, h_next):
            loss = infonce(h, h_next, sigma)
            return loss, {"loss": loss.item(), "alignment": alignment(h, h_next).item() / h.shape[-1]}

        def set_progress(frac: float) -> None:
            """Nothing to ramp (no regularizer weight); here so one loop serves all."""
            if not math.isfinite(frac):
                raise ValueError(f"set_progress needs a finite fraction, got {frac!r}")
        loss_infonce.set_progress = set_progress
        loss_infonce.generators = []
        return loss_infonce

    scale_free = opts.pop("scale_free", False)
    if not isinstance(scale_free, bool):
        raise ValueError(f"scale_free must be True or False, got {scale_free!r}")
    lam_end = _positive("lam", opts.pop("lam", DEFAULT_LAM[name]))
    lam_start = _positive("lam_start", opts.pop("lam_start", DEFAULT_LAM_START.get(name, lam_end)))
    state = {"lam": lam_start}
    if name == "sigreg":
        reg_mod = SIGReg(**opts)

        def reg(h, h_next):
            # the pair is checked by loss_lejepa (_check_pair) before: not again here
            return reg_mod.to(h.device)._fresh((h, h_next), h)
    else:
        cw = _positive("cov_weight", opts.get("cov_weight", 1.0), zero=True)

        def reg(h, h_next):     # the views' shapes: checked by loss_lejepa (_check_pair)
            return 0.5 * (vicreg(h, cov_weight=cw) + vicreg(h_next, cov_weight=cw))

    def loss_lejepa(h, h_next):
        # before the alignment, whose broadcasting error came first (session 42)
        _check_pair("SIGReg" if name == "sigreg" else "VICReg", h, h_next)
        align = alignment(h, h_next) / h.shape[-1]
        if scale_free:
            align = align / mean_variance(h, h_next)
        r = reg(h, h_next)
        loss = align + state["lam"] * r
        return loss, {"loss": loss.item(), "alignment": align.item(), name: r.item(),
                      "weight": state["lam"]}

    def set_progress(frac: float) -> None:
        """Geometric ramp of the weight from ``lam_start`` (frac 0) to ``lam`` (frac 1)."""
        if not math.isfinite(frac):      # NaN made the weight, and the loss, NaN (s36)
            raise ValueError(f"set_progress needs a finite fraction, got {frac!r}")
        state["lam"] = lam_start * (lam_end / lam_start) ** min(max(frac, 0.0), 1.0)
    loss_lejepa.set_progress = set_progress
    # the random generators the loss draws from (fit_encoder's checkpoint saves their state)
    loss_lejepa.generators = [reg_mod.generator] if name == "sigreg" else []
    # the SIGReg module (None for VICReg): single-process trainers set its `distributed`
    loss_lejepa.sigreg = reg_mod if name == "sigreg" else None
    return loss_lejepa
