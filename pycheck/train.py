"""Train an encoder on observation pairs ``(x, x')`` with a LeJEPA-style objective.

>>> enc = fit_encoder(x, x_next)                   # x, x_next: (N, d) arrays
>>> h = embed(enc, x)                              # (N, n) float64
>>> linear_r2(h, z)                                # ~1 on a Gaussian-OU world
>>> enc.heldout_objective, enc.selected            # label-free model selection

The engine (defaults chosen on the tuning half of ``scripts/suite.py``; its held-out half
is reported unchanged in the README):

1. 10% of the pairs are held out (``holdout``). The input is standardised in float64.
2. A residual MLP (identity linear path + zero-initialised 3 x 128 SiLU branch) is trained
   with Adam (3000 steps of 1024 pairs, peak lr 1e-3, 5% warm-up, cosine decay) on the
   ``"whitened"`` objective: the alignment of the batch-whitened output (W-MSE's batch
   whitening, Ermolov et al. 2021). T1 needs only second moments, and this makes
   whitening a constraint instead of a penalty, with no weight to tune and the same
   behaviour at every rho. A second encoder adds SIGReg of the whitened batch (weight
   0.3: Gaussianity beyond second moments, which identifies more where the alignment
   signal ``rho(1 - rho)`` is weak) and the better one on held-out pairs is kept. On the tuning half it beat the previous default (SIGReg with a
   weight ramp) on 5 of 6 mixings, e.g. R²(h -> z) 0.857 -> 0.986 (2D leaky-ReLU MLP
   mixing, rho 0.5) and 0.970 -> 0.985 (4D coupling flow, rho 0.8), at half the CPU time
   per step (``results/fit_encoder/suite/``). ``objective="sigreg"``, ``"vicreg"`` or
   ``"infonce"`` train the paper's objectives instead.
3. Every ``steps / 20`` steps the held-out objective (:func:`heldout_criterion`: the
   :func:`whitened_alignment`, i.e. the T1 objective, for the second-moment objectives;
   SIGReg's or InfoNCE's own loss for those; never R² to z) is measured and the best
   checkpoint kept: on 20 000
   pairs the encoder starts to fit its sample's OU innovations well before the end
   (e.g. at rho 0.3 the training loss fell below the population optimum 1.4 while the
   held-out one rose from 1.42 to 1.53). With fresh pairs at every step (``sampler``),
   which cannot be overfitted, the last checkpoint is kept unless an earlier one is
   better on the held-out pairs by more than :data:`MARGIN_SE` standard errors of the
   paired difference (:func:`_select_checkpoint`).
4. Read-out (:func:`_sfa_select`): the trained last layer, the closed-form slow-feature
   read-out of the last hidden layer plus the input (:func:`pycheck.sfa.sfa_readout`,
   the exact T1 minimiser within that span) and the SFA read-out of the input alone (the
   best linear map) compete on the held-out pairs; a nonlinear candidate must beat the
   linear one significantly and not be heavy-tailed (:func:`_significant_best`).

What limits it: the alignment gradient carries the OU innovation noise, which does not
vanish at the optimum (unlike supervised regression), so with a fixed sample the network
overfits; the signal that separates the inverse from a bent map is the T1 gap
``rho(1 - rho)`` per unit of nonlinear energy, smallest at small rho.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import hashlib
import io
import math
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from .encoders import (MLPEncoder, OutputWhitened, RealNVPEncoder, ResidualMLPEncoder,
                       Standardized, check_whiten)
from .objectives import (DEFAULT_LAM, OBJECTIVES, SIGReg, infonce_per_pair, make_objective,
                         mean_variance)
from .sfa import sfa_readout
from .validate import check_int, context_value, reraise_interruption


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the step."""

    def __init__(self, step: int, value: float, why: str = ""):
        super().__init__(f"training diverged at step {step}: loss = {value}"
                         + (f": {why}" if why else "")
                         + "; try a smaller lr or check the inputs' scale")
        self.step, self.value, self.why = step, value, why

    def __reduce__(self):
        # picklable: a SLURM job's exception reaches the submitting side pickled, and the
        # default (cls(message)) failed on this __init__, so `status` said "ended without
        # a result" instead of the divergence (session 37)
        return type(self), (self.step, self.value, self.why)


#: the share of the pairs fit_encoder holds out for its label-free selection
DEFAULT_HOLDOUT = 0.1

def set_threads(n: int):
    """Use ``n`` CPU threads in torch and one in NumPy's BLAS; returns threadpoolctl's
    limiter (its ``restore_original_limits()`` undoes the BLAS part).

    Why: the fresh world samples are drawn with NumPy between torch's operations, and its
    OpenBLAS otherwise runs one busy-waiting thread per core beside torch's. Measured on
    this 2-core machine (RealNVP encoder, N = 64, batch 512, VICReg, session 12): two
    one-thread runs side by side took 33 ms per step instead of 9.8 ms, one run with 2
    torch threads 32 ms instead of 6.6 ms (BLAS capped at 2 threads: still 31 ms).
    :func:`fit_encoder` also trains with one BLAS thread.
    """
    torch.set_num_threads(n)
    keep_freed_memory()
    return one_blas_thread()


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse (``mallopt``: no ``mmap`` for large
    blocks, no trimming of the heap); returns whether it applied (glibc only).

    Why: a training step allocates and frees many ~1 MB activation tensors; glibc served
    them with fresh ``mmap`` pages (page faults) or trimmed them back to the system, and
    on this KVM host the page faults made torch's element-wise kernels several times
    slower inside a step than alone (``tanh_backward`` on (2048, 128): 0.59 ms per call
    in a RealNVP encoder's backward against 0.04 ms alone). Encoder forward + backward at
    N = 8, batch 2048 rows, one thread: 10.4-11.9 ms -> 8.3-9.6 ms (three interleaved
    process pairs, session 15; N = 64: 14.6-15.8 -> 13.3-14.3 ms). The cost: memory a
    process has freed stays in it until it exits (the peak stays the peak). Called by
    :func:`set_threads`, i.e. in every training worker; a process that only imports
    pycheck keeps glibc's defaults."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc: nothing to do
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    # 32 MiB is glibc's largest mmap threshold on 64-bit; trimming only above 1 GiB free
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 1 << 30))


def one_blas_thread():
    """threadpoolctl's limiter putting NumPy's BLAS on one thread (a context manager, or
    undone by its ``restore_original_limits()``); why: :func:`set_threads`."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def _text_like(a) -> bool:
    """``a`` holds text (str or bytes), or objects that are not all real numbers. A list of
    lists of floats is numbers; a ragged one is left to the conversion's own message."""
    try:
        v = np.asarray(a)
    except (TypeError, ValueError):
        return False
    if v.dtype.kind in "US":
        return True
    return v.dtype.kind == "O" and not all(
        isinstance(e, (int, float, np.integer, np.floating)) and not isinstance(e, bool)
        for e in v.ravel())


def _as_tensor(name: str, a) -> torch.Tensor:
    if a is None:             # np.asarray(None, float) is a 0-d NaN: "got shape (1,)" (s42)
        raise ValueError(f"{name} is None; pass an array of shape (N, d)")
    if getattr(a, "dtype", None) in (np.float16, torch.float16, torch.bfloat16):
        # accepted (upcast to float64), but the rounding happened before: a trial's column of
        # spread 1e3 stored in float16 kept 20 distinct values (session 48)
        warnings.warn(f"{name} is {str(a.dtype).replace('torch.', '')}: about 3 significant "
                      "digits per value (2 for bfloat16); the fit sees those rounded values. "
                      "Pass float32 or float64 data if you have it", LowPrecisionInput,
                      stacklevel=_caller_stacklevel())
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu()
        if a.is_complex():
            raise ValueError(f"{name} must be real, got a complex tensor")
        if a.dtype == torch.bool:
            a = a.numpy()       # refused below, as a boolean array
        else:
            a = a.double().numpy()  # numpy() has no bfloat16
    try:
        masked, complex_ = np.ma.is_masked(a), np.iscomplexobj(a)
    except (TypeError, ValueError) as exc:   # a ragged list raised NumPy's own message (s42)
        raise ValueError(f"{name} must be a numeric array of shape (N, d): {exc}") from None
    if masked:              # np.asarray would train on the values under the mask (s36)
        raise ValueError(f"{name} has {int(np.ma.count_masked(a))} masked entries; drop "
                         "those rows or fill them (.filled()) first")
    if complex_:            # np.asarray(..., float64) would drop the imaginary part
        raise ValueError(f"{name} must be real, got a complex array")
    if _text_like(a):
        # numeric strings were parsed and trained on (pycheck fit refuses them, and so does
        # linear_r2; session 51, a user's trial)
        raise ValueError(f"{name} holds text or objects ({np.asarray(a).dtype}); pass "
                         "numbers")
    if getattr(a, "dtype", None) == np.bool_:
        # an invertible mixing of continuous latents is never two-valued: a boolean array
        # is far more likely a mask passed by mistake than observations
        raise ValueError(f"{name} is boolean; observations must be real numbers (cast "
                         "with .astype(float) if 0/1 values are really meant)")
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (N, d): {exc}") from None
    if a.ndim != 2:           # checked before ascontiguousarray, which makes a scalar (1,)
        raise ValueError(f"{name} must have shape (N, d), got "
                         + ("a scalar" if a.ndim == 0 else f"shape {a.shape}"))
    if a.shape[1] == 0:       # an encoder of width 0 failed with its own message (s42)
        raise ValueError(f"{name} has no columns (shape {a.shape})")
    # contiguous: torch.from_numpy refuses negative strides (x[:, ::-1])
    a = np.ascontiguousarray(a)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf ({int((~np.isfinite(a)).sum())} entries)")
    if not a.flags.writeable:    # np.load(..., mmap_mode="r"): torch warns on a read-only
        a = a.copy()             # buffer; nothing here writes to it, but a copy is silent
    return torch.from_numpy(a)




def _check_scale(name: str, a: torch.Tensor, where: str = "") -> None:
    """Input whitening divides by each column's spread: refuse a constant column (its
    test-time deviations would be amplified ~1e12; ``where`` says on which rows), values
    whose variance overflows, and values so small that it underflows."""
    var = a.var(0)
    if not torch.isfinite(var).all():
        raise ValueError(f"{name}: values too large for float64 second moments "
                         f"(max |{name}| = {a.abs().max().item():.3g}); rescale the input")
    zero = var == 0
    const = torch.nonzero(zero & (a.amax(0) == a.amin(0))).flatten().tolist()
    if const:
        raise ValueError(f"{name}: column(s) {const} are constant{' ' + where if where else ''}; "
                         "drop them, or pass whiten='none' (which also leaves every other "
                         "column unscaled)")
    tiny = torch.nonzero(zero).flatten().tolist()
    if tiny:
        raise ValueError(f"{name}: column(s) {tiny} vary too little for float64 second "
                         f"moments (max |{name}| = {a.abs().max().item():.3g}); rescale the "
                         "input")


def _check_encoder_module(encoder, x: Tensor, dev: torch.device) -> int:
    """Refuse, before any work, a user's encoder module that cannot train on ``x``: not an
    ``nn.Module``, no trainable parameters, or a forward pass on float32 rows (the training
    runs in float32) that fails or does not return one 2-D floating tensor with a row per
    input row. The forward is tried on a copy in eval mode
    (so batch-norm statistics and the like are not touched) on the first rows of ``x``."""
    if not isinstance(encoder, nn.Module):
        raise ValueError(f"encoder must be one of {', '.join(ENCODERS)} or an nn.Module, "
                         f"got {type(encoder).__name__}")
    params = list(encoder.parameters())
    if not any(p.requires_grad for p in params):
        raise ValueError(f"encoder {type(encoder).__name__} has no trainable parameters")
    rows = x[:4].to(dev, torch.float32)
    probe = copy.deepcopy(encoder).to(dev).eval()   # (the moving average copies it too)
    try:
        with torch.no_grad():
            out = probe(rows)
    except Exception as err:   # noqa: BLE001 -- any failure of the user's forward
        reraise_interruption(err)
        # a module of another dtype is fine if it casts its input (tested with bfloat16)
        other = sorted({str(p.dtype) for p in params if p.is_floating_point()
                        and p.dtype != torch.float32})
        hint = (f" (its parameters are {', '.join(other)}: pass encoder.float(), or cast "
                "the input inside forward)" if other else "")
        raise ValueError(f"encoder {type(encoder).__name__} failed on a batch of shape "
                         f"{tuple(rows.shape)} (float32): {type(err).__name__}: {err}"
                         f"{hint}") from err
    if not (isinstance(out, Tensor) and out.ndim == 2 and out.shape[0] == rows.shape[0]
            and out.is_floating_point()):
        got = (f"shape {tuple(out.shape)}, {out.dtype}" if isinstance(out, Tensor)
               else type(out).__name__)
        raise ValueError(f"encoder {type(encoder).__name__} must map a batch of shape "
                         f"{tuple(rows.shape)} to one floating tensor of shape "
                         f"({rows.shape[0]}, k); got {got}")
    return int(out.shape[1])


#: the input dtypes whose rounding :func:`column_rank` allows for (their machine epsilon)
LOW_PRECISION_EPS = {np.dtype(np.float16): 2.0 ** -10, torch.float16: 2.0 ** -10,
                     torch.bfloat16: 2.0 ** -7}


def _input_eps(a) -> float:
    """The machine epsilon of ``a``'s dtype if it is float16 or bfloat16, else 0."""
    dtype = getattr(a, "dtype", None)
    try:
        return LOW_PRECISION_EPS.get(dtype, 0.0)
    except TypeError:                  # an unhashable dtype-like attribute
        return 0.0


def column_rank(x: Tensor, eps: float = 0.0) -> int:
    """The number of directions ``x``'s columns span: eigenvalues of the float64 covariance
    above ``max(1e-10, 10 eps²)`` of the largest, ``eps`` the input's precision
    (:data:`LOW_PRECISION_EPS`), each column centred and scaled to a largest magnitude of 1
    first. Scaled: at values of 1e-160 the covariance's entries were subnormal and the rank
    came out 0 (session 42; _check_scale refused what is smaller). Centred: scaled by its
    offset, a column at 1e8 + O(1) shrank to 1e-8 of the others and the rank of a world with
    offsets up to 5e12 came out 1, with advice that would drop three latents (session 47).
    The cut: float16 rounding leaves eigenvalues near ``eps²/12`` of the largest, which
    counted as directions, so 6 float16 columns spanning 3 kept 6 outputs (session 48, a
    user's trial); ``10 eps²`` is 100× above that noise."""
    x = x.double()
    x = x - x.mean(0)
    x = x / x.abs().amax(0).clamp_min(torch.finfo(x.dtype).tiny)
    evals = torch.linalg.eigvalsh(torch.cov(x.T).reshape(x.shape[1], x.shape[1]))
    cut = max(1e-10, 10 * eps * eps)
    return int((evals > cut * evals[-1].clamp_min(1e-300)).sum())


