"""Train an encoder on observation pairs ``(x, x')`` with a LeJEPA-style objective.

>>> enc = fit_encoder(x, x_next, "sigreg")          # x, x_next: (N, d) arrays
>>> h = embed(enc, x)                              # (N, n) float64
>>> linear_r2(h, z)                                # ~1 on a Gaussian-OU world

Defaults: a residual MLP (identity linear path + zero-initialised 3 x 128 SiLU branch), Adam,
3000 steps of 1024 pairs, lr 1e-3 with 5% warm-up and cosine decay to zero; SIGReg's weight
ramps up during training (see :mod:`pycheck.objectives`) and it uses
:func:`default_num_slices` slices. Measured with these defaults by
``scripts/unseen_mixings.py`` on five mixings defined only there, which also served to choose
between candidate defaults (Gaussian-OU pairs, rho 0.5,
20000 training / 5000 held-out pairs; ``results/fit_encoder/unseen.md``): ``R²(h -> z)``
0.9982 (2D tanh shear), 0.9926 (4D cubic), 0.9935 (4D shears), 0.9942 (4D planar flows),
0.9927 (8D planar flows, ``R²(x -> z)`` 0.9902). The plain MLP ("mlp") gave 0.9981,
0.9953, 0.9935, 0.9959 but 0.9881 on the 8D mixing, below the raw input's R²; lr 3e-3
gave 0.9927 and 0.9909 on the two 4D shear/cubic mixings. Precision is bought with steps and a small
peak lr: near the optimum the alignment gradient is dominated by the OU innovation noise,
so the nonlinear residual shrinks slowly and Adam's noise floor scales with the lr (unlike
supervised regression, whose noise vanishes at the optimum). On a 2D parabolic shear (2000
steps) R² rose from 0.9945 (lr 5e-3) to 0.9971 (lr 1e-3), while a 4x batch, fresh data
each step or a different final SIGReg weight changed it by < 0.002 (results/twod/convergence.md).
That was with the weight ramp alone. With a VICReg ``warm_start`` the number of pairs
matters: on the 2D spiral (seed 0) 200 000 pairs instead of 20 000 took R² from 0.9978 to
0.9991, because on 20 000 the encoder fits its sample (convergence.md, session 4).
"""
from __future__ import annotations

import copy
import math
import sys
import time

import numpy as np
import torch
from torch import nn

from .encoders import (MLPEncoder, OutputWhitened, RealNVPEncoder, ResidualMLPEncoder,
                       Standardized)
from .objectives import DEFAULT_LAM, OBJECTIVES, make_objective


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the message names the step."""

    def __init__(self, step: int, value: float):
        super().__init__(f"training diverged at step {step}: loss = {value}; "
                         "try a smaller lr or check the inputs' scale")
        self.step, self.value = step, value


def _as_tensor(name: str, a) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    if np.iscomplexobj(a):  # np.asarray(..., float64) would drop the imaginary part
        raise ValueError(f"{name} must be real, got a complex array")
    try:
        a = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array of shape (N, d): {exc}") from None
    if a.ndim != 2:
        raise ValueError(f"{name} must have shape (N, d), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf ({int((~np.isfinite(a)).sum())} entries)")
    return torch.from_numpy(a)


def _check_int(name: str, v, low: int, high: int = 2**63 - 1) -> int:
    """``v`` as an int in ``[low, high]``; a float, bool or string is refused (``3.0`` steps
    is more likely a mistake than an intent, and ``inf`` has no integer value)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not low <= v <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {v!r}")
    return int(v)


def _check_scale(name: str, a: torch.Tensor) -> None:
    """Input whitening divides by each column's spread: refuse a constant column (its
    test-time deviations would be amplified ~1e12) and values whose variance overflows."""
    var = a.var(0)
    if not torch.isfinite(var).all():
        raise ValueError(f"{name}: values too large for float64 second moments "
                         f"(max |{name}| = {a.abs().max().item():.3g}); rescale the input")
    const = torch.nonzero(var == 0).flatten().tolist()
    if const:
        raise ValueError(f"{name}: column(s) {const} are constant; drop them, or pass "
                         "whiten='none'")


def _device(device) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


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


