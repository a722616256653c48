"""DMC Reacher on pixels: rendering, latent-angle datasets, a small CNN encoder, planning.

The world of the paper's last experiment. The latent state is the pair of joint angles
``theta = (shoulder, wrist)`` (radians) of the dm_control suite ``reacher`` arm; the
observation ``x = g(theta)`` is a 64x64 RGB frame rendered off-screen on the CPU
(MuJoCo + Mesa EGL). A configuration is rendered by writing ``physics.named.data.qpos``
directly and running forward kinematics, so the same angles always give the same frame.
The target sphere is made transparent (alpha 0) and pinned at the origin, so frames carry
no information beyond the two angles.

Angle conventions (checked against the model: the shoulder hinge is unlimited, the wrist
is limited to ``[-2.79, 2.79]`` rad):

* Gaussian-OU world: ``theta = sigma * z`` with ``z`` a stationary Gaussian-OU chain
  (``z_0 ~ N(0, I)``, ``z' = rho z + sqrt(1 - rho^2) eps``), no wrapping and no clipping.
  With ``sigma = 0.8`` the shoulder leaves ``(-pi, pi)`` (where the frame would alias with
  ``theta + 2 pi``) with probability ~1e-4 and the wrist leaves its limit with probability
  ~5e-4 (forward kinematics renders such a pose anyway: the limit only acts in the
  dynamics). Wrapping or clipping would change the latent law and break the T1 premise
  that ``theta / sigma`` is exactly Gaussian-OU; the rare outliers are counted and
  reported instead (:func:`angle_stats`).
* Trajectory world: rollouts of a scripted reaching policy in the real MuJoCo dynamics
  (PD torques towards a random goal, with exploration noise), every episode starting near
  one fixed pose -- the pixel analogue of :func:`pycheck.worlds.trajectory_rollouts`.
  Its pair distribution is non-stationary and not Gaussian-OU.

Because the shoulder stays inside ``(-pi, pi)`` in every frame we plan on, the angles are a
global chart of the configurations seen; the theorems' latent is ``z = theta / sigma``
itself, so linear identifiability is measured against the angles (an affine map
``h -> theta``), not against ``(cos, sin)`` features, which would only be the right
target if the shoulder wrapped around.
"""
from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # before dm_control / mujoco are imported

import contextlib
import hashlib
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .planning import check_index_pairs, decode_plans, path_lengths, straight_line_plans
from .store import atomic_write_bytes
from .validate import check_int, reraise_interruption

FRAME_SIZE = 64
WRIST_LIMIT = math.radians(160)  # 2.793 rad: the wrist range in reacher.xml (-160, 160 deg)
INSTALL_HINT = ("install the Debian packages `libegl1 libgl1` (apt-get install -y libegl1 "
                "libgl1) and `pip install dm_control==1.0.50 mujoco==3.17.0` (or "
                "`pip install -e '.[reacher]'`), keep MUJOCO_GL=egl")


# ------------------------------------------------------------------ rendering
class RendererUnavailable(RuntimeError):
    """No off-screen OpenGL context for MuJoCo, or dm_control / mujoco missing."""