class HeldOutUndefined(RuntimeWarning):
    """The held-out criterion was never finite, so nothing was selected on it."""


class ViewsDiffer(UserWarning):
    """``x_next``'s columns have another spread or mean than ``x``'s, beyond what the two
    views of one stationary process show."""


#: :func:`_warn_views_differ`'s bounds: a column's spread ratio outside [1/3, 3], or a mean
#: shift above one standard deviation of x. Why: the two views of a stationary world have
#: one marginal law, so their sample spreads and means agree up to sampling error (a few
#: percent at 1000 pairs); a units mix-up (x_next in mm, x in cm: 10x) or an offset added to
#: one view was accepted silently, lowering R^2(h -> z) from 0.990 to 0.86-0.92 (session 51,
#: a user's trial), while fit_encoder refuses only a factor 1000. Lenient on purpose: a
#: trajectory's one-step drift or a slowly changing world stays far inside them.
VIEWS_SPREAD_RATIO, VIEWS_MEAN_SHIFT = 3.0, 1.0


def _warn_views_differ(x: Tensor, x_next: Tensor, ratio: Tensor) -> None:
    """:class:`ViewsDiffer` when a column of ``x_next`` has another scale or mean than ``x``
    (training pairs; ``ratio``: spreads of x_next over x's)."""
    shift = (x_next.mean(0) - x.mean(0)).abs() / x.std(0)
    bad = torch.nonzero((ratio > VIEWS_SPREAD_RATIO) | (ratio < 1 / VIEWS_SPREAD_RATIO) |
                        (shift > VIEWS_MEAN_SHIFT)).flatten().tolist()
    if bad:
        cols = bad[:5]
        warnings.warn(
            f"x_next's column(s) {cols}{' ...' if len(bad) > 5 else ''} have spreads "
            f"{', '.join(f'{ratio[i].item():.3g}' for i in cols)} times x's and means "
            f"{', '.join(f'{shift[i].item():.3g}' for i in cols)} of x's standard deviations "
            "away from x's: two views of one stationary world agree in both. A units "
            "mix-up or an offset on one view lowers what the fit can recover; check how "
            "x_next was made", ViewsDiffer, stacklevel=_caller_stacklevel())


class WidthReduced(UserWarning):
    """``fit_encoder`` made the embedding as wide as the number of directions x's columns
    span, fewer than x has columns (``dim_out`` was left unset)."""


def _warn_rank(rank: int, dim_out: int) -> None:
    """Warn when ``x``'s columns span fewer directions (``rank``, :func:`column_rank`) than
    the embedding has outputs: the extra outputs can then only be nonlinear functions of the
    others (a duplicated column, say, with ``dim_out`` given)."""
    if rank < dim_out:
        warnings.warn(f"x's columns span {rank} direction{'s' * (rank != 1)}, fewer than "
                      f"the {dim_out} outputs"
                      + (f"; for {rank} latents pass dim_out={rank}" if rank else ""),
                      UserWarning, stacklevel=_caller_stacklevel())


def _tensor_device(obj) -> str | None:
    """The device type of the first tensor in a nested dict/list/tuple (a training state),
    or ``None`` if it holds none."""
    if isinstance(obj, torch.Tensor):
        return obj.device.type
    items = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (list, tuple)) \
        else ()
    for v in items:
        if (found := _tensor_device(v)) is not None:
            return found
    return None


def _device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be a torch device or its name, got {device!r}: "
                         f"{exc}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: torch finds no CUDA device here "
                         f"(torch {torch.__version__}); use the CPU: device='cpu' (pycheck fit: "
                         "--device cpu, or no --device)")
    if dev.type == "cuda" and dev.index is not None \
            and dev.index >= torch.cuda.device_count():
        # failed at the first .to() with torch's RuntimeError (session-45 CUDA review)
        raise ValueError(f"device {device!r}: torch finds {torch.cuda.device_count()} CUDA "
                         f"device(s) here, numbered from 0")
    # any other type failed only once training began ("mps": float64 standardisation, which
    # MPS lacks; "meta": Tensor.item() on a meta tensor; sessions 36 and 45)
    if dev.type == "mps":
        raise ValueError(f"device {device!r}: training standardises its input in float64 "
                         "(pycheck.encoders.Standardized), which MPS does not support; use "
                         "device='cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r}: training runs on cpu or cuda, not {dev.type}")
    return dev


def default_num_slices(dim: int) -> int:
    """SIGReg slices for a ``dim``-dimensional embedding: ``16 dim`` clamped to [64, 256].

    LeJEPA's 256 is meant for wide embeddings; in low dimension far fewer random
    directions cover the sphere, and SIGReg's cost is linear in the number of slices (at
    batch 1024 in 4D it was 85% of a 256-slice step). Measured with fit_encoder's other
    defaults on two 4D mixings outside the package: 64 vs 256 slices gave R²(h -> z)
    0.9956 vs 0.9953 and 0.9939 vs 0.9943, at about 4x less time per step.
    """
    return int(min(256, max(64, 16 * dim)))


def warmup_cosine(opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """fit_encoder's schedule: 5% linear warm-up to the peak lr, then cosine decay to 0."""
    warm = max(1, steps // 20)
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm
        else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))


ENCODERS = {"residual-mlp": ResidualMLPEncoder, "mlp": MLPEncoder}