def fit_encoder(x, x_next, objective: str = "sigreg", *,
                encoder: nn.Module | str = "residual-mlp",
                steps: int = 3000, batch_size: int = 1024, lr: float = 1e-3, seed: int = 0,
                device=None, progress: bool = True, whiten: str | None = None,
                dim_out: int | None = None, warm_start: dict | None = None,
                **options) -> nn.Module:
    """Fit an encoder so that ``f(x)`` minimises ``objective`` on the pairs ``(x, x_next)``.

    Parameters
    ----------
    x, x_next : array or tensor, shape (N, d)
        Positive pairs of observations (e.g. ``g(z), g(z')``). ``N >= 2``, finite values.
    objective : {"sigreg", "vicreg", "infonce"}
        See :func:`pycheck.objectives.make_objective`; ``**options`` go to it (e.g.
        ``lam=0.1``, ``sigma=1.0``).
    encoder : {"residual-mlp", "mlp"} or nn.Module
        ``"residual-mlp"`` (default): :class:`pycheck.encoders.ResidualMLPEncoder` ``(d, dim_out
        or d)``, a linear path (starting at the identity) plus a zero-initialised MLP
        branch; ``"mlp"``: a plain :class:`pycheck.encoders.MLPEncoder`; or any module
        mapping ``(B, d)`` to ``(B, n)``, trained in place.
    steps, batch_size, lr
        Adam steps, pairs per step (capped at N), peak learning rate (5% linear warm-up,
        then cosine decay to 0).
    seed
        Seeds the default encoder's initialisation, the batch order and SIGReg's slices;
        the global RNG state is left untouched.
    device
        ``"cuda"`` if available, else ``"cpu"`` by default.
    progress
        tqdm progress bar (only when stderr is a terminal).
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

    Returns
    -------
    nn.Module
        A :class:`pycheck.encoders.Standardized` wrapper (eval mode) with attributes
        ``history`` (list of ``(step, parts)``) and ``train_seconds``.

    Raises
    ------
    ValueError
        Bad shapes, complex, non-finite or overflowing values, a constant column (unless
        ``whiten="none"``), ``N < 2``, unknown objective or option, a ``steps``,
        ``batch_size``, ``seed`` or ``dim_out`` that is not an integer in range, ``lr``
        not a finite positive number.
    TrainingDiverged
        The loss became non-finite (the message names the step).
    """
    xt, xnt = _as_tensor("x", x), _as_tensor("x_next", x_next)
    if xt.shape != xnt.shape:
        raise ValueError(f"x and x_next must have the same shape, got {tuple(xt.shape)} "
                         f"and {tuple(xnt.shape)}")
    n_pairs, d = xt.shape
    if n_pairs < 2:
        raise ValueError(f"need at least 2 pairs, got {n_pairs}")
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; valid: {', '.join(OBJECTIVES)}")
    steps = _check_int("steps", steps, 1)
    batch_size = _check_int("batch_size", batch_size, 2)
    seed = _check_int("seed", seed, 0)  # torch generators take 64-bit seeds
    if dim_out is not None:
        dim_out = _check_int("dim_out", dim_out, 1)
    if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating)) \
            or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if isinstance(encoder, str) and encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r}; valid: {', '.join(ENCODERS)} "
                         "or an nn.Module")
    if objective == "sigreg":
        options.setdefault("seed", seed)
        options.setdefault("num_slices", default_num_slices(dim_out or d))
    if warm_start is not None:
        warm_start = _check_warm_start(warm_start)
        if objective in DEFAULT_LAM:
            options.setdefault("lam_start", options.get("lam", DEFAULT_LAM[objective]))
    loss_fn = make_objective(objective, **options)

    dev = _device(device)
    gen = torch.Generator().manual_seed(seed)
    if isinstance(encoder, str):
        encoder = make_encoder(encoder, d, dim_out or d, seed)
    if whiten is None:
        whiten = default_whiten(encoder)
    if whiten != "none":
        _check_scale("x", xt)
    first = None
    if warm_start is not None:
        first = fit_encoder(xt, xnt, warm_start["objective"], encoder=encoder,
                            steps=warm_start["steps"], batch_size=batch_size,
                            lr=warm_start.get("lr", lr), seed=seed, device=device,
                            progress=progress, whiten=whiten, dim_out=dim_out,
                            **warm_start["options"])
        encoder = OutputWhitened.fit(first.encoder, torch.from_numpy(embed(first, xt)))
        first = copy.deepcopy(first)
    model = Standardized.fit(encoder, xt, whiten).to(dev)
    data = torch.stack([xt, xnt]).float().to(dev)     # (2, N, d)
    batch = min(int(batch_size), n_pairs)

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = warmup_cosine(opt, steps)

    from tqdm.auto import tqdm
    bar = tqdm(range(steps), desc=f"fit {objective}", leave=False,
               disable=not progress or not sys.stderr.isatty())
    history, t0 = [], time.perf_counter()
    model.train()
    for step in bar:
        if hasattr(loss_fn, "set_progress"):
            loss_fn.set_progress(step / max(1, steps - 1))
        idx = torch.randint(n_pairs, (batch,), generator=gen).to(dev)
        hb = model(data[:, idx].reshape(2 * batch, d))
        loss, parts = loss_fn(hb[:batch], hb[batch:])
        if not math.isfinite(parts["loss"]):
            raise TrainingDiverged(step, parts["loss"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        sched.step()
        if step % 100 == 0 or step == steps - 1:
            history.append((step, parts))
            bar.set_postfix({k: f"{v:.4g}" for k, v in parts.items()})
    model.eval()
    model.history, model.train_seconds = history, time.perf_counter() - t0
    if first is not None:
        model.warm_start_model = first
        model.history = first.history + [(warm_start["steps"] + s, p) for s, p in history]
        model.train_seconds += first.train_seconds
    return model


def _check_warm_start(ws) -> dict:
    if not isinstance(ws, dict) or not {"objective", "steps"} <= set(ws) \
            or set(ws) - {"objective", "steps", "lr", "options"}:
        raise ValueError("warm_start must be a dict with keys 'objective', 'steps' and "
                         f"optionally 'lr', 'options'; got {ws!r}")
    if ws["objective"] not in OBJECTIVES:
        raise ValueError(f"unknown warm_start objective {ws['objective']!r}; "
                         f"valid: {', '.join(OBJECTIVES)}")
    return dict(ws, options=dict(ws.get("options", {})))


@torch.no_grad()
def embed(encoder: nn.Module, x, batch_size: int = 8192) -> np.ndarray:
    """``encoder(x)`` in eval mode, in batches; float64 NumPy array ``(N, n)``."""
    xt = _as_tensor("x", x).float()
    width = getattr(encoder, "mean", None)   # a Standardized model knows its input width
    if isinstance(width, torch.Tensor) and width.shape[-1] != xt.shape[1]:
        raise ValueError(f"x has {xt.shape[1]} columns; the encoder was fitted on "
                         f"{width.shape[-1]}")
    dev = next((p.device for p in encoder.parameters()), torch.device("cpu"))
    was_training = encoder.training
    encoder.eval()
    out = [encoder(xt[i:i + batch_size].to(dev)).double().cpu()
           for i in range(0, xt.shape[0], batch_size)]
    encoder.train(was_training)
    return torch.cat(out).numpy()