class ReacherRenderer:
    """Off-screen renderer of reacher arm poses.

    Parameters
    ----------
    size : frame height and width in pixels.
    camera : MuJoCo camera name (``"fixed"`` looks straight down on the arena).
    shadows : keep the light's shadow map and the floor's reflection. Off by default:
        Mesa's software renderer then draws a frame ~5x faster (about 5 ms instead of
        25-35 ms on a shared 2-core machine); the arm and the arena are unchanged, only
        the floor is lit flat (darker). Either way a frame is a function of the angles.

    Raises
    ------
    RendererUnavailable (a RuntimeError)
        If dm_control / mujoco are missing or no off-screen OpenGL context can be made;
        the message says what to install.
    """

    def __init__(self, size: int = FRAME_SIZE, camera: str = "fixed", shadows: bool = False):
        try:
            from dm_control import suite
            env = suite.load("reacher", "easy", task_kwargs={"random": 0})
            self.physics = env.physics
            self._limit = float(self.physics.named.model.jnt_range["wrist"][1])
            self.physics.named.model.geom_rgba["target"][3] = 0.0  # invisible target
            self.physics.named.model.geom_pos["target"][:2] = 0.0
            if not shadows:
                self.physics.model.light_castshadow[:] = 0
                self.physics.model.mat_reflectance[:] = 0.0
            self.size, self.camera = int(size), camera
            self.render(np.zeros((1, 2)))  # fail here, not halfway through a dataset
        except Exception as e:  # ImportError, mujoco.FatalError, EGL errors ...
            reraise_interruption(e)
            raise RendererUnavailable(
                f"cannot render DMC Reacher off-screen (MUJOCO_GL={os.environ.get('MUJOCO_GL')}): "
                f"{type(e).__name__}: {e} -- to fix: {INSTALL_HINT}.") from e

    @property
    def wrist_limit(self) -> float:
        """The wrist joint's range bound (rad), read from the MJCF model (160 deg = 2.793)."""
        return self._limit

    def set_pose(self, theta, qvel=(0.0, 0.0)) -> None:
        p = self.physics
        with p.reset_context():  # also runs forward kinematics
            p.named.data.qpos[["shoulder", "wrist"]] = theta
            p.named.data.qvel[["shoulder", "wrist"]] = qvel

    def render(self, theta: np.ndarray, progress: bool = False, desc: str = "render") -> np.ndarray:
        """Frames of the poses ``theta`` (shape ``(N, 2)``, rad, finite) as uint8
        ``(N, size, size, 3)``; ``ValueError`` for any other shape (a single pose is
        ``theta[None]``) or a NaN/inf angle."""
        from tqdm.auto import tqdm

        from .store import LineProgress
        theta = np.asarray(theta, dtype=np.float64)
        # reshape(-1, 2) rendered a (4, 3) array as 6 frames, and NaN angles an empty
        # arena (session 43, a user's trial)
        if theta.ndim != 2 or theta.shape[1] != 2:
            raise ValueError(f"theta must have shape (N, 2) (shoulder, wrist), got "
                             f"{theta.shape}; a single pose is theta[None]")
        if not np.isfinite(theta).all():
            raise ValueError(f"theta contains NaN or inf ({int((~np.isfinite(theta)).sum())} "
                             "entries)")
        out = np.empty((len(theta), self.size, self.size, 3), dtype=np.uint8)
        # a bar on a terminal, a line a minute in a log (rendering the quick profile's
        # 74 000 frames took 11 min on a slow host, silent in a batch job before)
        lines = LineProgress(len(theta), desc, enabled=progress)
        for i in tqdm(range(len(theta)), desc=desc, disable=not (progress and sys.stderr.isatty()),
                      leave=False):
            self.set_pose(theta[i])
            out[i] = self.physics.render(self.size, self.size, camera_id=self.camera)
            lines.update(i + 1)
        lines.close()
        return out

    def reaching_rollouts(self, n_episodes: int, length: int, rng: np.random.Generator, *,
                          sigma: float = 0.8, start_center: float = -1.5,
                          start_radius: float = 0.2, frame_every: int = 2, kp: float = 5.0,
                          kd: float = 0.5, action_noise: float = 0.3) -> np.ndarray:
        """Joint angles along scripted reaching episodes, shape ``(n_episodes, length, 2)``.

        Every episode starts at rest at ``sigma * (start_center + start_radius * N(0, I))``
        (one fixed region, both joints), draws a goal ``sigma * N(0, I)`` (wrist goal clipped
        to 95% of its range) and applies the saturating PD torque
        ``u = clip(kp (goal - q) - kd qdot + action_noise * N(0, I), -1, 1)`` for the
        whole episode in the MuJoCo dynamics (joint limit, damping and inertia included);
        one frame is kept every ``frame_every`` control steps (0.02 s each).
        """
        p = self.physics
        lim = 0.95 * self.wrist_limit
        out = np.empty((n_episodes, length, 2))
        for e in range(n_episodes):
            start = sigma * (start_center + start_radius * rng.standard_normal(2))
            goal = sigma * rng.standard_normal(2)
            start[1], goal[1] = np.clip(start[1], -lim, lim), np.clip(goal[1], -lim, lim)
            self.set_pose(start)
            for t in range(length):
                out[e, t] = p.named.data.qpos[["shoulder", "wrist"]]
                for _ in range(frame_every):
                    q = p.named.data.qpos[["shoulder", "wrist"]]
                    v = p.named.data.qvel[["shoulder", "wrist"]]
                    u = kp * (goal - q) - kd * v + action_noise * rng.standard_normal(2)
                    p.set_control(np.clip(u, -1.0, 1.0))
                    p.step()
        return out


