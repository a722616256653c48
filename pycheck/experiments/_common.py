"""One trained-encoder run, shared by the twod and scaling experiments.

:func:`train_and_measure` draws Gaussian-OU pairs, mixes them, fits an encoder on the
observations, and measures on fresh held-out pairs: ``R²(x -> z)``, ``R²(h -> z)`` and the
Theorem 3 quantities (``eps, delta, D, bound``), i.e. every key the ``bound`` experiment
reads from ``results/<name>/runs/*.json``.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager

import numpy as np

from ..store import shows


@shows("progress")
def train_and_measure(*, mixing: str, n: int, objective: str, seed: int, rho: float,
                      n_train: int, n_test: int, steps: int, batch_size: int, lr: float,
                      encoder: str = "mlp", options: dict | None = None,
                      keep_embedding: int = 0, fresh: bool = False,
                      antithetic: bool = False, qmc: bool = False,
                      learn_bound: bool = True, progress: bool = False) -> dict:
    """Train one encoder and measure it; returns a JSON-able dict.

    ``encoder`` is ``"mlp"`` (fit_encoder's default MLP) or ``"realnvp"`` (the matched
    :class:`pycheck.encoders.RealNVPEncoder`, initialised with a seed different from the
    mixing's). ``keep_embedding > 0`` also stores that many test rows of ``z`` and
    ``h`` (for figures). ``fresh = True`` trains on fresh pairs at every step
    (:func:`world_sampler`); the ``n_train`` stored pairs then only fit the input
    whitening and give fit_encoder's held-out pairs. ``antithetic = True`` (with
    ``fresh``) draws the fresh pairs as antithetic twins, ``qmc = True`` (with ``fresh``)
    draws their states and innovations by randomised quasi-Monte Carlo
    (:func:`world_sampler`). ``learn_bound``: the RealNVP encoder's learned log-scale bound
    (:class:`pycheck.encoders.RealNVPEncoder`; ``False`` is the encoder before session 32).
    ``progress``: fit_encoder's progress bar, or its line a minute in a batch job's log
    (:func:`show_progress`; not part of the run's task record).
    """
    from ..metrics import linear_r2, t3_quantities
    from ..train import embed, fit_encoder
    _check_fresh(fresh, antithetic=antithetic, qmc=qmc)

    g, z, z_next, zt, zt_next = _data(mixing, n, seed, rho, n_train, n_test)
    x, xt = g.forward(z), g.forward(zt)
    t0 = time.perf_counter()
    model = fit_encoder(x, g.forward(z_next), objective,
                        encoder=_encoder(encoder, n, seed, learn_bound), steps=steps,
                        batch_size=batch_size, lr=lr, seed=seed,
                        progress=show_progress(progress),
                        sampler=_pair_sampler(g, n, seed, rho, antithetic, qmc) if fresh else None,
                        checkpoint=run_checkpoint(), **(options or {}))
    secs = time.perf_counter() - t0
    h, h_next = embed(model, xt), embed(model, g.forward(zt_next))
    extra = {}
    if hasattr(model, "warm_start_model"):       # R² after fit_encoder's first phase
        extra["r2_hz_warm_start"] = linear_r2(embed(model.warm_start_model, xt), zt)
    res = dict(experiment_run=f"{mixing}-{objective}-N{n}-seed{seed}", mixing=mixing,
               objective=objective, encoder=encoder, seed=seed, n_train=n_train,
               n_test=n_test, steps=steps, batch_size=batch_size, lr=lr, fresh=fresh,
               antithetic=antithetic, qmc=qmc, **_bound_key(encoder, learn_bound),
               r2_xz=linear_r2(xt, zt), r2_hz=linear_r2(h, zt),
               train_seconds=secs, final_parts=model.history[-1][1],
               **extra, **t3_quantities(h, h_next, zt, rho))
    if keep_embedding:
        res["z"] = zt[:keep_embedding].tolist()
        res["x"] = xt[:keep_embedding].tolist()
        res["h"] = h[:keep_embedding].tolist()
    return res


def _bound_key(encoder: str, learn_bound: bool) -> dict:
    """``learn_bound`` for a run's record where it applies (the RealNVP encoder)."""
    return {"learn_bound": learn_bound} if encoder == "realnvp" else {}


def _check_fresh(fresh: bool, **drawn_fresh: bool) -> None:
    """Refuse a way of drawing pairs (``antithetic``, ``qmc``) that needs ``fresh=True``."""
    for name, on in drawn_fresh.items():
        if on and not fresh:
            raise ValueError(f"{name} pairs are drawn fresh at every step: pass fresh=True")


def _data(mixing: str, n: int, seed: int, rho: float, n_train: int, n_test: int):
    """The mixing and the train/test Gaussian-OU pairs of one run (seeded by seed and n)."""
    from ..mixings import make_mixing
    from ..worlds import gaussian_ou_pairs
    rng = np.random.default_rng([seed, n, 0x7EA])
    z, z_next = gaussian_ou_pairs(n_train, n, rho, rng)
    zt, zt_next = gaussian_ou_pairs(n_test, n, rho, rng)
    return make_mixing(mixing, n, seed), z, z_next, zt, zt_next


def world_sampler(n: int, seed: int, rho: float, antithetic: bool = False,
                  qmc: bool = False):
    """``draw(batch) -> (z, z_next)``: fresh Gaussian-OU pairs, from a generator seeded
    apart from :func:`_data`'s, so that training never revisits a pair (the encoder cannot
    fit its sample's OU innovations) and no data set is held in memory.

    ``antithetic``: the batch is ``ceil(batch / 2)`` states ``z``, each with the two next
    states ``rho z ± sqrt(1 - rho²) eps`` (the first ``batch`` of these pairs). Every pair
    is still a Gaussian-OU pair, so the expected loss is unchanged; the two views of one
    state are LeJEPA's several views per sample, with opposite innovations, which cancels
    the part of the alignment gradient's noise that is odd in ``eps`` (a Monte Carlo
    variance reduction). Measured on the scaling world, seed 0 (the tuning seed), 10 000 x
    256: R²(h -> z) at N = 8 SIGReg (scale-free, lam 0.01) 0.9936 -> 0.9958, VICReg 0.9938
    -> 0.9961; N = 2 SIGReg 0.9967 -> 0.9969; N = 64 VICReg (6000 steps) 0.9399 -> 0.9484
    (session 11, ``results/scaling/probes_s11.jsonl``).

    ``qmc``: each step's states and innovations ``(z, eps)`` are the next ``k`` points of
    one scrambled Sobol sequence in ``2N`` dimensions (seeded), mapped through the normal
    quantile (randomised quasi-Monte Carlo; ``k`` = the states per step, a power of 2 for
    the balance of Sobol nets). Every pair is still a Gaussian-OU pair; a batch's ``z``
    and ``z'`` are spread over the Gaussian far more evenly than independent draws, so the
    batch statistics the objectives penalise (SIGReg's empirical characteristic function,
    VICReg's covariance) carry much less sampling noise when ``h`` is a rotation of ``z``.
    Measured on the scaling world (``scripts/views_probe.py``, 6000 steps, session 16,
    ``results/scaling/probes_s16.jsonl``), R²(h -> z) antithetic / + QMC of z only / + QMC
    of (z, eps): SIGReg N = 16 (lam 0.006) seed 0 0.98429 / 0.99266 / 0.99449, seed 1
    0.99025 / 0.99403 / 0.99593; VICReg (QMC of z only) N = 8 seed 0 0.99697 / 0.99701,
    seed 1 0.99619 / 0.99627, N = 32 seed 0 0.98862 / 0.98914, seed 1 0.98994 /
    0.99006."""
    rng = np.random.default_rng([seed, n, 0xF5E5])
    scale = math.sqrt(1.0 - rho * rho)
    normals = _sobol_normals(2 * n, rng) if qmc else None

    def states(k):
        if normals is None:
            return rng.standard_normal((k, n)), rng.standard_normal((k, n))
        ze = normals(k)
        return ze[:, :n], ze[:, n:]

    if not antithetic and normals is None:
        from ..worlds import gaussian_ou_pairs
        return _with_state(lambda batch: gaussian_ou_pairs(batch, n, rho, rng), rng, normals)
    if not antithetic:
        def draw_plain(batch):
            z, eps = states(batch)
            return z, rho * z + scale * eps
        return _with_state(draw_plain, rng, normals)

    def draw(batch, distinct: bool = False):
        # distinct: the k states once (z[i % k] is pair i's first view), not repeated
        k = -(-batch // 2)
        z, eps = states(k)
        rz, se = rho * z, scale * eps      # each computed once: the same bits as before
        z_next = np.empty((2 * k, n))
        np.add(rz, se, out=z_next[:k])
        np.subtract(rz, se, out=z_next[k:])
        return (z if distinct else np.concatenate([z, z])[:batch]), z_next[:batch]
    return _with_state(draw, rng, normals)


def _with_state(draw, rng: np.random.Generator, normals):
    """``draw`` with ``state_dict()`` / ``load_state_dict(state)``: the generator's state
    and the Sobol engine's (a copy), so that fit_encoder's checkpoint can save and restore
    the stream of fresh pairs."""
    import copy

    def state_dict():
        return dict(rng=copy.deepcopy(rng.bit_generator.state),
                    sobol=None if normals is None else copy.deepcopy(normals.engine[0]))

    def load_state_dict(state):
        rng.bit_generator.state = state["rng"]
        if normals is not None:
            normals.engine[0] = copy.deepcopy(state["sobol"])
    draw.state_dict, draw.load_state_dict = state_dict, load_state_dict
    return draw


def _sobol_normals(dim: int, rng: np.random.Generator):
    """``normals(k) -> (k, dim)``: the next ``k`` points of a scrambled Sobol sequence
    (seeded by ``rng``) mapped to standard normals by the quantile function."""
    import warnings

    from scipy.special import ndtri
    from scipy.stats import qmc
    engine = [qmc.Sobol(dim, scramble=True, rng=rng)]   # a list: a restored state replaces it
    tiny = np.finfo(np.float64).eps

    def normals(k: int) -> np.ndarray:
        with warnings.catch_warnings():   # k not a power of 2: valid points, less balanced
            warnings.filterwarnings("ignore", message=".*balance properties.*")
            u = engine[0].random(k)
        np.clip(u, tiny, 1 - tiny, out=u)   # in place: the same values, no new arrays
        return ndtri(u, out=u)
    normals.engine = engine
    return normals


def _pair_sampler(g, n: int, seed: int, rho: float, antithetic: bool = False,
                  qmc: bool = False):
    """fit_encoder's ``sampler``: fresh mixed pairs ``(g(z), g(z'))``."""
    draw = world_sampler(n, seed, rho, antithetic, qmc)

    def sample(batch):
        # antithetic: the ceil(batch / 2) distinct states only; fit_encoder pairs x[i % k]
        # with x_next[i] and encodes each state once (the same pairs as the repeated z;
        # 25% fewer encoder rows per step)
        z, z_next = draw(batch, distinct=True) if antithetic else draw(batch)
        # mixed in float32: the encoder's input precision (Mixing.forward)
        return g.forward(z, np.float32), g.forward(z_next, np.float32)
    sample.state_dict, sample.load_state_dict = draw.state_dict, draw.load_state_dict
    return sample


def fit_progress(cfg: dict) -> bool:
    """``fit_encoder(progress=...)`` for a run: the profile's ``progress`` (default on), and
    only in the invoking process. The bars (or, in a log, the per-minute lines) of parallel
    ``--jobs`` workers would interleave on one terminal (gennorm's did: session 47)."""
    return show_progress(bool(cfg.get("progress", True)))


def show_progress(wanted: bool) -> bool:
    """``wanted``, in the invoking process or a batch job's (a SLURM job's log then gets
    fit_encoder's line a minute: twod, scaling and anisotropic runs had printed nothing
    while they trained; session 50, a cluster trial); never in a ``--jobs`` worker."""
    import multiprocessing
    return bool(wanted) and multiprocessing.parent_process() is None


def run_checkpoint() -> str | None:
    """The checkpoint file of the run being computed (``fit_encoder(checkpoint=...)``,
    ``fit_supervised(checkpoint=...)``), set by :mod:`pycheck.executors` and
    :meth:`pycheck.store.RunStore.run` for every run they start: a run killed mid-training
    (a SLURM time limit, Ctrl-C) resumes from it when run again; ``None`` outside them.
    One such call per run may use it: a second call with other arguments would find the
    first one's file and refuse it."""
    import os
    return os.environ.get("PYCHECK_RUN_CHECKPOINT") or None


def _latent_sampler(g, n: int, seed: int, rho: float, qmc: bool = False):
    """fit_supervised's ``sampler``: fresh ``(g(z), z)`` from the stream the
    self-supervised runs draw (their first views), so both see the same worlds."""
    draw = world_sampler(n, seed, rho, qmc=qmc)

    def sample(batch):
        z, _ = draw(batch)
        return g.forward(z, np.float32), z
    sample.state_dict, sample.load_state_dict = draw.state_dict, draw.load_state_dict
    return sample


def _encoder(kind: str, n: int, seed: int, learn_bound: bool = True):
    """The experiments' encoders: the matched RealNVP encoder (initialised with a seed
    different from the mixing's; ``learn_bound`` as in :class:`pycheck.encoders.RealNVPEncoder`)
    or fit_encoder's plain MLP, seeded as fit_encoder seeds it."""
    from ..encoders import RealNVPEncoder
    from ..train import make_encoder
    if kind == "realnvp":
        return RealNVPEncoder(n, seed=10_000 + seed, learn_bound=learn_bound)
    return make_encoder("mlp", n, n, seed)


def fit_supervised(x, z, encoder, *, steps: int, batch_size: int, lr: float, seed: int,
                   sampler=None, checkpoint=None, checkpoint_every: float = 60):
    """Regress ``encoder`` on the true latents, ``E ||f(x) - z||²``, with fit_encoder's input
    whitening, optimiser and schedule; returns the trained :class:`Standardized` model.
    ``sampler(batch) -> (x, z)`` draws fresh pairs for every step (``x, z`` then only fit
    the input whitening). ``checkpoint``, ``checkpoint_every``: as in
    :func:`pycheck.train.fit_encoder` (an interrupted fit resumes to the same bits; a
    sampler then needs ``state_dict``/``load_state_dict``)."""
    import torch

    from ..train import checkpoint_fingerprint, resuming
    xt = torch.from_numpy(np.asarray(x, dtype=np.float64))
    zf = torch.from_numpy(np.asarray(z)).float()
    if checkpoint is None:
        return _regress(xt, zf, encoder, steps, batch_size, lr, seed, sampler)
    args = dict(encoder=encoder, sampler=sampler, steps=steps, batch_size=batch_size, lr=lr,
                seed=seed)
    with resuming(checkpoint, checkpoint_every, sampler,
                  lambda: checkpoint_fingerprint(xt, zf, "supervised", args, {}),
                  "fit_supervised"):
        return _regress(xt, zf, encoder, steps, batch_size, lr, seed, sampler)


def _regress(xt, zf, encoder, steps: int, batch_size: int, lr: float, seed: int, sampler):
    """:func:`fit_supervised`'s loop; within :func:`pycheck.train.resuming` it restores and
    saves its state (weights, Adam, schedule, batch generator, sampler)."""
    import torch

    from ..encoders import Standardized
    from ..train import (_device, default_whiten, one_blas_thread, restore_training_state,
                         ResumePhase, training_state, warmup_cosine)
    # on fit_encoder's device: the ceiling had trained on the CPU beside an idle GPU
    # (session-45 CUDA review); on the CPU every .to(dev) is a no-op, the bits unchanged
    dev = _device(None)
    model = Standardized.fit(encoder, xt, default_whiten(encoder)).to(dev)
    xf, zf = xt.float().to(dev), zf.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    sched = warmup_cosine(opt, steps)
    gen = torch.Generator().manual_seed(seed)
    phase, start = ResumePhase(), 0
    if phase.state is not None:
        restore_training_state(phase.state, model, opt, sched, [gen], sampler)
        start = phase.state["step"]
    with one_blas_thread():                  # as fit_encoder (see train.set_threads)
        for step in range(start, steps):
            if sampler is None:
                idx = torch.randint(len(xf), (min(batch_size, len(xf)),), generator=gen)
                idx = idx.to(dev)
                xb, zb = xf[idx], zf[idx]
            else:
                xb, zb = sampler(batch_size)  # raw float64: model standardises it in float64
                xb, zb = torch.from_numpy(xb).to(dev), torch.from_numpy(zb).float().to(dev)
            loss = (model(xb) - zb).square().sum(-1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            phase.save_if_due(step, steps, lambda: training_state(
                model, opt, sched, [gen], sampler, step=step + 1))
    return model.eval()


def supervised_reference(*, mixing: str, n: int, seed: int, rho: float, n_train: int,
                         n_test: int, steps: int, batch_size: int, lr: float,
                         encoder: str = "mlp", fresh: bool = False, qmc: bool = False,
                         learn_bound: bool = True) -> dict:
    """Budget ceiling: the same encoder, data, steps, batch and schedule as
    :func:`train_and_measure`, but trained by regression on the true latents ``z``
    (:func:`fit_supervised`, an oracle no self-supervised method has). Its held-out
    ``R²(h -> z)`` is what this optimisation budget can reach at best, so it separates
    "the objective does not identify z" from "the optimiser did not get there".
    ``fresh``, ``qmc`` and ``learn_bound`` as in :func:`train_and_measure` (the same
    fresh-pair budget and encoder).
    """
    from ..metrics import linear_r2
    from ..train import embed
    _check_fresh(fresh, qmc=qmc)
    g, z, _, zt, _ = _data(mixing, n, seed, rho, n_train, n_test)
    t0 = time.perf_counter()
    sampler = _latent_sampler(g, n, seed, rho, qmc) if fresh else None
    model = fit_supervised(g.forward(z), z, _encoder(encoder, n, seed, learn_bound),
                           steps=steps,
                           batch_size=batch_size, lr=lr, seed=seed, sampler=sampler,
                           checkpoint=run_checkpoint())
    secs = time.perf_counter() - t0
    h = embed(model, g.forward(zt))
    return dict(experiment_run=f"{mixing}-supervised-N{n}-seed{seed}", mixing=mixing, n=n,
                objective="supervised", encoder=encoder, seed=seed, steps=steps,
                batch_size=batch_size, lr=lr, fresh=fresh, qmc=qmc,
                **_bound_key(encoder, learn_bound), r2_hz=linear_r2(h, zt),
                train_seconds=secs)


@contextmanager
def torch_threads(cfg: dict):
    """Train with ``cfg['threads']`` (default 1) intra-op CPU threads; restore them after.

    On a shared, oversubscribed 2-core machine two threads were ten times slower per
    training step than one (0.55 s vs 0.05 s, 2D MLP + SIGReg), so the configs ask for 1;
    without contention 2 is slightly faster. Irrelevant on CUDA. NumPy's BLAS runs one
    thread meanwhile (:func:`pycheck.train.set_threads`).
    """
    import torch

    from ..train import set_threads
    old = torch.get_num_threads()
    limits = set_threads(max(1, int(cfg.get("threads", 1))))
    try:
        yield
    finally:
        limits.restore_original_limits()
        torch.set_num_threads(old)


# ---------------------------------------------------------------- profile checks
# A profile ([quick] / [full] of experiments/<name>.toml) is checked whole before an
# experiment writes anything: unknown keys, a missing key, a string or fraction where a
# count belongs (TOML's steps = "100" had trained, steps = 2.5 trained 2) and values out of
# range are refused with the key's name. Session 36 found these accepted or refused late
# (after other runs had trained); reacher has had its own check since it was written.
# Only checks: the profile itself is passed on unchanged, so that the settings stored with
# finished runs (and their resumption) stay as they were.

def count(low: int = 1):
    """A setting that is an integer >= ``low`` (not a float, bool or string)."""
    def check(key, v):
        from ..validate import check_int
        check_int(key, v, low)
    return check


def number(low: float | None = None, high: float | None = None, *,
           include_low: bool = False):
    """A finite real number in the open interval ``(low, high)`` (``None``: unbounded;
    ``include_low``: ``[low, high)``)."""
    def check(key, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                or (low is not None and not (v >= low if include_low else v > low)) \
                or (high is not None and not v < high):
            where = (f" in {'[' if include_low else '('}{'-inf' if low is None else low}, "
                     f"{'inf' if high is None else high})")
            raise ValueError(f"{key} must be a finite number{where}, got {v!r}")
    return check


def flag(key, v):
    """``true`` or ``false``."""
    if not isinstance(v, bool):
        raise ValueError(f"{key} must be true or false, got {v!r}")


def choice(*values: str):
    """One of ``values``."""
    def check(key, v):
        if v not in values:
            raise ValueError(f"{key} must be one of {', '.join(values)}; got {v!r}")
    return check


def list_of(item):
    """A non-empty list whose entries pass ``item`` (a check), no entry twice (each entry
    names runs or rows; numbers compared by value)."""
    def check(key, v):
        if not isinstance(v, list) or not v:
            raise ValueError(f"{key} must be a non-empty list, got {v!r}")
        for i, e in enumerate(v):
            item(f"{key}[{i}]", e)
        same = lambda e: float(e) if isinstance(e, (int, float)) else repr(e)   # 2 == 2.0
        if len({same(e) for e in v}) != len(v):
            raise ValueError(f"{key} lists an entry more than once: {v!r}")
    return check


def text(key, v):
    """A non-empty string."""
    if not isinstance(v, str) or not v:
        raise ValueError(f"{key} must be a non-empty string, got {v!r}")


def mixing(key, v):
    """The name of one of :mod:`pycheck.mixings`' mixings."""
    from ..mixings import NAMES
    choice(*NAMES)(key, v)


def table(key, v):
    """A TOML table (a dict); its entries are checked where they are used."""
    if not isinstance(v, dict):
        raise ValueError(f"{key} must be a table ({{ ... }}), got {v!r}")


def objective_tables(*names: str):
    """A table of per-objective option tables, keyed by the objectives ``names``."""
    def check(key, v):
        table(key, v)
        for obj, given in v.items():
            if obj not in names:
                raise ValueError(f"{key}.{obj}: not an objective (valid: {', '.join(names)})")
            table(f"{key}.{obj}", given)
    return check


#: keys every profile may have: ``profile`` (added by ``pycheck reproduce``) and ``seeds``
#: (checked even when ``--seeds`` replaces them: twod ties its figure to the first)
COMMON = {"profile": choice("quick", "full"), "seeds": list_of(count(0))}
#: ``jobs``: worker processes, for the API (the command line sets its own); a key of the
#: experiments that read it
JOBS = {"jobs": count(1)}


def check_profile(name: str, cfg: dict, required: dict, optional: dict | None = None, *,
                  common: bool = True) -> None:
    """Refuse (``ValueError`` naming the key) a profile with a key missing from
    ``required``, a key in neither ``required``, ``optional`` nor :data:`COMMON`, or a value
    its check refuses (``{key: check(key, value)}``). ``common=False``: a table inside a
    profile (no :data:`COMMON` keys)."""
    what = "the profile" if common else "the table"
    if not isinstance(cfg, dict):
        raise ValueError(f"{name}: {what} must be a table, got {type(cfg).__name__}")
    known = {**(COMMON if common else {}), **(optional or {}), **required}
    missing = sorted(set(required) - set(cfg))
    unknown = sorted(set(cfg) - set(known))
    if missing or unknown:
        raise ValueError(f"{name}: {what} "
                         + "; ".join(([f"misses {', '.join(missing)}"] if missing else [])
                                     + ([f"has unknown key(s) {', '.join(unknown)}"]
                                        if unknown else []))
                         + f" (valid keys: {', '.join(sorted(known))})")
    for key, check in known.items():
        if key in cfg:
            try:
                check(key, cfg[key])
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None


def check_rows(name: str, key: str, n_rows: int, dim: int) -> None:
    """Refuse ``key`` = ``n_rows`` held-out rows too few to measure R² from ``dim``
    dimensions (:func:`pycheck.metrics.r2_split`: half fit the affine map)."""
    from ..metrics import r2_split

    def fits(m: int) -> bool:
        try:
            r2_split(m, dim)
        except ValueError:
            return False
        return True
    if not fits(n_rows):
        least = next(m for m in range(dim + 2, 2 * dim + 8) if fits(m))
        raise ValueError(f"{name}: {key} = {n_rows} is too few rows to measure R² in "
                         f"{dim} dimensions (half of them fit the affine map; needs at "
                         f"least {least})")


#: fit_encoder arguments an experiment sets itself (per run), with why: not options of a
#: profile
SET_BY_RUN = dict(
    steps="set by the profile's own key", batch_size="set by the profile's own key",
    lr="set by the profile's own key", seed="set by each run's seed",
    progress="set by the experiment", checkpoint="set by the experiment (a file per run)",
    sampler="set by the experiment", encoder="set by the experiment",
    n_pairs="not a fit_encoder option", width="not a fit_encoder option",
    # the runs measure an embedding as wide as the latent: another width broke their R²
    # and T3 figures after training (session 37)
    dim_out="set by the latent dimension (the runs measure R² and T3 on it)")


def check_fit_options(name: str, objective: str, options, *, steps, batch_size, lr,
                      what: str = "options", fresh: bool = False, **data) -> None:
    """Refuse fit_encoder options of a profile that its runs would refuse
    (:func:`pycheck.train.check_fit_settings`; ``data``: its ``n_pairs`` and ``width``),
    before the first run trains; and, unless the runs draw ``fresh`` pairs, a
    ``batch_size`` above the stored training pairs, which fit_encoder caps silently while
    the run's record keeps the setting (a user's trial, session 50: 50 000 recorded, 18 000
    trained)."""
    from ..train import DEFAULT_HOLDOUT, check_fit_settings, heldout_count
    if not isinstance(options, dict):
        raise ValueError(f"{name}: {what} must be a table of fit_encoder options, got "
                         f"{options!r}")
    own = sorted(set(options) & set(SET_BY_RUN))
    if own:
        raise ValueError(f"{name}: {what} may not set "
                         + "; ".join(f"{k} ({SET_BY_RUN[k]})" for k in own))
    try:
        check_fit_settings(objective, steps=steps, batch_size=batch_size, lr=lr,
                           **data, **options)
    except ValueError as exc:
        raise ValueError(f"{name}: {what}: {exc}") from None
    n_pairs = data.get("n_pairs")
    if not fresh and n_pairs is not None:
        held = heldout_count(n_pairs, options.get("holdout", DEFAULT_HOLDOUT))
        if batch_size > n_pairs - held:
            raise ValueError(f"{name}: batch_size {batch_size} is more than the "
                             f"{n_pairs - held} training pairs (n_train {n_pairs} less "
                             f"{held} held out): a run would train on batches of "
                             f"{n_pairs - held} and record {batch_size}; set batch_size <= "
                             f"{n_pairs - held}")