def make_encoder(name: str, dim_in: int, dim_out: int, seed: int = 0) -> nn.Module:
    """The encoder ``name`` (a key of :data:`ENCODERS`), initialised from ``seed`` without
    touching the global RNG state: what :func:`fit_encoder` builds for a string ``encoder``."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; valid: {', '.join(ENCODERS)} "
                         "or an nn.Module")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ENCODERS[name](dim_in, dim_out)


def default_whiten(encoder: nn.Module) -> str:
    """Input whitening for ``encoder``: "diag" keeps a RealNVP encoder's coupling structure,
    "zca" otherwise."""
    return "diag" if isinstance(encoder, RealNVPEncoder) else "zca"


def fit_encoder(x, x_next, objective: str = "whitened", *,
                encoder: nn.Module | str = "residual-mlp",
                steps: int = 3000, batch_size: int = 1024, lr: float = 1e-3, seed: int = 0,
                device=None, progress: bool = True, whiten: str | None = None,
                dim_out: int | None = None, warm_start: dict | None = None,
                holdout: float = DEFAULT_HOLDOUT, readout: str | None = None, sampler=None,
                ema: float | None = None, checkpoint=None, checkpoint_every: float = 60.0,
                **options) -> nn.Module:
    """Fit an encoder so that ``f(x)`` minimises ``objective`` on the pairs ``(x, x_next)``.

    Parameters
    ----------
    x, x_next : array or tensor, shape (N, d)
        Positive pairs of observations (e.g. ``g(z), g(z')``). ``N >= 2``, finite values.
    objective : {"whitened", "sigreg", "vicreg", "infonce"}
        ``"whitened"`` (default): :func:`whitened_loss`, alignment under exact batch
        whitening; its one option ``lam`` (a weight >= 0 on SIGReg of the whitened batch,
        or a sequence of weights) defaults to :data:`DEFAULT_WHITENED_LAMS`: one encoder
        is trained per weight and the one with the lowest held-out whitened alignment is
        returned (``enc.lam``, ``enc.lam_fits``); with ``holdout=0``, a user-given module
        or a warm start, 0 only. The others: see
        :func:`pycheck.objectives.make_objective`; ``**options`` go to it (e.g.
        ``lam=0.1``, ``sigma=1.0``).
    encoder : {"residual-mlp", "mlp"} or nn.Module
        ``"residual-mlp"`` (default): :class:`pycheck.encoders.ResidualMLPEncoder` ``(d, dim_out
        or d)``, a linear path (starting at the identity) plus a zero-initialised MLP
        branch; ``"mlp"``: a plain :class:`pycheck.encoders.MLPEncoder`; or any module
        mapping ``(B, d)`` to ``(B, n)``, trained in place.
    steps, batch_size, lr
        Adam steps, pairs per step (capped at the number of training pairs), peak
        learning rate (5% linear warm-up,
        then cosine decay to 0).
    seed
        Seeds the default encoder's initialisation, the batch order and SIGReg's slices;
        the global RNG state is left untouched.
    device
        ``"cuda"`` if available, else ``"cpu"`` by default.
    progress
        A tqdm progress bar when stderr is a terminal; otherwise (a batch job's log) a line
        ``pycheck: ... step / steps ...`` a minute.
    whiten : {"zca", "diag", "none"}, optional
        Input whitening fitted on ``x`` and stored in the returned module; default ``"diag"``
        for a :class:`RealNVPEncoder` (keeps the coupling structure), ``"zca"`` otherwise.
    warm_start : dict, optional
        A first phase with another objective, e.g. ``{"objective": "vicreg", "steps": 2000,
        "lr": 1e-3}`` (keys ``objective``, ``steps``, optional ``lr`` (default ``lr``) and
        ``options`` for that objective). The encoder's output is then whitened by a fixed
        affine map fitted on ``f(x)`` (:class:`pycheck.encoders.OutputWhitened`) and
        ``steps`` more steps train ``objective`` at peak lr ``lr``, with a constant
        regularizer weight (``lam_start`` defaults to ``lam``: no ramp). Why VICReg first:
        in a Gaussian-OU world, alignment + VICReg's optimum is exactly a scaled rotation of
        ``z`` (second moments fixed, alignment is lowest on the linear part), and VICReg,
        unlike a weak SIGReg, does not bend a shrunken ``h``; SIGReg then only has to
        polish (``results/twod/convergence.md``). The returned module's
        ``warm_start_model`` is a copy of the model after the first phase.
    holdout : float
        Share of the pairs held out (default 0.1; at least 2 pairs) to select the
        checkpoint (by :func:`heldout_criterion`) and the read-out (by the held-out
        :func:`whitened_alignment`); 0 trains on all pairs and returns the final weights
        (their moving average, see ``ema``; with ``ema=0`` the last iterate).
    readout : {"sfa", "trained"}, optional
        ``"sfa"``: with held-out pairs and an encoder that has ``features`` and
        ``set_readout`` (the default one; for others, such as ``"mlp"``, nothing competes
        and ``enc.readout`` says ``"trained"``), the last layer is replaced by the best held-out
        of the trained read-out and the SFA read-outs (see the module docstring).
        ``"trained"``: the trained last layer is kept. Default: ``"sfa"`` for the
        second-moment objectives ("whitened", "vicreg"), whose optimum the SFA read-out
        solves exactly within the features' span; ``"trained"`` for "sigreg" and "infonce",
        because the SFA read-out ignores their constraint: in an anisotropic world
        (``pycheck reproduce anisotropic``) it turned SIGReg's encoder into the
        non-Gaussian slow-feature harmonics (R² to He₂(z_slow) 0.97), which Gaussianity
        excludes.
    ema : float, optional
        Decay of an exponential moving average of the weights, updated after every step;
        checkpoints are evaluated and the model is returned with the averaged weights.
        Default :data:`DEFAULT_EMA` (chosen on the suite's tuning half); 0 turns it off
        (the iterates themselves). Capped at ``1 - 6 / steps`` so that the average covers
        at most the last sixth of a short run. It removes part of the optimiser's noise that the
        cosine decay leaves.
    sampler : callable, optional
        ``sampler(batch_size) -> (x, x_next)``: fresh pairs of raw observations for every
        step (a synthetic world can draw them instead of storing a data set; the caller
        owns its random state). ``x_next`` has ``batch_size`` rows; ``x`` may have fewer,
        ``k``: pair ``i`` is then ``(x[i % k], x_next[i])`` (several views of one state,
        each first view encoded once). ``x, x_next`` then only fit the input whitening
        and give the held-out pairs. Training runs with one NumPy BLAS thread (restored after), so
        a NumPy sampler does not start threads that compete with torch's
        (:func:`set_threads`). With a sampler the last checkpoint is returned unless an
        earlier one is significantly better on the held-out pairs
        (:func:`_select_checkpoint`).
    checkpoint : str or path, optional
        A file that makes the fit survive an interruption (Ctrl-C, a killed or preempted
        job): the training state (weights, optimiser, schedule, moving average, random
        generators, history, best checkpoint so far) is written there, atomically, every
        ``checkpoint_every`` seconds of training and at the end of each training phase
        (each SIGReg weight, a warm start). Calling ``fit_encoder`` again with the same
        data and arguments resumes from it, and the result is bit-identical to an
        uninterrupted run on the same device and thread count (tested; the thread count
        is not part of the file's fingerprint, so resuming with another one mixes the two
        and matches neither: keep it; the file records it and a resume at another count
        warns). The file is
        deleted when the fit returns. A file written by a call with other data or
        arguments raises ``ValueError``. With a ``sampler``, the sampler must have
        ``state_dict()`` and ``load_state_dict(state)`` (its random state is saved too).
        The file is a pickle: load only files you wrote.

    Returns
    -------
    nn.Module
        A :class:`pycheck.encoders.Standardized` wrapper (eval mode) with attributes
        ``history`` (list of ``(step, parts)``; ``parts["heldout"]`` at evaluation steps;
        :func:`plot_history` draws it),
        ``train_seconds`` and, with held-out pairs, ``criterion`` (its name),
        ``heldout_objective`` (the selected model's held-out criterion; for the whitened
        alignment ``2(1 - rho)`` at the T1 optimum),
        ``readout`` (the read-out policy used), ``best_step``, ``selected`` (name of the chosen
        read-out; absent, ``None`` in ``pycheck fit``'s ``fit.json``, when nothing competed:
        ``readout="trained"``),
        ``candidates`` (held-out objective of each), ``heavy_tailed`` (the candidates
        left out for their tails: :data:`KURTOSIS_MAX`), ``slowness``
        (:func:`coordinate_slowness` of each output on the held-out pairs) and
        ``slowness_se`` (its standard error), ``ordered`` (whether the outputs are sorted
        from the slowest), ``coverage`` (:func:`slow_direction_coverage`; ``None`` when it
        could not be computed). With ``objective="whitened"``: ``lam`` (the SIGReg weight
        of the returned fit) and, when several weights were trained, ``lam_fits`` (each
        weight's held-out value). With
        ``readout="sfa"`` and the default encoder the outputs come white and ordered from the slowest (a trained
        last layer is followed by the SFA map of its own outputs, which changes neither
        the held-out objective nor R²). With more input channels than latents, the
        leading coordinates (as many as ``slowness`` shows clearly apart) show how many
        latents there are, but a refit with ``dim_out`` set to that number recovers them
        better than keeping them (docs/FIT.md, 'More channels than latents': R²(h→z)
        0.975 against 0.917 in a trial; this said to keep them until session 51).

    Warns
    -----
    LinearMapKept
        The returned embedding is the linear map's: no nonlinear read-out beat it on the
        held-out pairs by 2 standard errors (with the hint :func:`pycheck.fitcmd.sample_hint`
        gives: more pairs, or more steps on a short run).
    RuntimeWarning
        The embedding predicts some of the linear map's slow directions clearly worse than
        x does (``enc.coverage``, :func:`slow_direction_coverage`): it may have dropped a
        latent.
    UserWarning
        x's columns span fewer directions than the outputs (a duplicated column), naming
        the rank.

    Raises
    ------
    ValueError
        Bad shapes, complex, boolean, non-finite or overflowing values, a constant column (unless
        ``whiten="none"``), ``N < 2``, unknown objective or option, a ``steps``,
        ``batch_size``, ``seed`` or ``dim_out`` that is not an integer in range (for
        ``objective="whitened"``, ``dim_out`` above ``d``), ``lr`` not a finite positive
        number, a ``device`` that is not one (or CUDA where torch has none), a ``sampler``
        that is not callable.
    TrainingDiverged
        The loss became non-finite (the message names the step).
    """
    if checkpoint is not None:
        return _fit_resumable(checkpoint, checkpoint_every, x, x_next, objective, dict(
            encoder=encoder, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
            device=device, progress=progress, whiten=whiten, dim_out=dim_out,
            warm_start=warm_start, holdout=holdout, readout=readout, sampler=sampler,
            ema=ema), options)
    xt, xnt = _as_tensor("x", x), _as_tensor("x_next", x_next)
    if xt.shape != xnt.shape:
        raise ValueError(f"x and x_next must have the same shape, got {tuple(xt.shape)} "
                         f"and {tuple(xnt.shape)}")
    n_pairs, d = xt.shape
    if n_pairs < 2:
        raise ValueError(f"need at least 2 pairs, got {n_pairs}")
    checked = _check_settings(objective, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                              dim_out=dim_out, holdout=holdout, ema=ema, encoder=encoder,
                              readout=readout, warm_start=warm_start, whiten=whiten,
                              options=options)
    steps, batch_size, seed, dim_out, ema, warm_start = (checked[k] for k in (
        "steps", "batch_size", "seed", "dim_out", "ema", "warm_start"))
    dev = _device(device)
    if sampler is not None and not callable(sampler):
        raise ValueError(f"sampler must be a callable batch -> (x, x_next), got "
                         f"{type(sampler).__name__}")
    # x's column rank, once: for the width below and the rank warning after the split
    rank = column_rank(xt, max(_input_eps(x), _input_eps(x_next)))
    if dim_out is None and isinstance(encoder, str) and n_pairs > d and 1 <= rank < d:
        # x's columns span fewer directions than there are columns (redundant channels,
        # x = A g(z) with A of full column rank): an embedding of d outputs cannot be the
        # linear map's (its read-out was dropped from the candidates) and a trial's fit
        # ended below R²(x→z), 0.9722 against 0.9744 (8 channels, 5 latents; session 48).
        # An invertible mixing of n latents spans at least n directions, so `rank` outputs
        # keep every latent; with them that fit reached 0.9926
        dim_out = rank
        # said after the input checks below: a refusal (a constant column) had come after
        # this warning's advice (session 49, a user's trial)
        width_reduced = (f"x's {d} columns span {rank} direction{'s' * (rank != 1)}: the "
                         f"embedding has {rank} output{'s' * (rank != 1)} (no latent is "
                         "lost: an invertible mixing of n latents spans at least n); pass "
                         f"dim_out={d} for {d}")
    else:
        width_reduced = None
    # the embedding's width: a user's module sets its own (dim_out is then only a hint)
    width = dim_out or d
    if not isinstance(encoder, str):
        width = _check_encoder_module(encoder, xt, dev)
    if readout == "sfa" and (warm_start is not None or not (
            encoder == "residual-mlp" if isinstance(encoder, str) else
            hasattr(encoder, "features") and hasattr(encoder, "set_readout"))):
        # asked for, and nothing would have competed: the trained layer came back with
        # fit.json recording readout "sfa" (session 47, a user's trial)
        raise ValueError("readout='sfa' needs an encoder with features() and set_readout() "
                         "(the default 'residual-mlp') and no warm_start (its output "
                         "whitening wraps the features); got "
                         + ("a warm_start" if warm_start is not None else
                            f"encoder={encoder!r}" if isinstance(encoder, str) else
                            f"a {type(encoder).__name__} without them")
                         + "; leave readout unset")
    if readout == "sfa" and holdout == 0:
        # nothing competed and the outputs came neither white nor ordered, while the fit
        # reported readout "sfa" (session 49, a user's trial)
        raise ValueError("readout='sfa' chooses the read-out on held-out pairs, and "
                         "holdout=0 holds none out; pass holdout > 0 or leave readout unset")
    if objective == "sigreg":
        options.setdefault("seed", seed)
        options.setdefault("num_slices", default_num_slices(width))
    if warm_start is not None:
        if objective in DEFAULT_LAM:
            options.setdefault("lam_start", options.get("lam", DEFAULT_LAM[objective]))
    if objective == "whitened" and (dim_out or d) > d:
        raise ValueError(f"objective 'whitened' whitens the embedding batch, which needs "
                         f"dim_out <= d = {d} (the encoder starts as a linear map of x); "
                         f"got dim_out = {dim_out}")
    if objective == "whitened" and batch_size <= width:
        # the loss whitens each batch by its covariance, singular with no more rows than
        # columns: such a run trained on a ridge alone (batch_size 2 at d = 3, session 42)
        raise ValueError(f"objective 'whitened' needs batch_size > the embedding's width "
                         f"({width}): a batch covariance of {batch_size} rows is singular"
                         # (5, 3000) arrays read as 5 pairs of 3000 channels (session 48)
                         + (f"; x has {n_pairs} rows and {d} columns: is it transposed? "
                            "(one pair per row)" if n_pairs < d else ""))
    n_train = n_pairs - _n_heldout(n_pairs, holdout)   # heldout_count refuses later, after the split
    if objective == "whitened" and sampler is None and n_train <= width:
        # the batches are the training pairs at most: 3 training pairs (holdout 0.9 of 33)
        # had trained on a singular batch covariance and returned outputs of spread ~5e5
        # without a word (session 49, a user's trial)
        raise ValueError(f"objective 'whitened' needs more training pairs than the "
                         f"embedding's width ({width}); {n_train} of the {n_pairs} pairs "
                         f"train ({n_pairs - n_train} held out, holdout = {holdout}): pass "
                         "more pairs" + (" or a smaller holdout" if n_train < n_pairs else ""))
    if objective == "whitened":
        lams = _whitened_lams(options.get("lam"), holdout, encoder, warm_start)
        if len(lams) > 1:
            with context_value(_WIDTH_NOTE, width_reduced):
                return _fit_lams(x, x_next, lams, dict(
                    encoder=encoder, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                    device=device, progress=progress, whiten=whiten, dim_out=dim_out,
                    holdout=holdout, readout=readout, sampler=sampler, ema=ema))
        options["lam"] = lams[0]
    if readout is None:            # no read-out competes without held-out pairs
        readout = "sfa" if objective in ("whitened", "vicreg") and holdout else "trained"
    if objective == "whitened":
        lam = float(options["lam"])
        # one process's fit, in a torch.distributed job too
        reg = SIGReg(default_num_slices(dim_out or d), seed=seed, distributed=False).to(dev) \
            if lam else None
        loss_fn = functools.partial(whitened_loss, lam=lam, sigreg=reg)
        # the random generators the loss draws from, as make_objective's losses list them
        loss_fn.generators = [] if reg is None else [reg.generator]
    else:
        loss_fn = make_objective(objective, **options)
        if getattr(loss_fn, "sigreg", None) is not None:
            loss_fn.sigreg.distributed = False   # one process's fit (SIGReg's docstring)

    gen = torch.Generator().manual_seed(seed)
    if isinstance(encoder, str):
        encoder = make_encoder(encoder, d, dim_out or d, seed)
    if whiten is None:
        whiten = default_whiten(encoder)
    tr, ho = _split(n_pairs, holdout, gen, width)
    if whiten == "zca" and tr.numel() <= d:
        # the ZCA input whitening is fitted on the training pairs' x: no more rows than
        # columns make its covariance singular (session 49, a user's trial; "diag" only
        # scales each column and needs 2 rows)
        raise ValueError(f"{tr.numel()} training pairs cannot fit the ZCA input whitening "
                         f"of {d} columns (it needs more pairs than columns; holdout = "
                         f"{holdout} held out {ho.numel()}): pass more pairs, a smaller "
                         "holdout, whiten='diag' or whiten='none'")
    if whiten != "none":
        # on the rows the whitening is fitted on: a column constant there alone (a rare
        # nonzero value that fell into the held-out share) was divided by a zero spread
        # and came out ~1e6 on those rows (session 36); x_next's scale too (1e40 diverged
        # at step 0, a column constant in x_next alone was accepted)
        _check_scale("x", xt[tr], "on the training pairs" if ho.numel() else "")
        _check_scale("x_next", xnt[tr], "on the training pairs" if ho.numel() else "")
        # x's standardisation is applied to x_next: a column of another scale overflowed
        # float32 (x_next = 1e40 x: NaN at step 0). Views of one process have spreads of
        # one order; a factor 1000 is a mix-up, not data
        ratio = xnt[tr].std(0) / xt[tr].std(0)
        off = torch.nonzero((ratio > 1e3) | (ratio < 1e-3)).flatten().tolist()
        if off:
            raise ValueError(f"x_next's column(s) {off} have spreads "
                             f"{', '.join(f'{v:.3g}' for v in ratio[off].tolist())} "
                             "times x's; the two views must be observations of one kind "
                             "(same units and scale)")
        _warn_views_differ(xt[tr], xnt[tr], ratio)
    if torch.equal(xt, xnt):
        # every encoder aligns such pairs perfectly: a trial's fit ran, reported held-out
        # alignments of 0 and a slowness of 0, and hinted that more steps might help (s49).
        # After the other input checks, which name more specific faults
        raise ValueError("x_next equals x: each pair is one observation twice, so every "
                         "encoder has alignment 0 and nothing can be learned; pass each "
                         "observation's successor as x_next")
    # after the split, whose refusal is then the one message (session 36)
    note = width_reduced or _WIDTH_NOTE.get()
    _WIDTH_NOTE.set(None)               # said once: by the first sub-fit, not the second
    if note is not None:
        warnings.warn(note, WidthReduced, stacklevel=_caller_stacklevel())
    _warn_rank(rank, dim_out or d)
    first = None
    if warm_start is not None:
        # the first phase's read-out and coverage are not what returns: its
        # LatentMayBeDropped had come beside the returned fit's, with other counts (s49)
        with linear_map_unsaid(), _unsaid(LatentMayBeDropped):
            first = fit_encoder(xt, xnt, warm_start["objective"], encoder=encoder,
                                steps=warm_start["steps"], batch_size=batch_size,
                                lr=warm_start.get("lr", lr), seed=seed, device=device,
                                progress=progress, whiten=whiten, dim_out=dim_out,
                                holdout=holdout, sampler=sampler, ema=ema,
                                **warm_start["options"])
        encoder = OutputWhitened.fit(first.encoder, torch.from_numpy(embed(first, xt)))
        first = copy.deepcopy(first)
    model = Standardized.fit(encoder, xt[tr], whiten).to(dev)
    # standardised once, in float64, before the float32 cast (a large offset survives)
    data = torch.stack([model.standardize(xt.to(dev)), model.standardize(xnt.to(dev))])  # (2, N, d)
    train_data, held = data[:, tr], (data[:, ho] if ho.numel() else None)
    batch = min(int(batch_size), tr.numel()) if sampler is None else int(batch_size)
    # the module's own width: `dim_out or d` failed a sigreg fit of a user's 5-output module
    # of 3 columns at its first evaluation (session 49)
    model.criterion, criterion = heldout_criterion(objective, batch, width, seed, options)
    desc = f"fit {objective}" + (f" (lam {options['lam']:g})" if objective == "whitened" else "")
    if _PHASE.get() is not None:     # which of the default's fits (session 44: each bar ran
        desc += f", fit {_PHASE.get()[0]} of {_PHASE.get()[1]}"   # 0-100% on its own)
    # a sampler draws with NumPy: one BLAS thread beside torch's (see set_threads)
    with one_blas_thread():
        history, best, secs = _train(model.encoder,
                                     _batches(model, train_data, sampler, gen, dev),
                                     held, loss_fn, steps=steps, batch=batch, lr=lr,
                                     progress=progress, desc=desc,
                                     criterion=criterion, ema=float(ema),
                                     prefer_last=sampler is not None,
                                     rngs=([gen, *loss_fn.generators], sampler))
    model.history, model.train_seconds, model.readout = history, secs, readout
    # the settings in effect, defaults resolved (pycheck fit's fit.json had only the
    # arguments given; session 49, a user's trial)
    model.settings = dict(objective=objective, whiten=whiten, ema=float(ema), batch=batch,
                          steps=steps, holdout=holdout, width=width)
    if objective == "whitened":
        model.lam = options["lam"]
    if held is not None and best is None:
        # every evaluation NaN (a module with a constant or collinear output: the held-out
        # whitening is singular): no checkpoint, read-out or coverage was chosen, silently,
        # and the fit reported readout "sfa" (session 49, a user's trial)
        model.readout, model.ordered = "trained", False
        warnings.warn(f"fit_encoder: the held-out {model.criterion} was not finite at any "
                      "evaluation (an output constant or a linear function of the others "
                      "makes the held-out whitening singular): the last weights are "
                      "returned, with no checkpoint, read-out or coverage check chosen",
                      HeldOutUndefined, stacklevel=_caller_stacklevel())
    if best is not None:
        model.encoder.load_state_dict(best[1])
        model.heldout_objective, model.best_step = best[0], best[2]
        # one BLAS thread here too: the read-out competition's NumPy sums otherwise depend
        # on OpenBLAS's thread count (a user's trial, session 43: VICReg's held-out value
        # moved in its last bit with OPENBLAS_NUM_THREADS=1; experiments already ran so)
        with one_blas_thread():
            if readout == "sfa":
                _sfa_select(model, train_data, held)
            else:                     # the trained layer, in the module's own order
                model.ordered = False          # and `selected` stays unset: no choice
            model.slowness, model.slowness_se = coordinate_slowness(
                *_embed_pairs(model.encoder, held), se=True)
            if _PHASE.get() is None:
                model.coverage = slow_direction_coverage(model.encoder, train_data, held, seed)
                _warn_user(model, steps)
            else:                           # _fit_lams checks only the fit it returns
                model._coverage_args = (model.encoder, train_data, held, seed)
    model.eval()
    if first is not None:
        model.warm_start_model = first
        if getattr(model, "best_step", None) is not None:
            # counted like the history's steps, from the warm start's first (it was the
            # second phase's own count, so history.png's checkpoint line sat
            # warm_start["steps"] too early; session 36)
            model.best_step += warm_start["steps"]
        model.history = first.history + [(warm_start["steps"] + s, p) for s, p in history]
        model.train_seconds += first.train_seconds
    return model


#: SIGReg weights for which ``objective="whitened"`` trains one encoder each by default,
#: keeping the best on held-out pairs. Chosen on the suite's tuning half
#: (``results/fit_encoder/suite/``, variants whitened-sigreg{0.1,0.3,1,3}): no single
#: weight was best everywhere (0 / 0.1 / 0.3 / 1 gave R²(h -> z) 0.965 / 0.982 / 0.988 /
#: 0.965 on an 8D planar mixing at rho 0.3, 0.986 / 0.952 / 0.914 / 0.912 on a 2D MLP
#: mixing), but the held-out whitened alignment ranked 0 against 0.3 like R²(h -> z) on
#: all 6 tuning mixings (0.1 against 0 once not: 4D RealNVP), so training both and keeping
#: the better one takes the better R² at twice the cost. Held-out half, run once: 0.3
#: chosen on 2 of 6, both gains (0.973 -> 0.986, 0.956 -> 0.960).
DEFAULT_WHITENED_LAMS = (0.0, 0.3)


def _whitened_lams(lam, holdout: float, encoder, warm_start) -> tuple[float, ...]:
    """The SIGReg weights to fit for ``objective="whitened"``: ``lam`` (a number or a
    sequence of them), else :data:`DEFAULT_WHITENED_LAMS` when a choice between them is
    possible (held-out pairs, a fresh default encoder, no warm start), else 0."""
    can_choose = isinstance(encoder, str) and warm_start is None and holdout > 0
    if lam is None:
        return DEFAULT_WHITENED_LAMS if can_choose else (0.0,)
    if isinstance(lam, np.ndarray) and lam.ndim <= 1:    # np.array([0, 0.3]) was refused
        lam = lam.tolist()
    seq = tuple(lam) if isinstance(lam, (list, tuple)) else (lam,)
    if not seq or any(isinstance(v, bool) or not isinstance(v, (int, float, np.floating,
                                                                np.integer))
                      or not 0 <= v < math.inf for v in seq):
        raise ValueError(f"lam must be a finite number >= 0 or a non-empty sequence of "
                         f"them, got {lam!r}")
    if len(set(float(v) for v in seq)) < len(seq):
        # lam=[0, 0] trained the same fit twice and lam_fits kept one key (session 49)
        raise ValueError(f"lam lists a value twice: {list(seq)}")
    if len(seq) > 1 and not can_choose:
        raise ValueError("several lam values need held-out pairs (holdout > 0), a default "
                         "encoder given by name and no warm_start: one encoder is trained "
                         "per value and the best on held-out pairs is kept")
    return tuple(float(v) for v in seq)


#: the checkpoint of the fit_encoder call in progress (``checkpoint=``), seen by its phases
_RESUME: contextvars.ContextVar = contextvars.ContextVar("pycheck_resume", default=None)


class CheckpointMismatch(ValueError):
    """A checkpoint file that this call cannot resume from: unreadable, or written by a call
    with other data or arguments (``path``: the file)."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.path = path

    def __reduce__(self):     # picklable (a --jobs worker's exception reaches its parent so)
        return type(self), (str(self), self.path)


class _Resume:
    """An interruptible call's checkpoint file (:func:`resuming`): one state per training
    phase, in the (deterministic) order in which the call trains them."""

    def __init__(self, path: Path, every: float, fingerprint: str, who: str = "fit_encoder"):
        self.path, self.every, self.fingerprint = path, every, fingerprint
        self.phases: list[dict] = []
        self.next, self.last = 0, time.monotonic()
        if path.exists():
            try:
                data = torch.load(path, map_location="cpu", weights_only=False)
            except Exception as err:  # noqa: BLE001 -- any unreadable file
                reraise_interruption(err)
                raise CheckpointMismatch(f"checkpoint {path} cannot be read "
                                         f"({type(err).__name__}: {err}); delete it to start "
                                         "afresh", path) from err
            if not isinstance(data, dict) or data.get("fingerprint") != fingerprint:
                raise CheckpointMismatch(f"checkpoint {path} was written by a {who} call "
                                         "with other data or arguments; delete it (or pass "
                                         "another path) to start afresh", path)
            self.phases = data["phases"]
            # the kernels the interrupted process trained with did part of this result's
            # work: a resumed run records them too (session 46: a run resumed after its
            # training had finished recorded none, and the mixed-kernel warning skipped it)
            from .validate import KERNELS_USED, RESUMED_KERNEL_FAILURES
            KERNELS_USED.update(data.get("kernels", ()))
            RESUMED_KERNEL_FAILURES.update(data.get("kernel_failures", ()))
            written_at = data.get("threads")     # absent in files before session 44
            self.written_threads = written_at
            if written_at is not None and written_at != torch.get_num_threads():
                warnings.warn(
                    f"checkpoint {path} was written at {written_at} torch thread(s) and "
                    f"is resumed at {torch.get_num_threads()}: sums split over another "
                    "thread count round differently, so the result will match an "
                    "uninterrupted run at neither count in its last bits; call "
                    f"torch.set_num_threads({written_at}) first to reproduce one",
                    RuntimeWarning, stacklevel=2)

    def take(self) -> tuple[int, dict | None]:
        """The next phase's index and its saved state (``None``: not started)."""
        i, self.next = self.next, self.next + 1
        return i, (self.phases[i] if i < len(self.phases) else None)

    def due(self) -> bool:
        return time.monotonic() - self.last >= self.every

    @property
    def tmp(self) -> Path:
        """Where a save is written before it replaces the checkpoint."""
        return self.path.with_name(self.path.name + ".tmp")

    def save(self, i: int, state: dict) -> None:
        """Write the states atomically: serialised in memory, then the temporary file and
        a rename. On a file-system error (a full disk) the temporary file is removed, the
        previous checkpoint stays as it was and ``OSError`` names the checkpoint (before
        session 42 torch.save's own RuntimeError came through and the .tmp stayed)."""
        self.phases[i:i + 1] = [state]
        buf = io.BytesIO()
        from .validate import KERNEL_FAILURES, RESUMED_KERNEL_FAILURES, kernels_used
        torch.save(dict(fingerprint=self.fingerprint, phases=self.phases,
                        threads=torch.get_num_threads(), kernels=kernels_used(),
                        kernel_failures=sorted(KERNEL_FAILURES | RESUMED_KERNEL_FAILURES)),
                   buf)
        try:
            with open(self.tmp, "wb") as f:
                f.write(buf.getbuffer())
            os.replace(self.tmp, self.path)
        except OSError as err:
            # on a read-only file system the unlink fails too (EROFS, which missing_ok does
            # not cover) and its error hid this one's (session 44)
            with contextlib.suppress(OSError):
                self.tmp.unlink(missing_ok=True)
            raise OSError(err.errno, f"{err.strerror or err} (saving the training checkpoint)",
                          str(self.path)) from None
        self.last = time.monotonic()


class ResumePhase:
    """A training loop's part of the checkpoint of the call in progress (:func:`resuming`):
    ``state`` to restore (``None``: start afresh; always outside :func:`resuming`), and
    :meth:`save_if_due` after every step (a no-op outside :func:`resuming`)."""

    def __init__(self):
        self.resume = _RESUME.get()
        self.index, self.state = (0, None) if self.resume is None else self.resume.take()

    def save_if_due(self, step: int, steps: int, make_state) -> None:
        """After ``step``: save ``make_state()`` at the last step and every ``every``
        seconds."""
        if self.resume is not None and (step == steps - 1 or self.resume.due()):
            self.resume.save(self.index, make_state())


def checkpoint_fingerprint(x: Tensor, x_next: Tensor, objective: str, kwargs: dict,
                           options: dict) -> str:
    """What a checkpoint must have been written by: the data, objective and arguments (a
    module by its class and initial weights, a sampler by its type). ``kwargs`` has the
    keys ``encoder`` and ``sampler`` (either may be ``None``)."""
    h = hashlib.sha256()
    for t in (x, x_next):
        h.update(str((tuple(t.shape), t.dtype)).encode())
        h.update(t.detach().cpu().contiguous().numpy())    # its buffer: no copy
    args = dict(kwargs, progress=None)
    enc = args["encoder"]
    if isinstance(enc, nn.Module):
        for v in enc.state_dict().values():   # any dtype (bfloat16 has no NumPy type)
            h.update(str(v.dtype).encode())
            h.update(v.detach().cpu().to(torch.complex128 if v.is_complex() else
                                         torch.float64).contiguous().numpy().tobytes())
        args["encoder"] = type(enc).__qualname__
    if args["sampler"] is not None:
        args["sampler"] = type(args["sampler"]).__qualname__
    h.update(repr((objective, sorted(args.items()), sorted(options.items()))).encode())
    return h.hexdigest()


def _fit_resumable(checkpoint, every, x, x_next, objective: str, kwargs: dict,
                   options: dict) -> nn.Module:
    """:func:`fit_encoder` with ``checkpoint=``: resume from the file, save to it, delete
    it once the fit has returned."""
    def fingerprint():
        xt, xnt = _as_tensor("x", x), _as_tensor("x_next", x_next)
        # tensors for the fingerprint only: fit_encoder converts x and x_next itself
        return checkpoint_fingerprint(xt, xnt, objective, kwargs, options)
    with resuming(checkpoint, every, kwargs["sampler"], fingerprint) as res:
        resumed = bool(res.phases)              # before this call's own saves add phases
        if resumed and kwargs["progress"]:
            # said once the file is known to be this call's (pycheck fit said it before
            # the file was checked, then refused it; session 36)
            print(f"fit_encoder: resuming from {checkpoint}", file=sys.stderr, flush=True)
        model = fit_encoder(x, x_next, objective, **kwargs, **options)
        if resumed:
            # a resumed fit says so, with the thread count the interrupted part trained at
            # (pycheck fit's fit.json had recorded only the resuming process's; s49)
            model.resumed_from = dict(checkpoint=str(checkpoint),
                                      threads=getattr(res, "written_threads", None))
        return model


@contextlib.contextmanager
def resuming(checkpoint, every, sampler, fingerprint, who: str = "fit_encoder"):
    """Within this block the training loops (:func:`_train`,
    :func:`pycheck.experiments._common.fit_supervised`, :func:`pycheck.reacher.train_cnn`;
    each through :class:`ResumePhase`) resume from ``checkpoint`` and save to it every
    ``every`` seconds; the file is deleted when the block ends without an error.
    ``fingerprint()`` says what wrote the file (:func:`checkpoint_fingerprint`); a file
    written by anything else is refused. Paths, ``every`` and a ``sampler`` without
    ``state_dict``/``load_state_dict`` are checked before any work."""
    if _RESUME.get() is not None:
        raise ValueError(f"checkpoint: {who} calls with a checkpoint cannot be nested")
    if not isinstance(checkpoint, (str, os.PathLike)) or not str(checkpoint):
        raise ValueError(f"checkpoint must be a non-empty file path, got {checkpoint!r}")
    path = Path(checkpoint)
    if not path.parent.is_dir() or path.is_dir():
        raise ValueError(f"checkpoint {path}: its folder must exist and it must not be a "
                         "folder")
    _check_every(every)
    if sampler is not None and not (callable(getattr(sampler, "state_dict", None)) and
                                    callable(getattr(sampler, "load_state_dict", None))):
        raise ValueError("checkpoint with a sampler: the sampler must have state_dict() and "
                         "load_state_dict(state) methods, so that its random state is saved "
                         "and restored with the training state")
    res = _Resume(path, float(every), fingerprint(), who)
    token = _RESUME.set(res)
    try:
        yield res
    finally:
        _RESUME.reset(token)
    if not _KEEP_CHECKPOINT.get():
        path.unlink(missing_ok=True)
    res.tmp.unlink(missing_ok=True)     # a save cut short


#: set by :func:`keeping_checkpoint`: the checkpoint outlives the fit's return
_KEEP_CHECKPOINT: contextvars.ContextVar = contextvars.ContextVar("pycheck_keep_checkpoint",
                                                                 default=False)


@contextlib.contextmanager
def keeping_checkpoint():
    """Within this block a fit's checkpoint file is not deleted when the fit returns, so a
    caller that still has work to do with the result (``pycheck fit`` writing its outputs)
    can be interrupted and rerun without training again: the rerun resumes from the last
    phase's final state and returns the same model. The caller deletes the file."""
    with context_value(_KEEP_CHECKPOINT, True):
        yield


#: The label-free check of :func:`slow_direction_coverage`: a direction of the linear map
#: (slow feature analysis of x) with held-out slowness below ``COVERAGE_SLOW`` (2: none)
#: that a k-nearest-neighbour regression predicts from the embedding worse, by more than
#: ``COVERAGE_DEFICIT`` in R², than the same regression from x itself. Chosen on session 44's
#: probes (``results/fit_encoder/coverage-s44/``): the suite's tuning half at 1000 steps
#: (deficits <= 0.009 on four worlds, <= 0.06 on mlp-leaky-16d, where the fit itself is
#: far from its ceiling) and a user's trial world whose default fit had dropped a latent
#: (deficits 0.15-0.29; InfoNCE's fit there, which kept it: <= 0.02); the held-out half and
#: a second anisotropic world were run once with them (docs/FIT.md, 'Before you trust it on
#: your data').
COVERAGE_SLOW = 1.5
COVERAGE_DEFICIT = 0.1


def slow_direction_coverage(f: nn.Module, data: Tensor, held: Tensor, seed: int,
                            directions: int = 8, refs: int = 20000, queries: int = 2000,
                            k: int = 10) -> dict | None:
    """Does the embedding keep what the linear map finds slow? Label-free.

    The linear map's ``directions`` slowest outputs (at most as many as the embedding has;
    slow feature analysis of the standardised x on the training pairs) are each predicted
    on held-out rows by a
    ``k``-nearest-neighbour average over (at most ``refs``) training rows, once in the
    embedding's coordinates and once in x's. An encoder that keeps the latents predicts
    them about as well as x does (the linear outputs are functions of the latents); one
    that dropped a latent cannot predict the directions that carry it. Why (session 44, a
    user's trial): where latents differ much in slowness (A1: max rho^2 > min rho), T1's
    objective prefers harmonics of the slowest latent to the fastest latent, and the
    default fit dropped one (R²(h -> z) 0.66 against the raw channels' 0.96) while its
    held-out whitened alignment beat the linear map's. Returns ``slowness``,
    ``r2_from_embedding``, ``r2_from_x`` (the slow directions only) and ``flagged``
    (their indices with a deficit above :data:`COVERAGE_DEFICIT`), or ``None`` without
    enough pairs.

    ``fit_encoder`` runs it on every fit with held-out pairs (``enc.coverage``). To call it
    yourself: ``f`` is the module that maps *standardised* rows (``enc.encoder`` of a fitted
    ``enc``; ``enc.standardize`` standardises raw rows), ``data`` and ``held`` are the
    training and held-out pairs as tensors or arrays of shape ``(2, M, d)``, x stacked on
    x_next, standardised, e.g. ``torch.stack([enc.standardize(torch.as_tensor(v)) for v in
    (x, x_next)])``
    (``ValueError`` on other shapes)."""
    dtype = next((p.dtype for p in f.parameters()), torch.float32)   # the module's
    data, held = (torch.as_tensor(np.asarray(v, dtype=np.float64)).to(dtype)
                  if not isinstance(v, torch.Tensor) else v for v in (data, held))
    for name, v in (("data", data), ("held", held)):
        if v.ndim != 3 or v.shape[0] != 2 or v.shape[2] != data.shape[2]:
            raise ValueError(f"slow_direction_coverage: {name} must have shape (2, M, d) "
                             f"(x stacked on x_next, standardised), got {tuple(v.shape)}")
    x_tr = data[0].double().cpu().numpy()
    x_ho, x_ho_next = (v.double().cpu().numpy() for v in held)
    # an embedding of k outputs is asked to keep the k slowest directions, not more (a
    # 3-output encoder of 40 channels was warned about the 8 slowest)
    width = _embed_pairs(f, held[:, :1])[0].shape[1]
    n = min(directions, x_tr.shape[1], width)
    if x_ho.shape[0] < 2 * k or x_tr.shape[0] < 2 * k:
        return None
    try:
        mean, w, _ = sfa_readout(x_tr, data[1].double().cpu().numpy(), n, ridge=1e-6)
    except ValueError:
        return None
    u_ho, u_ho_next = (x_ho - mean) @ w, (x_ho_next - mean) @ w
    slow = np.mean((u_ho_next - u_ho) ** 2, 0) / np.maximum(u_ho.var(0), 1e-300)
    keep = np.flatnonzero(slow < COVERAGE_SLOW)
    if keep.size == 0:
        return dict(slowness=[], r2_from_embedding=[], r2_from_x=[], flagged=[])
    rng = np.random.default_rng([seed, 0xC0FE])
    ri = np.sort(rng.choice(x_tr.shape[0], min(refs, x_tr.shape[0]), replace=False))
    qi = np.arange(min(queries, x_ho.shape[0]))
    u_ref, u_q = ((x_tr[ri] - mean) @ w)[:, keep], u_ho[qi][:, keep]
    h_ref, _ = _embed_pairs(f, data[:, torch.from_numpy(ri)])
    h_q, _ = _embed_pairs(f, held[:, torch.from_numpy(qi)])
    r2h = _knn_r2(h_ref, u_ref, h_q, u_q, k)
    r2x = _knn_r2(x_tr[ri], u_ref, x_ho[qi], u_q, k)
    flagged = [int(j) for j, a, b in zip(keep, r2h, r2x) if b - a > COVERAGE_DEFICIT]
    return dict(slowness=[float(v) for v in slow[keep]], r2_from_embedding=r2h.tolist(),
                r2_from_x=r2x.tolist(), flagged=flagged)


def _knn_r2(ref: np.ndarray, y_ref: np.ndarray, q: np.ndarray, y_q: np.ndarray,
            k: int) -> np.ndarray:
    """R² per column of ``y_q`` predicted by the mean of the ``k`` nearest ``ref`` rows
    (coordinates whitened on ``ref``; float64).

    Whitened, not only standardised per column: an embedding whose outputs are correlated
    or of unequal scale along other axes (InfoNCE's: covariance eigenvalues 0.89, 9.6 and
    10.0 in a user's trial, session 49) had its distances dominated by the large directions,
    and a fit that kept every latent (R²(h→z) ≥ 0.98 each) was warned of a dropped one. A
    whitening is affine, so what the embedding determines is unchanged; x and the default
    fit's outputs are already white."""
    r, qq = torch.from_numpy(ref), torch.from_numpy(q)
    mu = r.mean(0)
    evals, evecs = torch.linalg.eigh(torch.cov(r.T).reshape(r.shape[1], r.shape[1]))
    scale = evals.clamp_min(1e-12 * max(float(evals.max()), 1e-300)).rsqrt()
    white = evecs * scale                       # (d, d): columns scaled eigenvectors
    r, qq = (r - mu) @ white, (qq - mu) @ white
    y = torch.from_numpy(y_ref)
    pred = torch.cat([y[torch.cdist(qq[i:i + 256], r).topk(k, largest=False).indices].mean(1)
                      for i in range(0, qq.shape[0], 256)]).numpy()
    return 1 - np.mean((pred - y_q) ** 2, 0) / np.maximum(y_q.var(0), 1e-300)


def _warn_user(model: nn.Module, steps: int) -> None:
    """The warnings about the fit a call returns (once, on that fit only)."""
    _warn_uncovered(model)
    _warn_linear(model, steps)


def _warn_uncovered(model: nn.Module) -> None:
    cov = getattr(model, "coverage", None)
    if not cov or not cov["flagged"]:
        return
    pos = [i for i, (a, b) in enumerate(zip(cov["r2_from_embedding"], cov["r2_from_x"]))
           if b - a > COVERAGE_DEFICIT]
    said = ", ".join(f"R² {cov['r2_from_embedding'][i]:.2f} vs {cov['r2_from_x'][i]:.2f} "
                     f"(slowness {cov['slowness'][i]:.2f})" for i in pos)
    warnings.warn(
        f"fit_encoder: the embedding predicts {len(pos)} of the linear map's slow directions "
        f"of x clearly worse than x itself does ({said}; nearest-neighbour regression on "
        "held-out rows): it may have dropped a latent. T1's objective does so when latents "
        "differ much in slowness (A1: max rho^2 > min rho); fit objective='infonce' too and "
        "compare (docs/FIT.md, 'Before you trust it on your data'); model.coverage has the "
        "figures", LatentMayBeDropped, stacklevel=_caller_stacklevel())


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning name the first frame outside pycheck (the
    user's call), however many of fit_encoder's own frames (``_fit_lams``, a checkpoint's
    resumable call) lie between (session 46 review: the default fit's warnings named a line
    of train.py)."""
    here = str(Path(__file__).resolve().parent)
    frame, level = sys._getframe(1), 1      # level 1: the function that calls warn
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(here):
        frame, level = frame.f_back, level + 1
    return level if frame is not None else max(level - 1, 1)


class LowPrecisionInput(UserWarning):
    """``fit_encoder`` was given float16 or bfloat16 observations (upcast, already rounded)."""


class LatentMayBeDropped(RuntimeWarning):
    """``fit_encoder``'s embedding predicts some slow directions of x clearly worse than x
    does (``model.coverage``): it may have dropped a latent (A1)."""


class LinearMapKept(UserWarning):
    """``fit_encoder`` returned the linear map (slow feature analysis of x): no nonlinear
    read-out beat it on the held-out pairs by 2 standard errors."""


@contextlib.contextmanager
def _unsaid(*categories):
    """Within this block the warnings of ``categories`` are not shown."""
    with warnings.catch_warnings():
        for category in categories:
            warnings.simplefilter("ignore", category)
        yield


@contextlib.contextmanager
def run_advice_unsaid():
    """Within this block ``fit_encoder`` does not warn :class:`LinearMapKept` or
    :class:`LatentMayBeDropped`: for an experiment's run, whose result is its table (R² to
    the true z says what the advice guesses at) and which may train where T1 drops a latent
    on purpose (anisotropic's worlds printed six such warnings: session 47)."""
    with _unsaid(LinearMapKept, LatentMayBeDropped):
        yield


@contextlib.contextmanager
def linear_map_unsaid():
    """Within this block ``fit_encoder`` does not warn :class:`LinearMapKept`: for callers
    that say it themselves (``pycheck fit``'s hint) or whose read-out is not a user's result
    to act on (a warm start's first phase; an experiment's run: :func:`run_advice_unsaid`)."""
    with _unsaid(LinearMapKept):
        yield


def _warn_linear(model: nn.Module, steps: int) -> None:
    """Say so when the returned embedding is the linear map's. Until session 46 only
    ``pycheck fit`` said it (its hint); a user of the Python API got the linear map silently
    (a trial's 8- and 12-dimensional worlds at rho 0.3, 20 000 pairs)."""
    from .fitcmd import sample_hint
    selected = getattr(model, "selected", None)
    if isinstance(selected, str) and selected.startswith("linear"):
        warnings.warn(f"fit_encoder: {sample_hint(model, steps)} (enc.selected = "
                      f"{selected!r}; enc.candidates has each read-out's held-out value)",
                      LinearMapKept, stacklevel=_caller_stacklevel())


#: (i, k) while :func:`_fit_lams` trains its i-th of k fits (named in the progress bar)
_PHASE: contextvars.ContextVar = contextvars.ContextVar("pycheck_fit_phase", default=None)
#: the calling fit's WidthReduced message, said by the first of the default's sub-fits after
#: its input checks (a refusal had followed the warning's advice; session 49)
_WIDTH_NOTE: contextvars.ContextVar = contextvars.ContextVar("pycheck_width_note",
                                                            default=None)


def _fit_lams(x, x_next, lams: tuple[float, ...], kwargs: dict) -> nn.Module:
    """One ``"whitened"`` fit per SIGReg weight in ``lams`` (same seed, split and batches),
    the one with the lowest held-out whitened alignment returned; it reports ``lam`` and
    ``lam_fits`` (per weight: held-out objective, read-out selected, seconds), and
    ``train_seconds`` of all fits."""
    fits = []
    for i, lam in enumerate(lams, 1):
        # the calling fit has said float16 once (it said so again per fit; session 48)
        with context_value(_PHASE, (i, len(lams))), _unsaid(LowPrecisionInput):
            fits.append(fit_encoder(x, x_next, "whitened", lam=lam, **kwargs))
    held = [getattr(f, "heldout_objective", math.nan) for f in fits]  # absent: none finite
    best = fits[int(np.argmin([v if math.isfinite(v) else math.inf for v in held]))]
    args = [f.__dict__.pop("_coverage_args", None) for f in fits][fits.index(best)]
    if args is not None:
        best.coverage = slow_direction_coverage(*args)
        _warn_user(best, kwargs["steps"])
    best.lam_fits = {lam: dict(heldout_objective=v, selected=getattr(f, "selected", None),
                               train_seconds=f.train_seconds)
                     for lam, f, v in zip(lams, fits, held)}
    best.train_seconds = sum(f.train_seconds for f in fits)
    return best


def _batches(model: Standardized, data: Tensor, sampler, gen: torch.Generator, dev):
    """``draw(batch) -> (rows, k)``: the encoder's standardised input rows for one step,
    the ``k`` first views followed by the ``batch`` second views; pair ``i`` is (first
    view ``i mod k``, second view ``i``). From ``data`` (a random draw with replacement,
    ``k = batch``) or from ``sampler``, which may return fewer first views than second
    views (several views of one state, e.g. antithetic twins): each is then encoded once
    instead of once per pair."""
    if sampler is None:
        def draw_data(batch):
            pairs = data[:, torch.randint(data.shape[1], (batch,), generator=gen).to(data.device)]
            return pairs.reshape(2 * batch, data.shape[2]), batch
        return draw_data

    def draw(batch):
        pair = sampler(batch)
        try:            # a tuple, a list or a stacked (2, B, d) array: anything of two parts
            x, x_next = pair
        except (TypeError, ValueError):
            # one (B, d) array had met Python's "too many values to unpack" (session 49)
            raise ValueError(f"sampler({batch}) must return a pair (x, x_next) of arrays, "
                             f"got {type(pair).__name__}"
                             + (f" of length {len(pair)}" if hasattr(pair, "__len__")
                                else "")) from None
        x, x_next = _as_tensor("sampler's x", x), _as_tensor("sampler's x_next", x_next)
        width = model.mean.shape[-1]     # the stored pairs' width
        if tuple(x_next.shape) != (batch, width) or not 1 <= x.shape[0] <= batch \
                or x.shape[1] != width:
            raise ValueError(f"sampler({batch}) must return x_next of shape ({batch}, d) and x "
                             f"of shape (k, d) with 1 <= k <= {batch} and d = {width}, the "
                             f"pairs' width; got {tuple(x.shape)} and {tuple(x_next.shape)}")
        x, x_next = model.standardize(x.to(dev)), model.standardize(x_next.to(dev))
        return torch.cat([x, x_next]), x.shape[0]
    return draw


def _n_heldout(n_pairs: int, holdout: float) -> int:
    """How many of ``n_pairs`` a ``holdout`` share holds out (unchecked)."""
    return int(round(holdout * n_pairs))


def heldout_count(n_pairs: int, holdout: float, width: int = 1) -> int:
    """How many of ``n_pairs`` pairs :func:`fit_encoder` holds out for ``holdout``;
    ``ValueError`` if that leaves fewer than 2 on either side or, with held-out pairs, no
    more of them than ``width`` (the embedding's width)."""
    if not 0 <= holdout < 1:
        raise ValueError(f"holdout must lie in [0, 1), got {holdout!r}")
    n_ho = _n_heldout(n_pairs, holdout)
    if holdout and not 2 <= n_ho <= n_pairs - 2:
        raise ValueError(f"holdout = {holdout} holds out {n_ho} of {n_pairs} pairs; need at "
                         "least 2 on each side (pass holdout=0 to train on all pairs)")
    if n_ho and n_ho <= width:
        # the held-out criteria whiten a (width)-wide embedding of these pairs: with no
        # more pairs than outputs it was NaN, and checkpoint, read-out and lam choices were
        # silently skipped (64 channels, 300 pairs; session 36)
        raise ValueError(f"holdout = {holdout} holds out {n_ho} pairs, too few to "
                         f"judge a {width}-wide embedding (needs more than {width}); pass "
                         "more pairs, a larger holdout, a smaller dim_out, or holdout=0 (no "
                         "held-out selection)")
    return n_ho


def _split(n_pairs: int, holdout: float, gen: torch.Generator,
           width: int = 1) -> tuple[Tensor, Tensor]:
    """Indices of the training and held-out pairs: a random ``holdout`` share held out
    (:func:`heldout_count`)."""
    n_ho = heldout_count(n_pairs, holdout, width)
    perm = torch.randperm(n_pairs, generator=gen)
    return perm[n_ho:].sort().values, perm[:n_ho].sort().values


def whitened_alignment(h, h_next) -> float:
    """``E||w(h') - w(h)||² / n`` with ``w`` the whitening of ``h`` (both views pooled).

    The T1 objective made affine-invariant: ``2(1 - rho)`` exactly for ``h = Qz + b`` in a
    Gaussian-OU world (per coordinate), larger for every other ``h`` with nonlinear energy
    (T1), and blind to the scale and rotation that R² also ignores. It is the label-free
    criterion by which :func:`fit_encoder` selects checkpoints and read-outs on held-out
    pairs. Equals the mean of the generalised eigenvalues of ``(Ċ, C)``
    (:func:`pycheck.sfa.sfa_readout` with ``ridge = 0``).
    """
    return float(pair_alignments(h, h_next).mean())


def pair_alignments(h, h_next) -> np.ndarray:
    """Per-pair terms ``||w(h'_i) - w(h_i)||² / n`` of :func:`whitened_alignment` (M,)."""
    h, h_next = np.asarray(h, dtype=np.float64), np.asarray(h_next, dtype=np.float64)
    c = np.cov(np.concatenate([h, h_next]), rowvar=False).reshape(h.shape[1], h.shape[1])
    if not np.isfinite(c).all():
        return np.full(h.shape[0], np.nan)
    try:
        w = np.linalg.solve(np.linalg.cholesky(c), (h_next - h).T)
    except np.linalg.LinAlgError:            # collapsed embedding: not a candidate
        return np.full(h.shape[0], np.nan)
    return (w * w).sum(0) / h.shape[1]


def _cholesky(c: Tensor) -> Tensor:
    """Cholesky factor of the batch covariance ``c``. Where float32 rounding leaves it
    indefinite (many outputs, nearly collapsed directions: the ridge below float32's
    rounding of a 2000-row covariance) the ridge grows tenfold per try; a factor that
    succeeds the first time is LAPACK's, as ``torch.linalg.cholesky`` gives it."""
    low, info = torch.linalg.cholesky_ex(c)
    if info.item() == 0:
        return low
    scale = c.diagonal().mean().item()
    ridge = 1e-5 * scale
    while info.item() != 0 and ridge < scale:       # at most 5 tries: 1e-5 ... 0.1 x scale
        low, info = torch.linalg.cholesky_ex(
            c + ridge * torch.eye(c.shape[0], dtype=c.dtype, device=c.device))
        ridge *= 10
    if info.item() != 0 and torch.isfinite(c).all():    # non-finite: the loss is NaN and
        raise torch.linalg.LinAlgError("batch covariance not positive-definite, even with "
                                       "a ridge of a tenth of its mean variance")
    return low


def whitened_loss(h: Tensor, h_next: Tensor, sigreg: nn.Module | None = None,
                  lam: float = 0.0) -> tuple[Tensor, dict]:
    """:func:`whitened_alignment` of a batch as a differentiable loss (W-MSE's batch
    whitening, Ermolov et al. 2021, with the alignment loss): whitening is a constraint,
    not a penalty, and there is no regularizer weight to choose. With ``lam > 0``,
    ``lam`` times ``sigreg`` of the whitened batch is added (Gaussianity beyond the
    second moments, which whitening already fixes)."""
    n = h.shape[1]
    both = torch.cat([h, h_next])
    c = torch.cov(both.T).reshape(n, n)
    # a relative 1e-6 ridge keeps the solve defined for a degenerate batch
    c = c + 1e-6 * c.diagonal().mean() * torch.eye(n, dtype=h.dtype, device=h.device)
    if not lam:
        diff = h_next - h
        m = diff.T @ diff / diff.shape[0]
        try:
            loss = torch.linalg.solve(c, m).diagonal().sum() / n
        except torch.linalg.LinAlgError:
            # a (nearly) collapsed batch whose float32 covariance rounding left indefinite
            # (an exact zero pivot: seen with a coupling-flow encoder on a 2-D world,
            # session 34): the ridge-growing Cholesky factor instead. Only on failure, so
            # a batch that solves keeps its bits.
            loss = torch.cholesky_solve(m, _cholesky(c)).diagonal().sum() / n
        return loss, {"loss": loss.item()}
    hw = torch.linalg.solve_triangular(_cholesky(c), (both - both.mean(0)).T, upper=False).T
    align = (hw[h.shape[0]:] - hw[:h.shape[0]]).square().sum(-1).mean() / n
    reg = sigreg(hw)
    loss = align + lam * reg
    parts = {"alignment": align.item(), "sigreg": reg.item()}
    return loss, dict(parts, loss=loss.item())


@torch.no_grad()
def _embed_pairs(f: nn.Module, data: Tensor, chunk: int = 8192,
                 method: str = "forward") -> tuple[np.ndarray, np.ndarray]:
    """``f.<method>`` on both views of standardised pairs ``data`` (2, M, d); float64."""
    was = f.training
    f.eval()
    fn = getattr(f, method)
    out = [torch.cat([fn(v[i:i + chunk]) for i in range(0, v.shape[0], chunk)]).double().cpu()
           .numpy() for v in data]
    f.train(was)
    return out[0], out[1]


class Criterion:
    """A held-out criterion: ``crit(h, h') -> float`` (lower is better) and
    ``crit.per_pair(h, h') -> (M',)`` array whose mean is that value (``M' <= M``: a chunked
    criterion drops the last ``M mod k`` pairs), which gives paired standard errors for
    comparing two checkpoints on the same pairs (:func:`_select_checkpoint`)."""

    def __init__(self, per_pair):
        self.per_pair = per_pair

    def __call__(self, h, h_next) -> float:
        return self.value(self.per_pair(h, h_next))

    @staticmethod
    def value(per_pair: np.ndarray) -> float:
        """The criterion from its per-pair values (NaN unless all are finite)."""
        return float(per_pair.mean()) if np.isfinite(per_pair).all() else math.nan


def heldout_criterion(objective: str, batch: int, dim: int, seed: int, options: dict):
    """``(name, criterion)``: the label-free :class:`Criterion` ``(h, h') -> float`` (lower
    is better) by which :func:`fit_encoder` picks its checkpoint on held-out pairs, i.e.
    the objective it trains, and its name (what ``enc.criterion`` reports).

    * ``"whitened"`` and ``"vicreg"``: :func:`whitened_alignment`, the T1 objective under
      the exact second-moment constraint that both enforce (VICReg only up to a common
      scale, which the whitening removes).
    * ``"sigreg"``: alignment per coordinate plus the final weight ``lam`` times SIGReg
      of both views, with one fixed set of directions (so that checkpoints are compared
      on the same statistic, not on fresh slice noise).
    * ``"infonce"``: the InfoNCE loss.

    SIGReg and InfoNCE are evaluated in chunks of the training ``batch`` (both depend on
    the batch size) and averaged. Why not the whitened alignment for every objective:
    SIGReg and InfoNCE constrain more than second moments, and in an anisotropic world
    (``pycheck reproduce anisotropic``) their optimum is not the whitened-alignment
    minimiser, so that criterion picked checkpoints away from the objective's optimum.
    """
    if objective in ("whitened", "vicreg"):
        return "whitened alignment", Criterion(pair_alignments)
    if objective == "sigreg":
        opts = {k: options[k] for k in ("num_slices", "num_knots", "t_max") if k in options}
        reg = SIGReg(**opts, seed=seed + 1, distributed=False)
        lam = float(options.get("lam", DEFAULT_LAM["sigreg"]))
        fixed = reg.directions(dim, dtype=torch.float64)

        scale = mean_variance if options.get("scale_free") else (lambda h, hn: 1.0)

        def crit_batch(h, hn):
            # per pair: its alignment term plus the chunk's SIGReg term (mean = the loss)
            return ((hn - h).square().sum(-1) / h.shape[1] / scale(h, hn)
                    + lam * reg.statistic((h, hn), fixed))
    else:
        sigma = float(options.get("sigma", 1.0))

        def crit_batch(h, hn):
            return infonce_per_pair(h, hn, sigma)
    return f"{objective} loss", Criterion(functools.partial(_chunked, crit_batch, batch))


@torch.no_grad()
def _chunked(fn, batch: int, h, h_next) -> np.ndarray:
    """Per-pair values of ``fn`` over the held-out pairs split into ``round(M / batch)``
    (at least 1) equal chunks, i.e. chunks as close to the training batch as the ``M``
    pairs allow (float64; the last ``M mod k`` pairs are dropped). Their mean is the mean
    over chunks of the chunk's loss."""
    h = torch.from_numpy(np.asarray(h, dtype=np.float64))
    hn = torch.from_numpy(np.asarray(h_next, dtype=np.float64))
    if not (torch.isfinite(h).all() and torch.isfinite(hn).all()):
        return np.full(h.shape[0], np.nan)
    k = max(1, round(h.shape[0] / batch))
    size = h.shape[0] // k
    return np.concatenate([fn(h[i * size:(i + 1) * size], hn[i * size:(i + 1) * size]).numpy()
                           for i in range(k)])


class WeightAverage:
    """The exponential moving average of ``f``'s parameters and buffers in ``module`` (a
    copy of ``f``): the first update copies, each later one is ``lerp(avg, current, 1 -
    decay)``. The same arithmetic as ``torch.optim.swa_utils.AveragedModel(f,
    multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)`` (bit for bit, tested),
    with the tensor lists built once instead of at every update: 0.009 vs 0.110 ms per
    update at N = 8 and 0.031 vs 0.133 ms at N = 256 (RealNVP encoder, 2 threads, session
    12, ``scripts/bench_optimiser.py``)."""

    def __init__(self, f: nn.Module, decay: float):
        self.module, self.decay, self.n_averaged = copy.deepcopy(f), float(decay), 0
        self._avg = [t.detach() for t in (*self.module.parameters(), *self.module.buffers())]
        self._cur = [t.detach() for t in (*f.parameters(), *f.buffers())]
        if not all(t.is_floating_point() for t in self._avg):
            raise ValueError("WeightAverage averages floating-point tensors only")

    @torch.no_grad()
    def update_parameters(self, f: nn.Module) -> None:
        """Fold ``f``'s current weights (the module given at construction) into the average."""
        if self.n_averaged == 0:
            torch._foreach_copy_(self._avg, self._cur)
        else:
            torch._foreach_lerp_(self._avg, self._cur, 1 - self.decay)
        self.n_averaged += 1


def optimiser(f: nn.Module, lr: float, steps: int, ema: float = 0.0):
    """``(opt, sched, avg)`` of :func:`fit_encoder`'s training: Adam, the warm-up + cosine
    schedule over ``steps`` and, for ``ema > 0``, the weights' exponential moving average
    (:class:`WeightAverage`, decay ``min(ema, 1 - EMA_SPAN / steps)``; ``avg`` is ``None``
    otherwise)."""
    # fused: Adam's update in one kernel per parameter group. The same formula as the
    # loop and foreach implementations, rounded differently (within 2e-6 after 20 steps,
    # tested); 0.086 vs 0.229 ms (foreach) per step at N = 8 and 0.144 vs 0.459 ms at
    # N = 256 (RealNVP encoder, 2 threads, session 12, scripts/bench_optimiser.py).
    # Supported on CPU and CUDA.
    opt = torch.optim.Adam(f.parameters(), lr=lr, fused=True)
    sched = warmup_cosine(opt, steps)
    # the average spans at most the last sixth of the run (its window 1 / (1 - decay) <=
    # steps / 6), where the cosine schedule is below 7% of its peak lr: a short run is not
    # dragged back to its first iterates (the default, 0.998 at 3000 steps, is unchanged)
    decay = min(ema, 1 - EMA_SPAN / steps)
    avg = WeightAverage(f, decay) if decay > 0 else None
    return opt, sched, avg


def update(f: nn.Module, loss: Tensor, opt, sched, avg) -> None:
    """One step of :func:`fit_encoder`'s training from ``loss``: backward, gradient clipping
    (norm 10), Adam, the schedule and the moving average (the objects of :func:`optimiser`)."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(f.parameters(), 10.0)
    opt.step()
    sched.step()
    if avg is not None:
        avg.update_parameters(f)


def _train(f: nn.Module, draw, held: Tensor | None, loss_fn, *, steps: int,
           batch: int, lr: float, progress: bool, desc: str, criterion: Criterion,
           ema: float = 0.0, prefer_last: bool = False, rngs=((), None)):
    """Adam with warm-up + cosine decay on batches ``draw(batch) -> (rows, k)``
    (:func:`_batches`); returns ``(history, best, seconds)``, ``best = (held-out
    objective, state_dict, step)`` of the best evaluated checkpoint (``None`` without
    held-out pairs; with ``prefer_last`` the last one unless an earlier one is
    significantly better, :func:`_select_checkpoint`). With ``ema > 0`` the checkpoints
    are the exponential moving average of the weights (decay ``min(ema, 1 - EMA_SPAN /
    steps)``), and ``f`` ends with it. ``rngs = (generators, sampler)``: what draws the
    batches and the loss's randomness; within a :func:`fit_encoder` call with a checkpoint
    their states are saved and restored with the training state (:class:`_Resume`)."""
    opt, sched, avg = optimiser(f, lr, steps, ema)
    current = f if avg is None else avg.module
    history, best, last, start, before = [], None, None, 0, 0.0
    generators, sampler = rngs
    phase = ResumePhase()
    if (state := phase.state) is not None:
        restore_training_state(state, f, opt, sched, generators, sampler)
        if avg is not None:
            avg.module.load_state_dict(state["avg"])
            avg.n_averaged = state["n_averaged"]
        history, best, last = state["history"], state["best"], state["last"]
        start, before = state["step"], state["seconds"]
    from tqdm.auto import tqdm

    from .store import LineProgress
    bar = tqdm(range(start, steps), desc=desc, leave=False, initial=start, total=steps,
               disable=not progress or not sys.stderr.isatty())
    lines = LineProgress(steps, desc, enabled=progress)    # a line a minute in a log
    every = max(1, steps // EVALUATIONS)
    # the bar shows the latest held-out value between evaluations (its postfix had been
    # replaced by the training parts, so it was visible about a fifth of the time; s49)
    shown_heldout = next((p["heldout"] for _, p in reversed(history) if "heldout" in p), None)
    t0 = time.perf_counter()
    f.train()
    for step in bar:
        if hasattr(loss_fn, "set_progress"):
            loss_fn.set_progress(step / max(1, steps - 1))
        rows, k = draw(batch)
        hb = f(rows)
        # the two views as unbind's views of hb: its backward is one stack of their
        # gradients, where two slices cost a zero-filled copy of hb each and their sum
        h, hn = (hb.unflatten(0, (2, k)).unbind(0) if k == batch else
                 (hb[:k].repeat(-(-batch // k), 1)[:batch], hb[k:]))
        try:
            loss, parts = loss_fn(h, hn)
        except torch.linalg.LinAlgError as err:     # a collapsed batch beyond any ridge
            raise TrainingDiverged(step, float("nan"), f"the batch covariance is singular "
                                   f"({err}); the embedding collapsed") from err
        if not math.isfinite(parts["loss"]):
            raise TrainingDiverged(step, parts["loss"])
        update(f, loss, opt, sched, avg)
        if held is not None and ((step + 1) % every == 0 or step == steps - 1):
            v = criterion.per_pair(*_embed_pairs(current, held))
            value = Criterion.value(v)
            parts = dict(parts, heldout=value)
            shown_heldout = value
            if math.isfinite(value) and (best is None or value < best[0]):
                best = (value, copy.deepcopy(current.state_dict()), step, v)
            if prefer_last and step == steps - 1:
                last = (value, current.state_dict(), step, v)
        if step % 100 == 0 or step == steps - 1 or "heldout" in parts:
            history.append((step, parts))
            bar.set_postfix({k: f"{v:.4g}" for k, v in (
                parts if shown_heldout is None else dict(parts, heldout=shown_heldout)).items()})
        lines.update(step + 1, parts)
        phase.save_if_due(step, steps, lambda: training_state(
            f, opt, sched, generators, sampler,
            step=step + 1, seconds=before + time.perf_counter() - t0,
            avg=None if avg is None else avg.module.state_dict(),
            n_averaged=None if avg is None else avg.n_averaged,
            history=history, best=best, last=last))
    lines.close()
    if avg is not None:
        f.load_state_dict(avg.module.state_dict())
    if best is not None:
        best = _select_checkpoint(best, last)[:3]
    return history, best, before + time.perf_counter() - t0


def training_state(f: nn.Module, opt, sched, generators, sampler, **extra) -> dict:
    """A training loop's state for :class:`_Resume`: weights, optimiser, schedule (or
    ``None``), the states of the torch ``generators`` and of a ``sampler`` (or ``None``),
    and ``extra``. :func:`restore_training_state` puts it back."""
    return dict(f=f.state_dict(), opt=opt.state_dict(),
                sched=None if sched is None else sched.state_dict(),
                rngs=[g.get_state() for g in generators],
                sampler=None if sampler is None else sampler.state_dict(),
                # where the weights trained (absent before session 45): a GPU checkpoint
                # resumed on a CPU node, or the reverse, had gone on without a word
                device=_tensor_device(f.state_dict()), **extra)


def restore_training_state(state: dict, f: nn.Module, opt, sched, generators,
                           sampler) -> None:
    """Load a :func:`training_state` into the same (freshly built) objects; warn if they
    train on another device type than the state was written on."""
    written_on = state.get("device")
    here = _tensor_device(f.state_dict())
    if written_on is not None and here is not None and written_on != here:
        warnings.warn(f"a training checkpoint written on {written_on} is resumed on {here}: "
                      "the result will match an uninterrupted run on neither in its last "
                      "bits", RuntimeWarning, stacklevel=2)
    f.load_state_dict(state["f"])
    opt.load_state_dict(state["opt"])
    if sched is not None:
        sched.load_state_dict(state["sched"])
    for g, s in zip(generators, state["rngs"], strict=True):
        g.set_state(s)
    if sampler is not None:
        sampler.load_state_dict(state["sampler"])


def _select_checkpoint(best, last):
    """With fresh pairs at every step: the last checkpoint unless the best earlier one
    (lowest held-out mean) beats it by more than :data:`MARGIN_SE` standard errors of their
    paired per-pair difference on the held-out pairs; both are ``(value, state_dict, step,
    per_pair)``.

    Why not the plain minimum there: training on fresh pairs cannot overfit, late
    checkpoints differ by less than the held-out sample's own noise, and a fixed sample's
    minimiser is not the population one (``S1``), so the minimum ranked them at random.
    Measured on the scaling world (RealNVP, fresh QMC pairs, 2000 held-out pairs, 6000
    steps, session 20, ``scripts/seed2_diag.py``, ``results/scaling/probes_s20.jsonl``):
    at N = 2 the minimum picked step 1799 (SIGReg, seed 0; R²(h -> z) 0.99926, this rule
    the last, 0.99989) and at N = 4 steps 2699 / 3599 (SIGReg / VICReg, seed 0; 0.99903 /
    0.99932, the last iterate 0.99944 / 0.99953), while the held-out SIGReg loss rose
    steadily from step 1800 on. Why only with fresh pairs: on stored pairs the network
    overfits its sample, and with a small held-out share the paired test is too weak to
    see it (400 pairs of a 2D world, rho 0.3, 600 steps: the held-out loss rose 1.33 ->
    1.71 from the best checkpoint to the last at z = 0.6 on 40 held-out pairs;
    ``scripts/overfit_checkpoint_probe.py``), so there the minimum stays."""
    if last is None or last[2] == best[2] or not math.isfinite(last[0]):
        return best
    d = last[3] - best[3]
    se = d.std() / math.sqrt(d.size)
    return best if d.mean() > MARGIN_SE * se else last


#: decay of the weights' moving average (fit_encoder's ``ema``). Chosen on the suite's tuning
#: half (results/fit_encoder/probes-s8/probes.md): 0.995 and 0.998 each gained on 6 / 6
#: mixings against no average (1 - R² 0.94x / 0.92x, geometric mean), 0.998 the better; 0.999
#: lost on 4D coupling (0.985 -> 0.980). Held-out half, run once: 4 gains, 1 tie, 1 loss of
#: 0.0004 (results/fit_encoder/suite/summary.md).
DEFAULT_EMA = 0.998
#: the moving average's window is at most ``steps / EMA_SPAN`` steps
EMA_SPAN = 6

#: held-out evaluations per training phase (checkpoint candidates)
EVALUATIONS = 20
#: ridges tried for the SFA read-out (relative to the features' mean variance)
RIDGES = (1e-6, 1e-4, 1e-2)


#: a nonlinear candidate must beat the linear map on held-out pairs by this many standard
#: errors of the paired difference: at rho = 0.3 on an 8D planar mixing (tuning half) a
#: network 0.001 better on 2 000 held-out pairs was 0.006 worse in R², i.e. noise. Session 38
#: re-weighed it on 2 000-pair worlds (``scripts/small_pairs_probe.py``: 36 worlds, seeds 0-2,
#: every candidate recorded and the rules replayed by ``scripts/small_pairs_replay.py``):
#: a margin of 1 or 0 ended below R²(x -> z) on 7 / 22 of the 72 runs of seeds 0-1 against
#: 3 here; a test on every number of leading outputs (no worse than the linear map's) as well
#: lost networks 12 standard errors better on the whole output at 20 000 pairs (the suite's
#: coupling-4d: R²(h -> z) 0.986 -> 0.760): not adopted, 2 kept.
MARGIN_SE = 2.0
#: a nonlinear read-out whose outputs on the user's pairs (training and held-out, both views)
#: have an excess kurtosis above this and above twice the linear map's is left out. Why
#: (session 38): at 2 000 pairs the unregularised network can put a rare spike on one output
#: (the suite's coupling-2d, seed 1: excess kurtosis 733 on 20 000 fresh pairs, 506 on the
#: user's 2 000), whose jumps the 200 held-out pairs mostly miss: held-out alignment 0.118,
#: below the 0.2 that no function of z beats (T1), against 0.449 on fresh pairs; R²(h -> z)
#: 0.669 against the linear map's 0.926. On 200-pair subsets its kurtosis was 0.3 at the
#: median, on 2 000-pair ones >= 206 in 95%: hence all pairs. A Gaussian output has 0 +- 0.08
#: there; generalised-normal latents with alpha >= 0.5 (``pycheck.worlds``) at most 22.2.
#: Not measured, the case it gets wrong: latents heavier-tailed than 50 (alpha <= 0.4: 49 at
#: 0.4, 171 at 0.3) seen through a mixing that compresses the tails to less than half of that
#: for the linear map; their correct nonlinear read-out is then refused (the trained one is
#: too, so the linear map is returned). SIGReg and InfoNCE keep their trained read-out and
#: are not judged by this.
KURTOSIS_MAX = 50.0


def _significant_best(cands):
    """The candidate ``(name, per-pair alignments, readout, kurtosis)`` with the lowest mean
    among the admissible ones, else the linear one; with no linear candidate (the input
    spans fewer directions than the output has), the lowest of all. Admissible: better than
    the linear map by more than :data:`MARGIN_SE` standard errors of the paired difference,
    and its largest excess kurtosis (:func:`_max_kurtosis`) at most :data:`KURTOSIS_MAX` or
    twice the linear map's (:func:`_heavy_tailed`)."""
    linear = next((c for c in cands if c[0].startswith("linear")), None)
    heavy = _heavy_tailed(cands)

    def admissible(c) -> bool:
        if linear is None or c is linear:
            return True
        d = linear[1] - c[1]
        return bool(d.mean() > MARGIN_SE * d.std() / math.sqrt(d.size)) and c[0] not in heavy
    return min((c for c in cands if admissible(c)),
               key=lambda c: c[1].mean() if np.isfinite(c[1].mean()) else math.inf)


def _heavy_tailed(cands) -> list[str]:
    """Names of the candidates ``(name, per-pair alignments, readout, kurtosis)`` whose
    largest excess kurtosis exceeds :data:`KURTOSIS_MAX` and twice the linear map's (none
    without a linear candidate; never the linear map itself)."""
    linear = next((c for c in cands if c[0].startswith("linear")), None)
    if linear is None:
        return []
    return [c[0] for c in cands if c[3] > max(KURTOSIS_MAX, 2 * linear[3])]


def _max_kurtosis(*outputs) -> float:
    """The largest excess kurtosis (Fisher's, float64) of one column over the rows of
    ``outputs`` stacked; ``inf`` where a column is constant or not finite."""
    from scipy.stats import kurtosis
    h = np.concatenate(outputs)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)    # a constant column: inf below
        k = kurtosis(h, axis=0)
    return float(np.max(np.where(np.isfinite(k), k, np.inf)))


def _sfa_select(model: Standardized, data: Tensor, held: Tensor) -> None:
    """Replace the read-out of ``model.encoder`` by the best of: the trained one, the SFA
    read-out of its features (one per ridge in :data:`RIDGES`) and the SFA read-out of the
    standardised input alone (a linear map); best = lowest held-out
    :func:`whitened_alignment` among the candidates admissible against the linear map
    (significantly better, not heavy-tailed: :func:`_significant_best`), else the linear
    map. Needs an encoder with ``features`` and ``set_readout`` (the default
    :class:`ResidualMLPEncoder`); others keep the trained read-out. An SFA candidate whose
    features span fewer directions than the output has (``dim_out`` above the input's
    rank) is left out.

    Why: under whitening, the alignment-minimising linear read-out of fixed features is
    the SFA solution (T1 within their span), so this removes the optimiser's noise from
    the last layer; the linear candidate guarantees that a user with few pairs does not get
    a worse encoder than the linear map (as judged on held-out pairs). The trained read-out
    is judged as it is returned: followed by :func:`_slowest_first`.
    """
    f = model.encoder
    if not (hasattr(f, "features") and hasattr(f, "set_readout")):
        # nothing competed, the outputs keep the module's order: say so (session 46, an
        # API trial: encoder="mlp" reported readout "sfa" and plot_slowness "slowest first")
        model.readout, model.ordered = "trained", False    # `selected` unset: no choice
        return
    phi, phi_next = _embed_pairs(f, data, method="features")
    phi_ho, phi_ho_next = _embed_pairs(f, held, method="features")
    d = data.shape[2]
    every = (phi, phi_next, phi_ho, phi_ho_next)

    def candidate(name, w, b):
        out = [p @ w + b for p in every]
        return name, pair_alignments(*out[2:]), (w, b), _max_kurtosis(*out)
    trained_sorted = False
    if hasattr(f, "readout"):        # trained, then the SFA map of its outputs (same span)
        trained = [t.double().cpu().numpy() for t in f.readout()]
        ordered = _slowest_first(trained, phi, phi_next)
        # outputs spanning fewer directions than they number stay as they are, unsorted
        # (fit.json said "ordered": true for a trial's rank-4 input in 20 channels, s47)
        trained_sorted = ordered is not trained
        cands = [candidate("trained", *ordered)]
    else:                            # in the module's own order
        out = [*_embed_pairs(f, data), *_embed_pairs(f, held)]
        cands = [("trained", pair_alignments(*out[2:]), None, _max_kurtosis(*out))]
    n = _embed_pairs(f, held[:, :1])[0].shape[1]
    for name, cols, ridges in [("linear", slice(0, d), RIDGES[:1]),
                               ("sfa", slice(None), RIDGES)]:
        for ridge in ridges:
            try:
                mean, w, _ = sfa_readout(phi[:, cols], phi_next[:, cols], n, ridge=ridge)
            except ValueError:  # these features span fewer than n directions: no candidate
                continue
            full = np.zeros((phi.shape[1], n))
            full[cols] = w
            cands.append(candidate(f"{name} ridge {ridge:g}", full, -mean[cols] @ w))
    name, crit, readout, _ = _significant_best(cands)
    if readout is not None:
        f.set_readout(torch.from_numpy(readout[0]).float(), torch.from_numpy(readout[1]).float())
    model.selected, model.heldout_objective = name, float(crit.mean())
    # the SFA candidates come sorted, and so does the trained layer of a module with
    # `readout` (followed by _slowest_first) unless its outputs are rank-deficient; one
    # without it keeps its own order
    model.ordered = name != "trained" or trained_sorted
    model.candidates = {c[0]: float(c[1].mean()) for c in cands}
    model.heavy_tailed = _heavy_tailed(cands)


def _slowest_first(readout, phi, phi_next):
    """``readout`` followed by the SFA map of its own outputs on the training pairs.

    That map is affine and invertible, so the held-out whitened alignment (affine-invariant)
    and R² to any target are unchanged; what changes is the order: the outputs come white
    on the training pairs and sorted from the slowest, as the SFA candidates already are,
    so the first ``k`` coordinates are the best ``k``-dimensional embedding within the
    outputs' span. Why: with more observed dimensions than latent ones (``d > n``, the usual
    case for a user's sensors) the trained layer spreads the latents over all its outputs
    (session 25, a 3-latent world seen through 12 tanh channels: R²(h -> z) 0.995 on all 12
    outputs, 0.29 on the first 3); with the order, a user keeps the leading coordinates
    (:func:`coordinate_slowness` says how many are slow). Outputs that span fewer
    directions than they number are left as they are."""
    w, b = readout
    try:
        mean, m, _ = sfa_readout(phi @ w + b, phi_next @ w + b, w.shape[1], ridge=1e-9)
    except ValueError:
        return readout
    return w @ m, (b - mean) @ m


def coordinate_slowness(h, h_next, se: bool = False):
    """Per output coordinate, ``E(h'_j - h_j)² / Var h_j`` (both views pooled; float64).

    ``2(1 - rho_j)`` for a coordinate that is a latent of correlation ``rho_j`` between the
    two views, about 2 for one without temporal structure (independent across the pair):
    read with the order :func:`fit_encoder` gives its outputs, it shows how many of them
    carry slow latents. Label-free; computed on the held-out pairs by ``fit_encoder``
    (``enc.slowness``, ``enc.slowness_se``).

    With ``se=True`` returns ``(slowness, standard_error)``: the ratio estimator's
    delta-method standard error over the pairs (``mean(u) / mean(w)`` with ``u`` the squared
    difference and ``w`` the pair's mean squared deviation; influence ``(u - s w) / mean
    w``), which counts the variance's own sampling error and its correlation with the
    numerator. For an output without temporal structure it is about ``2 / sqrt(pairs)``
    (0.14 on 200 held-out pairs), so "clearly below 2" is a matter of these error bars
    (coverage tested in ``tests/test_train.py``)."""
    h, h_next = np.asarray(h, dtype=np.float64), np.asarray(h_next, dtype=np.float64)
    both = np.concatenate([h, h_next])
    var = both.var(0)
    var = np.where(var > 0, var, np.nan)
    u = (h_next - h) ** 2
    s = u.mean(0) / var
    if not se:
        return s
    mean = both.mean(0)
    w = ((h - mean) ** 2 + (h_next - mean) ** 2) / 2      # mean(w) = the pooled variance
    n = u.shape[0]
    err = ((u - s * w) / var).std(0, ddof=1) / np.sqrt(n) if n > 1 else np.full_like(s, np.nan)
    return s, err


def _check_settings(objective: str, *, steps, batch_size, lr, seed, dim_out, holdout, ema,
                    encoder, readout, warm_start, whiten, options: dict) -> dict:
    """:func:`fit_encoder`'s checks of its settings that need no data (the one copy of
    them: :func:`check_fit_settings` runs them too). Returns the checked ``steps``,
    ``batch_size``, ``seed``, ``dim_out``, ``ema`` (default filled in) and ``warm_start``."""
    if objective not in OBJECTIVES + ("whitened",):
        raise ValueError(f"unknown objective {objective!r}; valid: {', '.join(OBJECTIVES)}, "
                         "whitened")
    out = dict(steps=check_int("steps", steps, 1),
               batch_size=check_int("batch_size", batch_size, 2),
               seed=check_int("seed", seed, 0),  # torch generators take 64-bit seeds
               dim_out=None if dim_out is None else check_int("dim_out", dim_out, 1))
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) \
            or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float, np.floating)) \
            or not 0 <= holdout < 1:
        raise ValueError(f"holdout must be a number in [0, 1), got {holdout!r}")
    ema = DEFAULT_EMA if ema is None else ema
    if isinstance(ema, bool) or not isinstance(ema, (int, float, np.floating)) \
            or not 0 <= ema < 1:
        raise ValueError(f"ema must be a number in [0, 1), got {ema!r}")
    out["ema"] = ema
    if isinstance(encoder, str) and encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}; valid: {', '.join(ENCODERS)} "
                         "or an nn.Module")
    if readout is not None and readout not in ("sfa", "trained"):
        raise ValueError(f"readout must be 'sfa' or 'trained', got {readout!r}")
    if whiten is not None:
        check_whiten(whiten)
    if objective == "whitened" and set(options) - {"lam"}:
        raise ValueError(f"objective 'whitened' takes only the option 'lam'; unknown: "
                         f"{sorted(set(options) - {'lam'})}")
    out["warm_start"] = None if warm_start is None else _check_warm_start(warm_start)
    return out