# ------------------------------------------------------------------ latent processes
def ou_angles(n_chains: int, length: int, sigma: float, rho: float,
              rng: np.random.Generator) -> np.ndarray:
    """Stationary Gaussian-OU chains of joint angles, shape ``(n_chains, length, 2)`` (rad).

    ``theta_t = sigma * z_t`` with ``z_0 ~ N(0, I)`` and ``z_{t+1} = rho z_t +
    sqrt(1 - rho^2) eps_t``: every ``theta_t`` has law ``N(0, sigma^2 I)`` and every
    consecutive pair is a Gaussian-OU pair (the chain starts in its stationary law).
    """
    if n_chains < 1 or length < 2:
        raise ValueError(f"need n_chains >= 1 and length >= 2, got {n_chains}, {length}")
    if not 0.0 < rho < 1.0 or not sigma > 0:
        raise ValueError(f"need 0 < rho < 1 and sigma > 0, got rho={rho}, sigma={sigma}")
    z = np.empty((n_chains, length, 2))
    z[:, 0] = rng.standard_normal((n_chains, 2))
    s = math.sqrt(1.0 - rho * rho)
    for t in range(1, length):
        z[:, t] = rho * z[:, t - 1] + s * rng.standard_normal((n_chains, 2))
    return sigma * z


def consecutive_pairs(n_chains: int, length: int) -> np.ndarray:
    """Flat frame indices ``(i, i')`` of consecutive frames within each chain, ``(P, 2)``."""
    base = np.arange(n_chains)[:, None] * length + np.arange(length - 1)[None, :]
    return np.stack([base.ravel(), base.ravel() + 1], axis=1)


def angle_stats(theta: np.ndarray, wrist_limit: float) -> dict:
    """Mean step size and out-of-chart fractions of angle chains ``(C, L, 2)``."""
    step = np.linalg.norm(np.diff(theta, axis=1), axis=-1)
    return dict(mean_step_rad=float(step.mean()),
                frac_shoulder_wraps=float(np.mean(np.abs(theta[..., 0]) > math.pi)),
                frac_wrist_beyond_limit=float(np.mean(np.abs(theta[..., 1]) > wrist_limit)),
                std_rad=np.std(theta.reshape(-1, 2), axis=0).tolist())


def grid_angles(half_width: float, n_per_side: int) -> np.ndarray:
    """Regular grid over ``[-half_width, half_width]^2``, shape ``(n_per_side^2, 2)``."""
    g = np.linspace(-half_width, half_width, n_per_side)
    a, b = np.meshgrid(g, g, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1)


