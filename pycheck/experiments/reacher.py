"""Latent-space planning on pixels: DMC Reacher (T4, with T1 as its premise).

World (:mod:`pycheck.reacher`): the latent is the arm's two joint angles ``theta`` (rad),
the observation a 64x64 RGB frame rendered off-screen. Two training sets with the same
number of frames and the same CNN, objective (alignment + SIGReg,
:func:`pycheck.reacher.train_cnn`) and budget; with ``sfa_min_variance > 0`` the trained
last layer is then replaced by the closed-form slow-feature read-out of the penultimate
features (the exact alignment minimiser under whitening for those features):

* ``gauss-OU``   -- consecutive frames of stationary Gaussian-OU chains in angle space
  (``theta = sigma z``), the world of T1: its LeJEPA minimisers are ``h = Q theta/sigma``;
* ``trajectory`` -- consecutive frames of scripted reaching episodes in the MuJoCo
  dynamics, all starting near one pose (non-stationary, not Gaussian-OU).

Planning: ``k_pairs`` fixed start-goal poses (uniform in a box, at least ``min_dist``
apart). The state space is a bank of frames with known angles (a regular grid over a
larger box plus the start and goal poses). Each encoder embeds the bank, interpolates
linearly from the start embedding to the goal embedding in ``n_steps`` steps, and decodes
every waypoint by nearest-neighbour retrieval (:mod:`pycheck.planning`). The decoded
joint-space path is compared with the oracle's straight line in joint space:
``path_ratio`` (decoded length / straight length, ideal 1) and ``deviation`` (mean over
waypoints of the joint-space distance to the oracle's waypoint at the same plan time, rad).
The ``oracle`` row is the identity encoder on angles decoded through the same bank: its
small deviation and excess length are the bank's quantisation floor, and by T4 an
encoder ``h = Q theta + b`` decodes to exactly the same path. 95% CIs are percentile
bootstraps over the start-goal pairs (per-pair values averaged over seeds first).

Every trained run also records, on held-out Gaussian-OU frames, ``r2_hz`` (linear R² of
``h -> theta``) and the T3 quantities (``eps``, ``delta``, ``D``, ``bound``) with
``z = theta / sigma``; ``r2_bank`` is the same R² on the planning bank.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from ..planning import straight_line_plans
from ..store import RunStore, cpu_only, locates, savefig, write_json, write_table
from . import entry
from ._common import run_checkpoint, torch_threads

THEOREMS = ["T4", "T1"]
ENCODERS = ("gauss-OU", "trajectory")

# key -> (type, lower bound); every key is required, unknown keys are rejected
SCHEMA = {
    "seeds": (list, None), "data_seed": (int, 0), "shadows": (bool, None),
    "sigma": (float, 0.0), "rho": (float, 0.0),
    "ou_chains": (int, 2), "ou_length": (int, 2),
    "traj_episodes": (int, 2), "traj_length": (int, 2), "traj_frame_every": (int, 1),
    "traj_start_center": (float, None), "traj_start_radius": (float, 0.0),
    "traj_kp": (float, 0.0), "traj_kd": (float, 0.0), "traj_action_noise": (float, 0.0),
    "test_fraction": (float, 0.0),
    "bank_half_width": (float, 0.0), "bank_grid": (int, 2),
    "k_pairs": (int, 2), "pair_half_width": (float, 0.0), "min_dist": (float, 0.0),
    "n_steps": (int, 1), "figure_pair": (int, 0), "figure_columns": (int, 2),
    "steps": (int, 1), "batch_size": (int, 2), "lr": (float, 0.0), "lam": (float, 0.0),
    "channels": (list, None), "sfa_min_variance": (float, None), "threads": (int, 1),
}


def check_config(cfg: dict) -> dict:
    """Validate a ``[quick]``/``[full]`` table; returns a copy with numbers coerced.

    Raises ``ValueError`` naming the key for a missing, unknown or out-of-range entry.
    """
    cfg = dict(cfg)
    profile = cfg.pop("profile", None)
    if profile is not None and profile not in ("quick", "full"):
        raise ValueError(f"unknown profile {profile!r}; valid: quick, full")
    missing = sorted(set(SCHEMA) - set(cfg))
    unknown = sorted(set(cfg) - set(SCHEMA))
    if missing or unknown:
        raise ValueError("reacher config: " + "; ".join(
            ([f"missing keys {', '.join(missing)}"] if missing else [])
            + ([f"unknown keys {', '.join(unknown)}"] if unknown else [])))
    for key, (typ, low) in SCHEMA.items():
        v = cfg[key]
        if typ is float and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        if not isinstance(v, typ) or (typ is int and isinstance(v, bool)):
            raise ValueError(f"reacher config: {key} must be {typ.__name__}, got {v!r}")
        if typ is float and not math.isfinite(v):   # lr = inf passed until training (s36)
            raise ValueError(f"reacher config: {key} must be finite, got {v!r}")
        if low is not None and not v > low and not (typ is int and v == low):
            raise ValueError(f"reacher config: {key} = {v!r} is out of range")
        cfg[key] = v
    if not cfg["rho"] < 1 or not cfg["test_fraction"] < 1:
        raise ValueError("reacher config: rho and test_fraction must lie in (0, 1)")
    if cfg["figure_pair"] >= cfg["k_pairs"]:
        raise ValueError(f"reacher config: figure_pair must be < k_pairs ({cfg['k_pairs']})")
    if cfg["pair_half_width"] > cfg["bank_half_width"]:
        raise ValueError("reacher config: pair_half_width must not exceed bank_half_width")
    if not 0.0 <= cfg["sfa_min_variance"] < 1.0:
        raise ValueError("reacher config: sfa_min_variance must lie in [0, 1)")
    if len(cfg["channels"]) != 4 or not all(
            isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in cfg["channels"]):
        raise ValueError(f"reacher config: channels must be 4 positive ints, got {cfg['channels']}")
    _check_split(cfg)
    # the planning pairs, drawn as the bank will draw them (cheap; an impossible min_dist
    # was refused only after the training data had been rendered, s36)
    from ..reacher import start_goal_pairs
    try:
        start_goal_pairs(cfg["k_pairs"], cfg["pair_half_width"], cfg["min_dist"],
                         np.random.default_rng([cfg["data_seed"], 3]))
    except ValueError as exc:        # the settings by name, as the other refusals (s47)
        raise ValueError(f"reacher config: k_pairs = {cfg['k_pairs']}, pair_half_width = "
                         f"{cfg['pair_half_width']}, min_dist = {cfg['min_dist']}: {exc}") \
            from None
    return cfg


def held_out_chains(test_fraction: float, n_chains: int) -> int:
    """How many of ``n_chains`` chains (episodes) :meth:`_Data.split` holds out: the last
    ``test_fraction`` of them, at least one."""
    return max(1, int(round(test_fraction * n_chains)))


def _check_split(cfg: dict) -> None:
    """Refuse a split that leaves the training or the held-out measurement too few pairs
    (found only after rendering, or after training: session 37): training needs 2 pairs;
    the held-out Gaussian-OU frames give R² (an affine map from 2 outputs: 7 rows,
    :func:`pycheck.metrics.r2_split`) and the T3 figures (4 pairs)."""
    from ..metrics import r2_split
    for kind, chains, length in (("ou", cfg["ou_chains"], cfg["ou_length"]),
                                 ("traj", cfg["traj_episodes"], cfg["traj_length"])):
        n_test = held_out_chains(cfg["test_fraction"], chains)
        if (chains - n_test) * (length - 1) < 2:
            raise ValueError(f"reacher config: test_fraction {cfg['test_fraction']} holds out "
                             f"{n_test} of {chains} {kind} chains, leaving fewer than 2 "
                             "training pairs")
        if kind == "ou":
            try:
                r2_split(n_test * length, 2)
                if n_test * (length - 1) < 4:
                    raise ValueError("the T3 figures need 4 pairs")
            except ValueError as exc:
                raise ValueError(f"reacher config: test_fraction {cfg['test_fraction']} holds "
                                 f"out {n_test} OU chains of {length} frames, too few to "
                                 f"measure ({exc})") from None


# ------------------------------------------------------------------ data (cached)
def _data_params(c: dict) -> dict[str, dict]:
    """What each rendered dataset depends on, by cache kind."""
    return dict(
        ou={k: c[k] for k in ("data_seed", "sigma", "rho", "ou_chains", "ou_length", "shadows")},
        trajectory={k: c[k] for k in c if k.startswith("traj_")} | {
            k: c[k] for k in ("data_seed", "sigma", "shadows")},
        bank={k: c[k] for k in ("data_seed", "bank_half_width", "bank_grid", "k_pairs",
                                "pair_half_width", "min_dist", "n_steps", "figure_pair",
                                "shadows")})


def data_config(cfg: dict) -> dict:
    """The keys of ``cfg`` the rendered data depends on (the render run's task)."""
    return {k: v for params in _data_params(cfg).values() for k, v in params.items()}


def cache_files(cfg: dict, out) -> list[Path]:
    """The ``.npz`` files of the rendered data of ``cfg`` under ``out/cache``."""
    from ..reacher import cache_key
    return [Path(out) / "cache" / f"{cache_key(kind, params)}.npz"
            for kind, params in _data_params(cfg).items()]


class _Data:
    """Rendered datasets and bank, built once and cached under ``out/cache`` as .npz."""

    def __init__(self, cfg: dict, out: Path):
        from .. import reacher as R
        self.cfg, self._renderer = cfg, None
        ou, traj, bank = cache_files(cfg, out)
        self.ou = R.cached_arrays(ou, self._make_ou)
        self.traj = R.cached_arrays(traj, self._make_traj)
        self.bank = R.cached_arrays(bank, self._make_bank)

    @property
    def renderer(self):
        from ..reacher import ReacherRenderer
        if self._renderer is None:
            self._renderer = ReacherRenderer(shadows=self.cfg["shadows"])
        return self._renderer

    def _make_ou(self) -> dict:
        from ..reacher import ou_angles
        c = self.cfg
        theta = ou_angles(c["ou_chains"], c["ou_length"], c["sigma"], c["rho"],
                          np.random.default_rng([c["data_seed"], 1]))
        frames = self.renderer.render(theta.reshape(-1, 2), progress=True, desc="render OU")
        return dict(theta=theta, frames=frames)

    def _make_traj(self) -> dict:
        c = self.cfg
        theta = self.renderer.reaching_rollouts(
            c["traj_episodes"], c["traj_length"], np.random.default_rng([c["data_seed"], 2]),
            sigma=c["sigma"], start_center=c["traj_start_center"],
            start_radius=c["traj_start_radius"], frame_every=c["traj_frame_every"],
            kp=c["traj_kp"], kd=c["traj_kd"], action_noise=c["traj_action_noise"])
        frames = self.renderer.render(theta.reshape(-1, 2), progress=True,
                                      desc="render trajectory")
        return dict(theta=theta, frames=frames)

    def _make_bank(self) -> dict:
        from ..reacher import grid_angles, start_goal_pairs
        c = self.cfg
        starts, goals = start_goal_pairs(c["k_pairs"], c["pair_half_width"], c["min_dist"],
                                         np.random.default_rng([c["data_seed"], 3]))
        theta = np.concatenate([grid_angles(c["bank_half_width"], c["bank_grid"]), starts, goals])
        frames = self.renderer.render(theta, progress=True, desc="render bank")
        i = c["figure_pair"]
        line = straight_line_plans(starts[i:i + 1], goals[i:i + 1], c["n_steps"])[0]
        return dict(theta=theta, frames=frames, starts=starts, goals=goals,
                    oracle_line_frames=self.renderer.render(line))

    def split(self, which: str) -> tuple[dict, dict]:
        """Train and held-out (last ``test_fraction`` of the chains) parts of a dataset."""
        from ..reacher import consecutive_pairs
        d = self.ou if which == "gauss-OU" else self.traj
        n_chains, length, _ = d["theta"].shape
        n_test = held_out_chains(self.cfg["test_fraction"], n_chains)
        parts = []
        for chains in (slice(0, n_chains - n_test), slice(n_chains - n_test, n_chains)):
            theta = d["theta"][chains]
            frames = d["frames"].reshape(n_chains, length, *d["frames"].shape[1:])[chains]
            parts.append(dict(theta=theta.reshape(-1, 2),
                              frames=frames.reshape(-1, *frames.shape[2:]),
                              pairs=consecutive_pairs(len(theta), length)))
        return parts[0], parts[1]

    @property
    def pair_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Bank indices of the start and goal poses (appended after the grid)."""
        g, k = self.cfg["bank_grid"] ** 2, self.cfg["k_pairs"]
        return np.arange(g, g + k), np.arange(g + k, g + 2 * k)


# ------------------------------------------------------------------ one trained encoder
def _r2_cossin(h: np.ndarray, theta: np.ndarray, seed: int) -> float:
    from ..metrics import linear_r2
    return linear_r2(h, np.concatenate([np.cos(theta), np.sin(theta)], axis=1), seed=seed)


def _scores(data: _Data, model, ou_test: dict, seed: int) -> dict:
    """Plan scores and identifiability of one encoder on the bank and held-out OU frames."""
    from .. import reacher as R
    from ..metrics import linear_r2, t3_quantities

    c = data.cfg
    h_bank = R.embed_frames(model, data.bank["frames"])
    h_test = R.embed_frames(model, ou_test["frames"])
    s, g = data.pair_index
    decoded = R.decode_latent_plans(h_bank, s, g, c["n_steps"])
    scores = R.plan_metrics(data.bank["theta"][decoded],
                            straight_line_plans(data.bank["starts"], data.bank["goals"], c["n_steps"]))
    p = ou_test["pairs"]
    t3 = t3_quantities(h_test[p[:, 0]], h_test[p[:, 1]], ou_test["theta"][p[:, 0]] / c["sigma"],
                       c["rho"])
    return dict(**t3, r2_hz=linear_r2(h_test, ou_test["theta"], seed=seed),
                r2_bank=linear_r2(h_bank, data.bank["theta"], seed=seed),
                r2_bank_cossin=_r2_cossin(h_bank, data.bank["theta"], seed),
                path_ratio=scores["path_ratio"].tolist(), deviation=scores["deviation"].tolist(),
                decoded=decoded.tolist())


def run_one(data: _Data, encoder: str, seed: int) -> dict:
    """Train one encoder on its dataset, score its plans and its identifiability.

    With ``sfa_min_variance > 0`` the trained last layer is then replaced by the closed-form
    slow-feature read-out (:meth:`pycheck.reacher.ConvEncoder.set_sfa_readout`); the scores
    of the trained last layer are kept under ``trained_head`` to show what the solve buys.
    """
    from .. import reacher as R

    c, t0 = data.cfg, time.perf_counter()
    cpu0 = time.process_time()
    train, _ = data.split(encoder)
    _, ou_test = data.split("gauss-OU")
    model, history = R.train_cnn(train["frames"], train["pairs"], steps=c["steps"],
                                 batch_size=c["batch_size"], lr=c["lr"], seed=seed,
                                 lam=c["lam"], channels=c["channels"],
                                 desc=f"{encoder} seed {seed}", checkpoint=run_checkpoint())
    out = dict(encoder=encoder, seed=seed, history=history)
    if c["sfa_min_variance"] > 0:
        head = _scores(data, model, ou_test, seed)
        out["trained_head"] = {k: head[k] for k in ("r2_hz", "r2_bank", "D")} | {
            k: float(np.mean(head[k])) for k in ("deviation", "path_ratio")}
        out["sfa_slowness"] = model.set_sfa_readout(train["frames"], train["pairs"],
                                                    c["sfa_min_variance"]).tolist()
    return out | _scores(data, model, ou_test, seed) | dict(
        seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - cpu0)


#: datasets already loaded in this process, by :func:`_data_key`
_DATA: dict[tuple[str, str], _Data] = {}


def _data_key(cfg: dict, out) -> tuple[str, str]:
    return str(out), json.dumps(cfg, sort_keys=True)


@cpu_only
@locates("out")
def render_data(*, cfg: dict, out: str) -> dict:
    """The render run (a :meth:`pycheck.store.RunStore.run_many` task that every training run
    needs): render the datasets and the bank into ``out/cache`` (or find them there) and
    return their sizes. On SLURM it is a job of its own, which the training jobs wait for,
    so that the submitting process (a login node, say) renders nothing; it asks for no GPU
    (MuJoCo renders in software here, :func:`pycheck.store.cpu_only`). ``cfg``:
    :func:`data_config`, so that changing a training setting does not make it stale."""
    t0 = time.perf_counter()
    files = dict(zip(_data_params(cfg), cache_files(cfg, out)))
    found = {kind: p.is_file() for kind, p in files.items()}
    data = _Data(cfg, Path(out))
    return dict(frames=dict(ou=int(len(data.ou["frames"])),
                            trajectory=int(len(data.traj["frames"])),
                            bank=int(len(data.bank["frames"]))),
                cache=[p.name for p in files.values()],
                # what this run rendered; the rest it found in the cache (seconds: loading)
                rendered=[kind for kind, hit in found.items() if not hit],
                seconds=time.perf_counter() - t0)


@locates("out")
def train_and_score(*, cfg: dict, out: str, encoder: str, seed: int) -> dict:
    """One run as a task of :meth:`pycheck.store.RunStore.run_many` (module level and
    picklable, so ``--jobs`` workers and SLURM jobs can run it): the datasets come from the
    cache :func:`run` rendered under ``out``, training uses the config's thread count.
    ``cfg`` is the profile without the store's ignored keys (``seeds``: more seeds must not
    change the other runs' records); ``out`` only locates the cache (:func:`locates`)."""
    key = _data_key(cfg, out)
    with torch_threads(cfg):
        if key not in _DATA:
            _DATA[key] = _Data(cfg, Path(out))
        return run_one(_DATA[key], encoder, seed)


def _oracle(data: _Data) -> dict:
    from .. import reacher as R
    from ..metrics import linear_r2
    s, g = data.pair_index
    theta = data.bank["theta"]
    decoded = R.decode_latent_plans(theta, s, g, data.cfg["n_steps"])
    scores = R.plan_metrics(theta[decoded],
                            straight_line_plans(data.bank["starts"], data.bank["goals"],
                                           data.cfg["n_steps"]))
    return dict(path_ratio=scores["path_ratio"], deviation=scores["deviation"],
                decoded=decoded, r2_bank=linear_r2(theta, theta))


# ------------------------------------------------------------------ report
def _ratio_ci(num: np.ndarray, den: np.ndarray, seed: int = 0, n: int = 2000):
    """Ratio of means ``mean(num) / mean(den)`` with a paired percentile bootstrap CI."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(num), size=(n, len(num)))
    boot = num[idx].mean(1) / den[idx].mean(1)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return float(num.mean() / den.mean()), float(lo), float(hi)


def _figure(data: _Data, runs: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = data.cfg
    i, cols = c["figure_pair"], c["figure_columns"]
    steps = np.unique(np.round(np.linspace(0, c["n_steps"], cols)).astype(int))
    rows = [("oracle: joint-space straight line", data.bank["oracle_line_frames"][steps])]
    for enc in ENCODERS:
        r = runs[enc][0]
        idx = np.asarray(r["decoded"])[i, steps]
        rows.append((f"{enc} encoder (deviation {r['deviation'][i]:.2f} rad)",
                     data.bank["frames"][idx]))
    fig, axes = plt.subplots(3, len(steps), figsize=(1.1 * len(steps), 3.9), squeeze=False)
    for r, (title, frames) in enumerate(rows):
        for j, f in enumerate(frames):
            ax = axes[r, j]
            ax.imshow(f)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"t={steps[j] / c['n_steps']:.2f}", fontsize=7)
        axes[r, 0].set_ylabel(title.split(" ")[0].rstrip(":"), fontsize=8)
        axes[r, len(steps) // 2].set_xlabel(title, fontsize=7)
    fig.suptitle(f"Reacher: straight latent plan decoded by nearest neighbour (pair {i}, "
                 f"seed {runs[ENCODERS[0]][0]['seed']})", fontsize=9)
    fig.tight_layout()
    savefig(fig, out / "reacher_plans.png")
    plt.close(fig)

    # joint-space view of the first few plans
    n_show = min(6, c["k_pairs"])
    fig, axes = plt.subplots(1, n_show, figsize=(2.3 * n_show, 2.5), squeeze=False)
    theta = data.bank["theta"]
    for k in range(n_show):
        ax = axes[0, k]
        s, g = data.bank["starts"][k], data.bank["goals"][k]
        ax.plot([s[0], g[0]], [s[1], g[1]], "k-", lw=2, label="oracle")
        for enc, col in zip(ENCODERS, ("tab:blue", "tab:red")):
            p = theta[np.asarray(runs[enc][0]["decoded"])[k]]
            ax.plot(p[:, 0], p[:, 1], ".-", color=col, ms=3, lw=1, label=enc)
        w = c["bank_half_width"]
        ax.set_xlim(-w, w)
        ax.set_ylim(-w, w)
        ax.set_aspect("equal")
        ax.set_title(f"pair {k}", fontsize=8)
        ax.tick_params(labelsize=6)
    axes[0, 0].set_xlabel("shoulder (rad)", fontsize=7)
    axes[0, 0].set_ylabel("wrist (rad)", fontsize=7)
    axes[0, -1].legend(fontsize=6)
    # one seed's decoded paths: say which (session 47)
    fig.suptitle(f"decoded latent plans in joint space, seed {runs[ENCODERS[0]][0]['seed']}",
                 fontsize=8)
    fig.tight_layout()
    savefig(fig, out / "reacher_paths.png")
    plt.close(fig)


def _probe_renderer(cfg: dict, task_cfg: dict, out: Path) -> None:
    """``ValueError`` (exit 2, nothing written) when this machine must render the frames and
    cannot: a missing or broken off-screen OpenGL (``MUJOCO_GL=osmesa`` without libOSMesa)
    gave two tracebacks, exit 1 and a folder holding a plan whose runs all read "stopped"
    (session 47, a user's trial). Only where the render run would run here (the local
    executor) and its frames are not cached: a SLURM submission renders on a node, and a
    login node without OpenGL must not stop it."""
    from .. import reacher as R
    from ..executors import LocalExecutor, current
    ex = current()                   # None: the store runs locally
    if (ex is not None and not isinstance(ex, LocalExecutor)) or all(
            p.is_file() for p in cache_files(data_config(task_cfg), out)):
        return
    try:
        R.ReacherRenderer(shadows=cfg["shadows"])
    except R.RendererUnavailable as exc:
        raise ValueError(f"reacher: {exc}") from None


@entry
def run(cfg: dict, out: Path, seeds: list[int] | None = None) -> dict:
    """Render (cached), train both encoders per seed (resumable), write tables and figures
    (``reacher.{json,csv,md}``, the PNGs and ``summary.json``) into ``out``; return the
    summary: per encoder (``ou``, ``trajectory``, ``oracle``) ``r2_*``, ``deviation_*`` and
    ``path_ratio_*`` with their ``*_ci`` intervals, ``deviation_ratio_traj_over_ou``,
    ``frac_pairs_traj_deviates_more``, ``per_seed``, ``seeds``, ``units``, ``config``, the
    data sets' sizes, ``wall_seconds`` / ``cpu_seconds``, ``runs_computed`` /
    ``runs_reused`` / ``runs_replaced`` and ``invocations``."""
    from .. import reacher as R
    from ..planning import bootstrap_ci

    cfg = check_config(cfg)
    if not seeds or any(not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of non-negative ints, got {seeds!r}")
    t0, cpu0 = time.perf_counter(), time.process_time()
    out = Path(out)
    # what every run reads: the profile less the keys a run does not depend on
    task_cfg = {k: v for k, v in cfg.items() if k not in RunStore.IGNORED}
    _probe_renderer(cfg, task_cfg, out)
    # A fixed thread count, restored after: the CPU kernels' reductions split by thread, so
    # another count gives other bits (the cause of the 1.92 vs 1.90 of issue 15).
    with torch_threads(cfg):
        # per_run: each run records its task, so a changed profile recomputes the runs
        # instead of refusing the folder, and a moved folder keeps them. Made before the
        # rendering, so that its wall seconds (summary's invocations) include it
        store = RunStore(out, cfg, per_run=True)
        # the frames are rendered by a run of their own, which every training run needs:
        # locally it runs first; on SLURM it is a job the training jobs wait for, so this
        # process renders nothing (about 100 000 frames in the full profile)
        render_cfg = data_config(task_cfg)
        if store.has("render") and not all(p.is_file() for p in cache_files(render_cfg, out)):
            from ..executors import CollectExecutor, RunsPending, current
            if isinstance(current(), CollectExecutor):
                # collecting runs nothing, so it must not drop the render run either (it
                # did, then refused: "1 of 7 runs are not in"; a fresh clone has no cache)
                raise RunsPending(f"reacher: the rendered frames under {out}/cache are "
                                  "missing (the tables need them); run this command without "
                                  "--collect to render them again (the stored runs are kept)")
            store.path("render").unlink()     # the cache was deleted: render it again
        tasks = {"render": (render_data, dict(cfg=render_cfg, out=str(out)))}
        tasks |= {f"{enc}-seed{s}": (train_and_score, dict(
            cfg=task_cfg, out=str(out), encoder=enc, seed=s)) for enc in ENCODERS for s in seeds}
        key = _data_key(task_cfg, out)
        try:
            done = store.run_many(tasks, desc="reacher",
                                  needs={k: ["render"] for k in tasks if k != "render"})
            data = _DATA.get(key) or _Data(task_cfg, out)    # the cache the render run made
        finally:
            _DATA.pop(key, None)          # do not keep ~2 GB of frames after the runs
        runs = {enc: [done[f"{enc}-seed{s}"] for s in seeds] for enc in ENCODERS}
        oracle = _oracle(data)

    per_pair = {"oracle": {k: oracle[k] for k in ("path_ratio", "deviation")}}
    for enc in ENCODERS:
        per_pair[enc] = {k: np.mean([r[k] for r in runs[enc]], axis=0)
                         for k in ("path_ratio", "deviation")}
    rows, summary = [], {}
    for enc, pp in per_pair.items():
        dev, pr = bootstrap_ci(pp["deviation"]), bootstrap_ci(pp["path_ratio"])
        rr = runs.get(enc)
        mean = (lambda k: float(np.mean([r[k] for r in rr]))) if rr else (lambda k: None)
        rows.append(dict(encoder=enc, path_length_ratio=pr[0], path_ratio_ci_lo=pr[1],
                         path_ratio_ci_hi=pr[2], deviation_rad=dev[0], deviation_ci_lo=dev[1],
                         deviation_ci_hi=dev[2],
                         r2_bank=oracle["r2_bank"] if enc == "oracle" else mean("r2_bank"),
                         r2_bank_cossin=mean("r2_bank_cossin"), r2_hz_ou_test=mean("r2_hz"),
                         D=mean("D"), bound=mean("bound")))
        key = {"oracle": "oracle", "gauss-OU": "ou", "trajectory": "trajectory"}[enc]
        summary |= {f"deviation_{key}": dev[0], f"deviation_{key}_ci": [dev[1], dev[2]],
                    f"path_ratio_{key}": pr[0], f"path_ratio_{key}_ci": [pr[1], pr[2]],
                    f"r2_{key}": rows[-1]["r2_bank"]}
    ratio = _ratio_ci(per_pair["trajectory"]["deviation"], per_pair["gauss-OU"]["deviation"])
    summary |= dict(deviation_ratio_traj_over_ou=ratio[0],
                    deviation_ratio_traj_over_ou_ci=[ratio[1], ratio[2]],
                    frac_pairs_traj_deviates_more=float(np.mean(
                        per_pair["trajectory"]["deviation"] > per_pair["gauss-OU"]["deviation"])))
    wl = R.WRIST_LIMIT
    summary |= dict(
        units="radians (joint space); R^2 is held-out affine h -> (shoulder, wrist)",
        seeds=seeds, k_pairs=cfg["k_pairs"], n_steps=cfg["n_steps"],
        dataset_ou=R.angle_stats(data.ou["theta"], wl) | {
            "frames": int(data.ou["frames"].shape[0])},
        dataset_trajectory=R.angle_stats(data.traj["theta"], wl) | {
            "frames": int(data.traj["frames"].shape[0])},
        bank_frames=int(len(data.bank["theta"])),
        per_seed={enc: [{k: r[k] for k in ("seed", "r2_hz", "r2_bank", "eps", "delta", "D",
                                          "bound", "seconds", "cpu_seconds")}
                        | {"deviation": float(np.mean(r["deviation"])),
                           "path_ratio": float(np.mean(r["path_ratio"]))}
                        | {k: r[k] for k in ("trained_head", "sfa_slowness") if k in r}
                        for r in runs[enc]]
                  for enc in ENCODERS},
        **store.accounting(out / "summary.json"),
        wall_seconds=time.perf_counter() - t0, cpu_seconds=time.process_time() - cpu0,
        config=cfg)
    note = ("Straight latent plans between fixed start and goal frames, decoded by nearest "
            "neighbour in a bank of rendered frames; deviation = mean joint-space distance "
            "(rad) to the oracle's straight line at the same plan time; 95% percentile "
            f"bootstrap CIs over {cfg['k_pairs']} pairs. The oracle row is the identity on "
            "angles decoded through the same bank (quantisation floor). "
            f"Deviation ratio trajectory / Gaussian-OU = {ratio[0]:.2f} "
            f"[{ratio[1]:.2f}, {ratio[2]:.2f}].")
    write_table(out, "reacher", rows, title="DMC Reacher: latent planning on 64x64 pixels",
                note=note)
    write_json(out / "summary.json", summary)
    _figure(data, runs, out)
    return summary