def _check_every(every) -> None:
    if isinstance(every, bool) or not isinstance(every, (int, float, np.floating)) \
            or not 0 <= every < math.inf:
        raise ValueError(f"checkpoint_every must be a number of seconds >= 0, got {every!r}")


def check_fit_settings(objective: str = "whitened", *, steps=3000, batch_size=1024, lr=1e-3,
                       seed=0, dim_out=None, holdout=DEFAULT_HOLDOUT, ema=None,
                       encoder: nn.Module | str = "residual-mlp", readout=None,
                       warm_start=None, whiten=None, device=None, checkpoint_every=60.0,
                       n_pairs=None, width=None, **options) -> None:
    """Refuse (``ValueError``, naming the setting) what :func:`fit_encoder` would refuse of
    these settings before it sees any data: the same checks, the objective's options
    (built by :func:`pycheck.objectives.make_objective`, which checks their names and
    values) and a ``warm_start``'s own settings; with ``n_pairs`` (the pairs it will be
    given), also the held-out share (:func:`heldout_count`, for an embedding ``width``
    wide: default ``dim_out`` or 1). The experiments call it for every run
    before the first one trains, so that a bad option in a profile is refused up front
    instead of after the runs before it (``pycheck reproduce``)."""
    checked = _check_settings(objective, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
                              dim_out=dim_out, holdout=holdout, ema=ema, encoder=encoder,
                              readout=readout, warm_start=warm_start, whiten=whiten,
                              options=options)
    ws = checked["warm_start"]
    _device(device)
    _check_every(checkpoint_every)
    if objective == "whitened":
        _whitened_lams(options.get("lam"), holdout, encoder, ws)
    else:
        make_objective(objective, **options)
    if n_pairs is not None:
        heldout_count(check_int("n_pairs", n_pairs, 2), holdout,
                      width if width is not None else checked["dim_out"] or 1)
    if ws is not None:
        try:
            check_fit_settings(ws["objective"], steps=ws["steps"], batch_size=batch_size,
                               lr=ws.get("lr", lr), seed=seed, dim_out=dim_out,
                               holdout=holdout, ema=ema, encoder=encoder, whiten=whiten,
                               **ws["options"])
        except ValueError as exc:
            raise ValueError(f"warm_start: {exc}") from None