def start_goal_pairs(k: int, half_width: float, min_dist: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``k`` start and goal poses uniform in ``[-half_width, half_width]^2``, at least
    ``min_dist`` rad apart (rejection sampling). Returns two ``(k, 2)`` arrays."""
    check_int("k", k)      # k = 0 or -1 drew 100 000 candidates first (session 43)
    if not (0 < half_width < math.inf and 0 <= min_dist < math.inf):
        raise ValueError(f"need a finite half_width > 0 and min_dist >= 0, got {half_width!r}, "
                         f"{min_dist!r}")
    starts, goals = [], []
    for _ in range(100_000):
        s, g = rng.uniform(-half_width, half_width, size=(2, 2))
        if np.linalg.norm(g - s) >= min_dist:
            starts.append(s)
            goals.append(g)
            if len(starts) == k:
                return np.array(starts), np.array(goals)
    raise ValueError(f"could not draw {k} pairs at distance >= {min_dist} in a box of "
                     f"half-width {half_width}")


# ------------------------------------------------------------------ caching
def cache_key(kind: str, params: dict) -> str:
    """Stable file stem for a rendered dataset: kind + hash of its generating parameters."""
    blob = json.dumps(params, sort_keys=True, default=float).encode()
    return f"{kind}-{hashlib.sha256(blob).hexdigest()[:12]}"


def cached_arrays(path: Path, make) -> dict[str, np.ndarray]:
    """Load the ``.npz`` at ``path`` or build it with ``make()`` and write it atomically."""
    path = Path(path)
    if path.is_file():
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    arrays = make()
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
    return arrays


# ------------------------------------------------------------------ encoder
class ConvEncoder(nn.Module):
    """Small CNN ``(B, 64, 64, 3) uint8 -> (B, dim_out)``: 4 stride-2 convs + MLP head.

    Channels ``channels`` (kernel 4, ReLU): 64 -> 32 -> 16 -> 8 -> 4 pixels, then
    ``channels[-1] * 16 -> hidden -> dim_out``, then a parameter-free batch normalisation
    of each output coordinate (``BatchNorm1d(affine=False)``; running statistics in eval).

    Why the output normalisation: SIGReg compares characteristic functions on
    ``t in [0, 3]``; when the embedding is collapsed (all frames nearly equal, as at
    initialisation, where this CNN's outputs barely vary across frames) or spread far beyond
    unit scale (which an unnormalised CNN reached within 100 steps at lr 3e-3), the
    statistic is flat in ``h`` and training stalls at a statistic of ~150 for hundreds of
    steps. Fixing each coordinate's mean and variance removes both plateaus and leaves
    SIGReg the shape and the correlations, which is what T1 is about (and R² is
    affine-invariant).

    Pixels are centred by the per-pixel mean training frame and divided by one global
    standard deviation (buffers set by :meth:`fit_input`): the arena is the same in every
    frame, so centring removes it and leaves the arm as the input signal. (A per-pixel
    standard deviation would blow up pixels the arm never visits in training.)
    """

    def __init__(self, dim_out: int = 2, channels=(8, 16, 32, 32), hidden: int = 128):
        super().__init__()
        layers, c_in = [], 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.ReLU()]
            c_in = c
        side = FRAME_SIZE // 2 ** len(channels)
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * side * side, hidden),
                                 nn.ReLU(), nn.Linear(hidden, dim_out),
                                 nn.BatchNorm1d(dim_out, affine=False))
        self.register_buffer("pix_mean", torch.zeros(3, FRAME_SIZE, FRAME_SIZE))
        self.register_buffer("pix_std", torch.ones(()))

    @torch.no_grad()
    def fit_input(self, frames: np.ndarray) -> None:
        """Set the pixel centring and scale from uint8 training frames ``(N, 64, 64, 3)``."""
        # on the buffers' device: a model already on CUDA failed here on every GPU run
        # (session-45 CUDA review)
        x = torch.from_numpy(check_frames(frames)).to(self.pix_mean.device).permute(
            0, 3, 1, 2).float() / 255.0
        self.pix_mean.copy_(x.mean(0))
        self.pix_std.copy_((x - self.pix_mean).square().mean().sqrt().clamp_min(1.0 / 255.0))

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(B, hidden)``: the input of the last linear layer."""
        # contiguous NCHW: the permuted (channels-last) view made the convolutions ~3x slower
        x = frames.permute(0, 3, 1, 2).float().contiguous() / 255.0
        return self.net[:-2]((x - self.pix_mean) / self.pix_std)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net[-2:](self.features(frames))

    @torch.no_grad()
    def set_sfa_readout(self, frames: np.ndarray, pairs: np.ndarray,
                        min_variance: float) -> np.ndarray:
        """Replace the last layer by the closed-form slow-feature read-out of the features.

        The read-out is the exact minimiser of the alignment over whitened linear maps of the
        penultimate features on all ``pairs`` (:func:`pycheck.sfa.sfa_readout`), the T1
        objective with the features held fixed; SGD only approaches it. The features are
        first reduced to their principal directions of variance above ``min_variance``
        times the largest: a direction that is (nearly) constant on the training frames
        (dead ReLU units, linear dependencies) looks perfectly slow there yet varies on
        other frames, and a ridge alone made the read-out pick exactly those (R² ~0 on the
        bank). The output normalisation becomes the identity (the read-out is whitened
        already).

        Parameters
        ----------
        frames : uint8 ``(N, 64, 64, 3)``, the training frames.
        pairs : int ``(P, 2)``, indices ``(i, i')`` of the training pairs into ``frames``.
        min_variance : relative variance below which a principal direction is dropped.

        Returns
        -------
        slowness : ndarray ``(dim_out,)``, ``E(h' - h)²`` of each output over ``pairs``,
            ascending.
        """
        from .sfa import sfa_readout
        lin = self.net[-2]
        # 0 or -1 kept the rounding-noise directions (slowness [-78.8, -8.28]); 1.0 or NaN
        # kept none and failed with "n must lie in [1, 0]" (session 43, a user's trial)
        if not 0.0 < min_variance < 1.0:
            raise ValueError(f"min_variance must lie in (0, 1) (relative to the largest "
                             f"variance; 0 keeps directions of rounding noise), got "
                             f"{min_variance!r}")
        frames = check_frames(frames)
        pairs = check_index_pairs(pairs, len(frames))
        if len(pairs) == 0:
            raise ValueError("pairs is empty: the read-out needs at least one pair")
        self.eval()
        phi = embed_frames(self, frames, fn=self.features)
        mu = phi.mean(0)
        _, sv, vt = np.linalg.svd(phi - mu, full_matrices=False)
        basis = vt[sv ** 2 > min_variance * sv[0] ** 2].T  # (hidden, r)
        if basis.shape[1] < lin.out_features:
            raise ValueError(f"only {basis.shape[1]} principal directions of the features "
                             f"have variance above min_variance={min_variance:g} times the "
                             f"largest, fewer than the {lin.out_features} outputs")
        y = (phi - mu) @ basis
        mean, w, slowness = sfa_readout(y[pairs[:, 0]], y[pairs[:, 1]], lin.out_features,
                                        ridge=0.0)
        w = basis @ w
        lin.weight.copy_(torch.from_numpy(w.T).to(lin.weight))
        lin.bias.copy_(torch.from_numpy(-((mu + basis @ mean) @ w)).to(lin.bias))
        self.net[-1] = nn.Identity()
        return slowness


def check_frames(frames) -> np.ndarray:
    """``frames`` as a uint8 array ``(N, 64, 64, 3)`` with ``N >= 1``: ``TypeError`` for another
    dtype, ``ValueError`` for another shape. Only 64x64 is accepted: the encoder's pixel
    mean and the input of its linear head are sized for it. Session 43, a user's trial:
    float frames in [0, 1] were divided by 255 again, and channels-first or 32x32 frames
    failed deep inside a convolution."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise TypeError(f"frames must be uint8 (pixels 0-255) of shape (N, {FRAME_SIZE}, "
                        f"{FRAME_SIZE}, 3), got dtype {frames.dtype}")
    if frames.ndim != 4 or frames.shape[1:] != (FRAME_SIZE, FRAME_SIZE, 3) or not len(frames):
        raise ValueError(f"frames must have shape (N >= 1, {FRAME_SIZE}, {FRAME_SIZE}, 3) "
                         f"(channels last), got {frames.shape}")
    return frames


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def train_cnn(frames: np.ndarray, pairs: np.ndarray, *, steps: int, batch_size: int,
              lr: float, seed: int, lam: float = 0.1, num_slices: int = 256,
              channels=(8, 16, 32, 32), progress: bool = True, desc: str = "train",
              checkpoint=None, checkpoint_every: float = 60) -> tuple[ConvEncoder, list[dict]]:
    """Train a :class:`ConvEncoder` with LeJEPA's alignment + SIGReg on frame pairs.

    Loss ``alignment(h, h') / n + lam * SIGReg([h, h'])`` with a constant ``lam``, built
    here from :func:`pycheck.objectives.alignment` and :class:`pycheck.objectives.SIGReg`
    rather than ``make_objective``, whose SIGReg default is a weight ramp tuned for
    unnormalised MLPs; with the output normalisation of :class:`ConvEncoder` the scale
    cannot shrink, which is what that ramp guards against.

    Parameters
    ----------
    frames : uint8 ``(N, 64, 64, 3)``.
    pairs : int ``(P, 2)`` indices ``(i, i')`` of consecutive frames.
    steps, batch_size, lr : Adam steps, pairs per step, learning rate.
    seed : seeds the initialisation, the minibatches and SIGReg's directions. The same
        seed gives the same bits in another process only at the same torch thread count
        (the convolutions' sums split by thread; a user's trial, session 43: 1 against 2
        threads moved a 150-step CNN's embedding by 0.22 rms; the Reacher experiment pins
        ``threads``).
    lam : SIGReg weight (constant over training).
    checkpoint, checkpoint_every : as in :func:`pycheck.train.fit_encoder`: the training
        state (weights, Adam, the minibatch and SIGReg generators, the history) is saved
        there every ``checkpoint_every`` seconds; rerunning the same call resumes to the
        uninterrupted result, bit for bit on CPU at the same thread count; the file is
        deleted when training ends.

    Returns the encoder (eval mode) and a short loss history (every ~10% of the steps).
    Raises ``RuntimeError`` naming the step if the loss becomes non-finite, ``TypeError``
    for frames not uint8 and ``ValueError`` for frames not ``(N, 64, 64, 3)``, pairs not an
    integer ``(P >= 2, 2)`` array indexing ``frames``, or a non-integer ``steps``,
    ``batch_size`` or ``seed``.
    """
    from tqdm.auto import tqdm

    from .objectives import SIGReg, alignment

    # session 43, a user's trial: (P, 3) or 1-D pairs trained a meaningless objective
    # (the batch is viewed as (B, 2, n)), -1 wrapped around, float frames were divided by
    # 255 twice, steps=3.0 gave a raw TypeError
    check_int("steps", steps)
    check_int("batch_size", batch_size, low=2)
    check_int("seed", seed, low=0)
    frames = check_frames(frames)
    pairs = check_index_pairs(pairs, len(frames))
    if len(pairs) < 2:
        raise ValueError(f"need >= 2 pairs, got {len(pairs)}")
    args = dict(frames=frames, pairs=pairs, steps=steps, batch_size=batch_size, lr=lr,
                seed=seed, lam=lam, num_slices=num_slices, channels=tuple(channels),
                progress=progress, desc=desc)
    if checkpoint is None:
        return _train_cnn(**args)
    from .train import checkpoint_fingerprint, resuming

    def fingerprint():
        return checkpoint_fingerprint(torch.from_numpy(np.asarray(frames)),
                            torch.from_numpy(np.asarray(pairs)), "train_cnn",
                            dict(encoder=None, sampler=None, steps=steps,
                                 batch_size=batch_size, lr=lr, seed=seed, lam=lam,
                                 num_slices=num_slices, channels=tuple(channels)), {})
    with resuming(checkpoint, checkpoint_every, None, fingerprint, "train_cnn") as res, \
            _full_precision_convolutions():
        if res.phases and progress:      # as fit_encoder says it (a trial missed it, s47)
            print(f"train_cnn: resuming from {checkpoint}", flush=True)
        return _train_cnn(**args)


@contextlib.contextmanager
def _full_precision_convolutions():
    """cuDNN convolutions in float32 for the block, as the matmuls are: torch's default lets
    them run in TF32 on Ampere and later GPUs, a silent precision change between GPU kinds
    (session-45 CUDA review). torch 2.13's own API (mixing it with the legacy
    ``allow_tf32`` flag raises); no effect on the CPU."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    old = getattr(conv, "fp32_precision", None)
    if old is None:
        yield
        return
    conv.fp32_precision = "ieee"
    try:
        yield
    finally:
        conv.fp32_precision = old


def _train_cnn(frames, pairs, *, steps, batch_size, lr, seed, lam, num_slices, channels,
               progress, desc):
    """:func:`train_cnn`'s loop; within :func:`pycheck.train.resuming` it restores and saves
    its state."""
    from tqdm.auto import tqdm

    from .objectives import SIGReg, alignment
    from .train import ResumePhase, restore_training_state, training_state
    device = default_device()
    torch.manual_seed(seed)
    model = ConvEncoder(channels=tuple(channels)).to(device)
    seen = np.unique(pairs)
    model.fit_input(frames[seen[:: max(1, len(seen) // 2048)]])
    sigreg = SIGReg(num_slices=num_slices, seed=seed, distributed=False).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=True)
    rng = np.random.default_rng([seed, 5])
    data = torch.from_numpy(frames)
    history, every, start = [], max(1, steps // 10), 0
    phase = ResumePhase()
    if (state := phase.state) is not None:
        restore_training_state(state, model, opt, None, [sigreg.generator], None)
        rng.bit_generator.state = state["rng"]
        history, start = state["history"], state["step"]
    from .store import LineProgress
    bar = tqdm(range(start, steps), desc=desc, initial=start, total=steps,
               disable=not (progress and sys.stderr.isatty()))
    lines = LineProgress(steps, desc, enabled=progress)     # a line a minute in a log
    model.train()
    for step in bar:
        b = pairs[rng.integers(0, len(pairs), size=min(batch_size, len(pairs)))]
        h = model(data[b.ravel()].to(device)).view(len(b), 2, -1)
        align = alignment(h[:, 0], h[:, 1]) / h.shape[-1]
        reg = sigreg(torch.stack([h[:, 0], h[:, 1]]))  # both views, (2, B, n)
        loss = align + lam * reg
        parts = dict(loss=loss.item(), alignment=align.item(), sigreg=reg.item())
        if not math.isfinite(parts["loss"]):
            raise RuntimeError(f"{desc}: non-finite loss at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % every == 0 or step == steps - 1:
            history.append(dict(step=step, **parts))
            bar.set_postfix(loss=f"{parts['loss']:.3f}")
        phase.save_if_due(step, steps, lambda: training_state(
            model, opt, None, [sigreg.generator], None, step=step + 1,
            rng=rng.bit_generator.state, history=history))
        lines.update(step + 1, parts)
    lines.close()
    model.eval()
    return model, history


@torch.no_grad()
def embed_frames(model: nn.Module, frames: np.ndarray, batch_size: int = 512,
                 fn=None) -> np.ndarray:
    """Eval-mode embeddings of uint8 frames ``(N, 64, 64, 3)``, float64 ``(N, dim)``.

    ``fn`` (default ``model``) maps a uint8 batch to its embedding, e.g. ``model.features``.
    The model's train/eval mode is restored afterwards (it was left in eval; session 43).
    """
    frames = check_frames(frames)
    batch_size = check_int("batch_size", batch_size)
    device = next(model.parameters()).device
    fn = model if fn is None else fn
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        out = [fn(torch.from_numpy(frames[i:i + batch_size]).to(device)).double().cpu().numpy()
               for i in range(0, len(frames), batch_size)]
    finally:
        for m, training in modes:
            m.training = training
    return np.concatenate(out)


# ------------------------------------------------------------------ planning on pixels
# The oracle's plan is planning.straight_line_plans in joint space.
def decode_latent_plans(h_bank: np.ndarray, start_idx: np.ndarray, goal_idx: np.ndarray,
                        n_steps: int) -> np.ndarray:
    """Bank indices ``(K, n_steps + 1)`` of the straight latent plans, decoded by nearest
    neighbour in ``h``; the end points are pinned to the start and goal frames."""
    plans = straight_line_plans(h_bank[start_idx], h_bank[goal_idx], n_steps)
    idx = decode_plans(h_bank, plans)
    idx[:, 0], idx[:, -1] = start_idx, goal_idx
    return idx


def plan_metrics(decoded: np.ndarray, oracle: np.ndarray) -> dict[str, np.ndarray]:
    """Per-pair scores of decoded joint paths ``(K, T+1, 2)`` against the oracle lines.

    ``path_ratio``: decoded joint-path length / straight-line length (ideal 1).
    ``deviation``: mean over waypoints of ``||theta_decoded(t) - theta_oracle(t)||`` (rad),
    the distance between the two plans at the same plan time.
    ``ValueError`` if the shapes differ or an oracle line has length 0 (start = goal: the
    ratio was NaN; session 43).
    """
    decoded, oracle = np.asarray(decoded), np.asarray(oracle)
    if decoded.ndim != 3 or decoded.shape != oracle.shape:
        raise ValueError(f"decoded and oracle must have one shape (K, T+1, 2), got "
                         f"{decoded.shape} and {oracle.shape}")
    direct = np.linalg.norm(oracle[:, -1] - oracle[:, 0], axis=-1)
    if np.any(direct == 0):
        raise ValueError(f"start equals goal in pairs {np.flatnonzero(direct == 0)[:5].tolist()}:"
                         " the path ratio is 0 / 0")
    length = path_lengths(decoded)
    dev = np.linalg.norm(decoded - oracle, axis=-1).mean(1)
    return dict(path_ratio=length / direct, deviation=dev)