def _check_warm_start(ws) -> dict:
    if not isinstance(ws, dict) or not {"objective", "steps"} <= set(ws) \
            or set(ws) - {"objective", "steps", "lr", "options"}:
        raise ValueError("warm_start must be a dict with keys 'objective', 'steps' and "
                         f"optionally 'lr', 'options'; got {ws!r}")
    if ws["objective"] not in OBJECTIVES:
        raise ValueError(f"unknown warm_start objective {ws['objective']!r}; "
                         f"valid: {', '.join(OBJECTIVES)}")
    if not isinstance(ws.get("options", {}), dict):
        raise ValueError(f"warm_start's 'options' must be a dict of the objective's options, "
                         f"got {ws['options']!r}")
    import inspect
    own = sorted(set(ws.get("options", {})) & (
        set(inspect.signature(fit_encoder).parameters) - {"options"}))
    if own:
        # the warm start takes these from the call (steps and lr from warm_start's own
        # keys); repeated in its options they raised TypeError (session 37)
        raise ValueError(f"warm_start's 'options' may not set {', '.join(own)}: they are "
                         "fit_encoder's own arguments (the warm start's steps and lr are "
                         "warm_start keys)")
    return dict(ws, options=dict(ws.get("options", {})))


@torch.no_grad()
def embed(encoder: nn.Module, x, batch_size: int = 8192) -> np.ndarray:
    """``encoder(x)`` in eval mode, in batches; float64 NumPy array ``(N, n)``.

    A :class:`Standardized` encoder receives float64 input (it standardises in float64
    before casting, so a large offset in ``x`` survives); any other module gets float32.
    """
    check_int("batch_size", batch_size)   # 0 and -1 failed in range() / torch.cat (s36)
    if not isinstance(encoder, nn.Module):      # AttributeError on .parameters (s42)
        raise ValueError(f"encoder must be an nn.Module (what fit_encoder returned), got "
                         f"{type(encoder).__name__}")
    xt = _as_tensor("x", x)
    width = getattr(encoder, "mean", None)   # a Standardized model knows its input width
    if isinstance(width, torch.Tensor) and width.shape[-1] != xt.shape[1]:
        raise ValueError(f"x has {xt.shape[1]} columns; the encoder was fitted on "
                         f"{width.shape[-1]}")
    if not isinstance(encoder, Standardized):
        xt = xt.float()
    dev = next((p.device for p in encoder.parameters()), torch.device("cpu"))
    was_training = encoder.training
    encoder.eval()
    try:
        # no rows: one pass over an empty batch gives the (0, n) result of the right width
        out = [encoder(xt[i:i + batch_size].to(dev)).double().cpu()
               for i in range(0, max(xt.shape[0], 1), batch_size)]
    except RuntimeError as err:   # another module's width: torch's own message (s42)
        raise ValueError(f"encoder {type(encoder).__name__} failed on x of shape "
                         f"{tuple(xt.shape)}: {err}") from err
    finally:
        encoder.train(was_training)
    return torch.cat(out).numpy()


def _check_figure_path(path) -> None:
    """A figure's ``path`` must name a file: a folder (``"."``) raised ``OSError: Device or
    resource busy`` from the final rename (session 42)."""
    if path is not None and Path(path).is_dir():
        raise ValueError(f"path {path} is a folder; pass a file name such as "
                         f"{Path(path) / 'figure.png'}")


def plot_history(model: nn.Module, path=None, ax=None):
    """The training curve of a :func:`fit_encoder` result: the batch loss every 100 steps,
    the held-out criterion at each evaluation (``model.criterion``, the value that picked
    the checkpoint; never R² to z), the chosen checkpoint (``model.best_step``) and the
    returned module's held-out value (``model.heldout_objective``, after the read-out
    competition: ``model.selected``).

    Returns the matplotlib ``Figure`` (pyplot is not used: no window, any backend). With
    ``path`` the figure is also written there (atomically; the format from the suffix,
    PNG by default). ``ax``: draw into an existing axes instead of a new figure.
    """
    from matplotlib.figure import Figure

    from .store import savefig
    _check_figure_path(path)
    history = getattr(model, "history", None)
    if not history:
        raise ValueError("model has no training history: pass what fit_encoder returned")
    if ax is None:
        ax = Figure(figsize=(6, 3.6)).subplots()
    # a warm start's first phase trains another objective: its losses are drawn apart,
    # not joined to the second phase's as one curve (session 47, a user's trial)
    first = getattr(model, "warm_start_model", None)
    k = len(getattr(first, "history", None) or []) if first is not None else 0
    if k:
        ax.plot([s for s, _ in history[:k]], [p["loss"] for _, p in history[:k]], lw=1,
                color="C1", label="warm-start loss (first phase, its own objective)")
        ax.axvline(history[k][0] if k < len(history) else history[-1][0], ls="-.",
                   color="C1", lw=0.8)
    ax.plot([s for s, _ in history[k:]], [p["loss"] for _, p in history[k:]], lw=1,
            color="0.55", label="training loss (one batch)")
    held = [(s, p["heldout"]) for s, p in history[k:] if "heldout" in p]
    if held:
        ax.plot(*zip(*held), "o-", ms=3, color="C0",
                label=f"held-out {getattr(model, 'criterion', 'objective')}")
    best = getattr(model, "best_step", None)
    if best is not None:
        ax.axvline(best, ls="--", color="C3", lw=1, label=f"checkpoint (step {best})")
    final = getattr(model, "heldout_objective", None)
    if final is not None and held:
        # the returned module's held-out value: after the read-out competition, which may
        # keep a linear map that the network beat by less than MARGIN_SE standard errors
        ax.axhline(final, ls=":", color="C2", lw=1.2,
                   label=f"returned ({getattr(model, 'selected', 'trained')}): {final:.4g}")
    ax.set_xlabel("step")
    ax.set_ylabel("objective")
    shown = [p["loss"] for _, p in history] + [v for _, v in held] + (
        [final] if final is not None and held else [])
    if shown and all(math.isfinite(v) and v > 0 for v in shown):
        # a log axis: SIGReg's first losses (~15) had flattened a held-out curve near 0.11
        # into a line (session 49, a user's trial)
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    if path is not None:
        savefig(ax.figure, path)
    return ax.figure


def plot_slowness(model: nn.Module, path=None, ax=None):
    """Bars of ``model.slowness`` (:func:`coordinate_slowness` of each output on the
    held-out pairs, in the order :func:`fit_encoder` returns them; error bars ± 2 standard
    errors, ``model.slowness_se``) against 2, the value of
    an output without temporal structure: the outputs well below the line are the slow
    latents, and with more input channels than latents their count is the dimension to
    keep. Returns the ``Figure``; ``path`` and ``ax`` as in :func:`plot_history`."""
    from matplotlib.figure import Figure

    from .store import savefig
    _check_figure_path(path)
    s = getattr(model, "slowness", None)
    if s is None:
        raise ValueError("model has no slowness: pass what fit_encoder returned with "
                         "held-out pairs (holdout > 0)")
    s = np.asarray(s, dtype=float)
    se = getattr(model, "slowness_se", None)      # absent on models saved before session 27
    if ax is None:
        ax = Figure(figsize=(max(4.0, 0.25 * s.size + 2), 3.2)).subplots()
    ax.bar(np.arange(1, s.size + 1), np.nan_to_num(s, nan=0.0), color="C0",
           yerr=None if se is None else 2 * np.nan_to_num(np.asarray(se, dtype=float)),
           capsize=2, error_kw=dict(lw=0.8),
           label="held-out" if se is None else "held-out, ± 2 s.e.")
    ax.axhline(2, ls="--", color="0.4", lw=1, label="2: no temporal structure")
    # only the whitened objective's read-out sorts its outputs (SIGReg and InfoNCE keep their
    # trained last layer): the label said "slowest first" for those too (session 44)
    ax.set_xlabel("output coordinate (slowest first on the training pairs)"
                  if getattr(model, "ordered", getattr(model, "selected", None) is not None)
                  else
                  "output coordinate (the encoder's own order, not sorted by slowness)")
    ax.set_ylabel("held-out E(h' - h)² / Var h")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # no 2.5, 7.5 at 20 outputs (s47)
    top = s if se is None else s + 2 * np.asarray(se, dtype=float)
    ax.set_ylim(0, max(2.3, float(np.nanmax(top, initial=0)) * 1.1))
    ax.legend(fontsize=8, loc="best")
    if path is not None:
        savefig(ax.figure, path)
    return ax.figure
