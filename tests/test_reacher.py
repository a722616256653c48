"""DMC Reacher on pixels (T4 on pixels): rendering, the OU angle process, planning, end to end."""
import json
import math

import numpy as np
import pytest

from pycheck import reacher as R
from pycheck.planning import straight_line_plans


@pytest.fixture(scope="module")
def renderer():
    try:
        return R.ReacherRenderer()
    except RuntimeError as e:  # only when dm_control/mujoco or EGL are absent
        pytest.skip(f"Reacher rendering unavailable (scripts/setup.sh installs it): {e}")


def test_render_is_a_deterministic_function_of_the_angles(renderer):
    f = renderer.render(np.array([[0.3, -1.0], [0.3, -1.0], [1.2, 0.5]]))
    assert f.shape == (3, 64, 64, 3) and f.dtype == np.uint8
    assert np.array_equal(f[0], f[1])            # same angles -> identical frames
    assert np.abs(f[0].astype(int) - f[2]).sum() > 0  # different angles -> different frames
    assert renderer.wrist_limit == pytest.approx(R.WRIST_LIMIT)


def test_render_reports_progress_lines_in_a_log(renderer, capsys):
    """In a batch job's log (stderr not a terminal) a long render is not silent: a line a
    minute and one at the end; without ``progress`` nothing."""
    renderer.render(np.zeros((3, 2)), progress=True, desc="render test")
    assert "pycheck: render test: 3 / 3 (100%)" in capsys.readouterr().err
    renderer.render(np.zeros((3, 2)))
    assert capsys.readouterr().err == ""


def test_target_is_hidden_so_frames_carry_only_the_angles(renderer):
    """Moving the (invisible) target must not change the frame."""
    a = renderer.render(np.array([[0.4, 0.2]]))
    renderer.physics.named.model.geom_pos["target"][:2] = [0.1, -0.1]
    b = renderer.render(np.array([[0.4, 0.2]]))
    renderer.physics.named.model.geom_pos["target"][:2] = 0.0
    assert np.array_equal(a, b)


def test_reaching_rollouts_stay_in_the_angle_chart(renderer):
    theta = renderer.reaching_rollouts(5, 12, np.random.default_rng(0), frame_every=3)
    assert theta.shape == (5, 12, 2)
    assert np.all(np.abs(theta[..., 0]) < math.pi)
    assert np.all(np.abs(theta[..., 1]) <= R.WRIST_LIMIT + 0.05)  # joint limit is soft
    assert np.linalg.norm(np.diff(theta, axis=1), axis=-1).max() > 0.05  # the arm moves


def test_ou_angles_are_stationary_gaussian_ou():
    rho, sigma = 0.9, 0.8
    theta = R.ou_angles(4000, 6, sigma, rho, np.random.default_rng(0))
    assert theta.shape == (4000, 6, 2)
    z = theta / sigma
    # 8000 values per time step: sd of a sample std ~ 1/sqrt(16000) ~ 0.008; 0.04 is 5 sd
    for t in (0, 5):
        np.testing.assert_allclose(z[:, t].std(0), 1.0, atol=0.04)
        np.testing.assert_allclose(z[:, t].mean(0), 0.0, atol=0.04)
    lag1 = np.mean(z[:, 1:] * z[:, :-1])
    assert lag1 == pytest.approx(rho, abs=0.02)
    pairs = R.consecutive_pairs(4000, 6)
    assert pairs.shape == (4000 * 5, 2) and np.all(pairs[:, 1] - pairs[:, 0] == 1)
    assert np.all(pairs[:, 0] % 6 != 5)  # no pair crosses a chain boundary
    with pytest.raises(ValueError):
        R.ou_angles(3, 5, sigma, 1.0, np.random.default_rng(0))


def test_T4_oracle_encoder_decodes_to_the_straight_line():
    """Identity encoder on angles: the decoded plan is the oracle's line up to the grid."""
    bank = R.grid_angles(1.0, 81)  # spacing 0.025 rad
    starts = np.array([[-0.75, -0.5], [0.5, 0.75]])
    goals = np.array([[0.75, 0.5], [-0.5, -0.75]])
    theta = np.concatenate([bank, starts, goals])
    s, g = np.arange(len(bank), len(bank) + 2), np.arange(len(bank) + 2, len(bank) + 4)
    oracle = straight_line_plans(starts, goals, 20)
    for h in (theta, theta @ np.array([[0.0, -1.0], [1.0, 0.0]]) * 3.0 + 1.0):  # T4: Q z + b
        dec = R.decode_latent_plans(h, s, g, 20)
        m = R.plan_metrics(theta[dec], oracle)
        # every waypoint lies on a grid node at most half a diagonal (0.018 rad) away
        assert np.all(m["deviation"] < 0.018)
        assert np.all(m["path_ratio"] >= 1.0 - 1e-12) and np.all(m["path_ratio"] < 1.05)
    bent = np.c_[theta[:, 0], theta[:, 1] + 0.8 * np.sin(3 * theta[:, 0])]
    m = R.plan_metrics(theta[R.decode_latent_plans(bent, s, g, 20)], oracle)
    assert np.all(m["deviation"] > 0.05)  # a nonlinear encoder leaves the line


MICRO = dict(seeds=[0], data_seed=0, shadows=False, sigma=0.8, rho=0.9,
             ou_chains=8, ou_length=20, traj_episodes=10, traj_length=16, traj_frame_every=3,
             traj_start_center=-1.5, traj_start_radius=0.2, traj_kp=5.0, traj_kd=0.5,
             traj_action_noise=0.3, test_fraction=0.25, bank_half_width=2.0, bank_grid=9,
             k_pairs=4, pair_half_width=1.5, min_dist=1.0, n_steps=6, figure_pair=0,
             figure_columns=4, steps=3, batch_size=16, lr=1e-3, lam=0.1,
             channels=[4, 4, 4, 4], sfa_min_variance=1e-6, threads=1)


def test_reacher_experiment_end_to_end_and_resumes(renderer, tmp_path):
    from pycheck.experiments import reacher as exp
    s = exp.run(dict(MICRO, profile="quick"), tmp_path, [0])
    for name in ("summary.json", "reacher.json", "reacher.csv", "reacher.md",
                 "reacher_plans.png", "reacher_paths.png"):
        assert (tmp_path / name).is_file(), name
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3
    for key in ("deviation_ou", "deviation_trajectory", "deviation_ratio_traj_over_ou",
                "path_ratio_ou", "r2_ou", "r2_trajectory"):
        assert math.isfinite(s[key]), key
    run = json.loads((tmp_path / "runs" / "gauss-OU-seed0.json").read_text())
    assert {"n", "rho", "r2_hz", "eps", "delta", "D", "bound"} <= set(run)
    render = json.loads((tmp_path / "runs" / "render.json").read_text())
    assert render["frames"]["ou"] == MICRO["ou_chains"] * MICRO["ou_length"]
    assert render["rendered"] == ["ou", "trajectory", "bank"]
    assert "steps" not in render["_task"]["kwargs"]["cfg"]     # a training setting
    again = exp.run(dict(MICRO, profile="quick"), tmp_path, [0])  # cached data, stored runs
    assert again["runs_reused"] == 3 and again["runs_computed"] == 0
    assert again["deviation_ou"] == s["deviation_ou"]
    for p in (tmp_path / "cache").glob("*.npz"):       # a deleted cache is rendered again
        p.unlink()
    # ... but not by --collect, which runs nothing and (session 36) deleted render.json
    from pycheck.executors import CollectExecutor, RunsPending, use
    with use(CollectExecutor()), pytest.raises(RunsPending, match="rendered frames"):
        exp.run(dict(MICRO, profile="quick"), tmp_path, [0])
    assert (tmp_path / "runs" / "render.json").is_file()
    third = exp.run(dict(MICRO, profile="quick"), tmp_path, [0])
    assert (third["runs_reused"], third["runs_computed"]) == (2, 1)
    assert json.loads((tmp_path / "runs" / "render.json").read_text())["rendered"] == [
        "ou", "trajectory", "bank"]
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3
    assert third["deviation_ou"] == s["deviation_ou"]


def test_changed_profile_recomputes_and_a_moved_folder_keeps_its_runs(renderer, tmp_path):
    """Each run records its task (without the output path): more seeds reuse the stored
    runs, a changed training setting recomputes them instead of refusing the folder, and a
    renamed folder keeps them."""
    from pycheck.experiments import reacher as exp
    first = exp.run(dict(MICRO, profile="quick"), tmp_path / "a", [0])
    assert first["runs_computed"] == 3                  # the render run and two trainings
    more = exp.run(dict(MICRO, profile="quick", seeds=[0, 1]), tmp_path / "a", [0, 1])
    assert (more["runs_reused"], more["runs_computed"]) == (3, 2)
    (tmp_path / "a").rename(tmp_path / "b")
    moved = exp.run(dict(MICRO, profile="quick", seeds=[0, 1]), tmp_path / "b", [0, 1])
    assert (moved["runs_reused"], moved["runs_computed"]) == (5, 0)
    assert moved["deviation_ou"] == more["deviation_ou"]
    # a training setting: the render run is kept, the trainings are recomputed
    changed = exp.run(dict(MICRO, profile="quick", steps=4), tmp_path / "b", [0])
    assert (changed["runs_reused"], changed["runs_computed"]) == (1, 2)
    run = json.loads((tmp_path / "b" / "runs" / "gauss-OU-seed0.json").read_text())
    assert run["_task"]["kwargs"]["cfg"]["steps"] == 4 and "out" not in run["_task"]["kwargs"]
    assert len(list((tmp_path / "b" / "runs" / "replaced").glob("*.json"))) >= 2


def test_parallel_runs_equal_sequential_runs(renderer, tmp_path):
    """``--jobs 2`` (two spawned workers reading the rendered cache) stores the same runs,
    bit for bit, as one process: the workers use the config's thread count."""
    from pycheck.executors import LocalExecutor, use
    from pycheck.experiments import reacher as exp
    one = exp.run(dict(MICRO, profile="quick"), tmp_path / "one", [0])
    with use(LocalExecutor(2)):
        two = exp.run(dict(MICRO, profile="quick"), tmp_path / "two", [0])
    assert two["runs_computed"] == 3
    for enc in exp.ENCODERS:
        a, b = (json.loads((tmp_path / d / "runs" / f"{enc}-seed0.json").read_text())
                for d in ("one", "two"))
        assert a["decoded"] == b["decoded"] and a["r2_bank"] == b["r2_bank"], enc
    assert one["deviation_ou"] == two["deviation_ou"]


@pytest.mark.parametrize("bad", [dict(profile="medium"), dict(steps=0), dict(rho=1.0),
                                 dict(extra=1), dict(figure_pair=9),
                                 dict(sfa_min_variance=1.0), dict(threads=0)])
def test_bad_config_is_a_clear_value_error(bad, tmp_path):
    from pycheck.experiments import reacher as exp
    with pytest.raises(ValueError):
        exp.run(dict(MICRO, **bad), tmp_path, [0])
    assert not (tmp_path / "cache").exists()  # nothing rendered or written


_DETERMINISM_SCRIPT = """
import hashlib, sys, numpy as np, torch
from pycheck import reacher as R
torch.set_num_threads(1)
frames = np.random.default_rng(0).integers(0, 256, size=(48, 64, 64, 3), dtype=np.uint8)
pairs = R.consecutive_pairs(4, 12)
model, _ = R.train_cnn(frames, pairs, steps=4, batch_size=16, lr=3e-3, seed=0,
                       channels=(4, 4, 4, 4), progress=False)
model.set_sfa_readout(frames, pairs, min_variance=1e-6)
print(hashlib.sha256(R.embed_frames(model, frames).tobytes()).hexdigest())
"""


def test_same_seed_gives_bit_identical_encoders_in_two_processes():
    """Training, SFA read-out and embedding repeat bit for bit in a fresh process (issue 15).

    The thread count is fixed (the experiment pins it, config key ``threads``): it sets how
    the CPU kernels split their reductions, so 1 and 2 threads give different bits.
    """
    import subprocess
    import sys
    digests = [subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT], check=True,
                              capture_output=True, text=True).stdout.strip() for _ in range(2)]
    assert len(digests[0]) == 64 and digests[0] == digests[1]


def test_sfa_readout_is_whitened_and_reports_its_slowness():
    """After the closed-form read-out the outputs on the training frames have mean 0 and
    covariance I, and each output's mean squared pair difference is the returned slowness."""
    import torch
    rng = np.random.default_rng(1)
    # more pairs (280) than features (128): else some directions have no pair difference
    frames = rng.integers(0, 256, size=(300, 64, 64, 3), dtype=np.uint8)
    pairs = R.consecutive_pairs(20, 15)
    torch.manual_seed(0)
    model = R.ConvEncoder(channels=(4, 4, 4, 4))
    model.fit_input(frames)
    slowness = model.set_sfa_readout(frames, pairs, min_variance=1e-6)
    h = R.embed_frames(model, frames)
    both = np.concatenate([h[pairs[:, 0]], h[pairs[:, 1]]])
    # the last layer computes in float32 on features of size ~1: 1e-4 covers its rounding
    np.testing.assert_allclose(both.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(both, rowvar=False), np.eye(2), atol=1e-4)
    np.testing.assert_allclose(np.mean((h[pairs[:, 1]] - h[pairs[:, 0]]) ** 2, axis=0),
                               slowness, rtol=1e-3)
    assert np.all(np.diff(slowness) >= 0) and np.all(slowness > 0)


# ------------------------------------------------ argument checks (session 43, a user's trial)
@pytest.mark.parametrize("theta, match", [
    (np.zeros((4, 3)), r"shape \(N, 2\)"),        # rendered 6 frames
    (np.zeros(2), r"theta\[None\]"),              # a single pose: callers pass (N, 2)
    (np.zeros((2, 2, 2)), r"shape \(N, 2\)"),
    (np.array([[0.1, np.nan]]), "NaN or inf"),    # rendered an empty arena
    (np.array([[np.inf, 0.0]]), "NaN or inf"),
])
def test_render_refuses_other_shapes_and_non_finite_angles(renderer, theta, match):
    with pytest.raises(ValueError, match=match):
        renderer.render(theta)


def _frames(n=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 64, 64, 3), dtype=np.uint8)


TRAIN = dict(steps=1, batch_size=4, lr=1e-3, seed=0, channels=(4, 4, 4, 4), progress=False)


@pytest.mark.parametrize("pairs, match", [
    (np.arange(6), r"shape \(K, 2\)"),                       # 1-D: a meaningless objective
    (np.array([[0, 1, 2], [3, 4, 5]]), r"shape \(K, 2\)"),   # (P, 3): the same
    (np.array([[0, 1], [2, -1]]), r"index \[0, 8\)"),        # -1 wrapped to the last frame
    (np.array([[0, 1], [2, 8]]), r"index \[0, 8\)"),
    (np.array([[0.0, 1.0], [2.0, 3.0]]), "integer array"),
    (np.array([[0, 1]]), "need >= 2 pairs"),
])
def test_train_cnn_refuses_bad_pairs(pairs, match):
    with pytest.raises(ValueError, match=match):
        R.train_cnn(_frames(), pairs, **TRAIN)


@pytest.mark.parametrize("frames, error, match", [
    (_frames().astype(np.float32) / 255, TypeError, "must be uint8"),  # divided by 255 twice
    (_frames().transpose(0, 3, 1, 2), ValueError, r"\(N >= 1, 64, 64, 3\)"),  # channels first
    (_frames()[:, :32, :32], ValueError, r"\(N >= 1, 64, 64, 3\)"),  # the head is sized for 64
    (_frames()[:0], ValueError, r"\(N >= 1, 64, 64, 3\)"),
])
def test_train_cnn_and_embed_frames_refuse_other_frames(frames, error, match):
    pairs = np.array([[0, 1], [2, 3]])
    with pytest.raises(error, match=match):
        R.train_cnn(frames, pairs, **TRAIN)
    with pytest.raises(error, match=match):
        R.embed_frames(R.ConvEncoder(channels=(4, 4, 4, 4)), frames)


@pytest.mark.parametrize("kw, match", [(dict(steps=3.0), "steps must be an integer"),
                                       (dict(steps=0), "steps must be an integer"),
                                       (dict(batch_size=1), "batch_size must be an integer"),
                                       (dict(seed=-1), "seed must be an integer")])
def test_train_cnn_checks_its_integer_arguments(kw, match):
    with pytest.raises(ValueError, match=match):   # steps=3.0 was a raw TypeError
        R.train_cnn(_frames(), np.array([[0, 1], [2, 3]]), **{**TRAIN, **kw})


@pytest.mark.parametrize("training", [True, False])
def test_embed_frames_restores_the_models_mode(training):
    """It left a model in training mode in eval mode (session 43); the embedding is the
    eval-mode one either way, and the running statistics are not touched."""
    import torch
    torch.manual_seed(0)
    model = R.ConvEncoder(channels=(4, 4, 4, 4))
    model.train(training)
    before = model.net[-1].running_mean.clone()
    h = R.embed_frames(model, _frames())
    assert all(m.training == training for m in model.modules())
    assert torch.equal(model.net[-1].running_mean, before)
    model.eval()
    assert np.array_equal(h, R.embed_frames(model, _frames()))


@pytest.mark.parametrize("min_variance, match", [
    (0.0, r"min_variance must lie in \(0, 1\)"),     # slowness came out negative
    (-1.0, r"min_variance must lie in \(0, 1\)"),
    (1.0, r"min_variance must lie in \(0, 1\)"),     # "n must lie in [1, 0]"
    (float("nan"), r"min_variance must lie in \(0, 1\)"),
    (0.9999, "only 1 principal directions .* fewer than the 2 outputs"),
])
def test_set_sfa_readout_refuses_a_min_variance_that_keeps_noise_or_too_little(min_variance,
                                                                                match):
    import torch
    torch.manual_seed(0)
    model = R.ConvEncoder(channels=(4, 4, 4, 4))
    frames = _frames(20)
    model.fit_input(frames)
    with pytest.raises(ValueError, match=match):
        model.set_sfa_readout(frames, R.consecutive_pairs(2, 10), min_variance=min_variance)
    assert isinstance(model.net[-1], torch.nn.BatchNorm1d)   # the model is unchanged


def test_set_sfa_readout_refuses_bad_pairs():
    model = R.ConvEncoder(channels=(4, 4, 4, 4))
    with pytest.raises(ValueError, match=r"index \[0, 8\)"):
        model.set_sfa_readout(_frames(), np.array([[0, 8]]), min_variance=1e-6)


@pytest.mark.parametrize("k", [0, -1, 2.0])
def test_start_goal_pairs_checks_k_first(k):
    """k = 0 or -1 drew 100 000 candidates, then blamed the distance (session 43)."""
    with pytest.raises(ValueError, match="k must be an integer"):
        R.start_goal_pairs(k, 1.5, 1.0, np.random.default_rng(0))


def test_plan_metrics_refuses_a_start_at_its_goal():
    """The path ratio was NaN (0 / 0) when start equals goal (session 43)."""
    oracle = straight_line_plans(np.zeros((2, 2)), np.array([[1.0, 0.0], [0.0, 0.0]]), 4)
    with pytest.raises(ValueError, match=r"start equals goal in pairs \[1\]"):
        R.plan_metrics(oracle, oracle)
    with pytest.raises(ValueError, match="one shape"):
        R.plan_metrics(oracle[:, :3], oracle)


def test_fit_input_follows_the_models_device():
    """Session-45 CUDA review: fit_input built its frames on the CPU, so a model already on
    CUDA failed (every GPU Reacher run). Without a GPU the meta device stands in: the
    frames must go to the buffers' device (on the CPU they are unchanged, tested above)."""
    import torch
    frames = np.random.default_rng(0).integers(0, 256, size=(4, 64, 64, 3), dtype=np.uint8)
    model = R.ConvEncoder(channels=(4, 4, 4, 4)).to("meta")
    model.fit_input(frames)
    assert model.pix_mean.device.type == "meta"
    cpu = R.ConvEncoder(channels=(4, 4, 4, 4))
    cpu.fit_input(frames)
    ref = torch.from_numpy(frames).permute(0, 3, 1, 2).float().mean(0) / 255.0
    torch.testing.assert_close(cpu.pix_mean, ref)


def test_no_off_screen_renderer_is_one_line_exit_2_and_nothing_written(tmp_path, capsys,
                                                                       monkeypatch):
    """Session 47 (a user's trial): with MUJOCO_GL=osmesa and no libOSMesa the reproduction
    gave two tracebacks, exit 1, and a folder whose plan read every run as stopped. The
    renderer is probed before anything is planned, where this machine would render."""
    from pycheck.cli import main

    def broken(*a, **kw):
        raise R.RendererUnavailable("cannot render DMC Reacher off-screen (MUJOCO_GL=osmesa): "
                                    "no libOSMesa -- to fix: install it")
    monkeypatch.setattr(R, "ReacherRenderer", broken)
    out = tmp_path / "r"
    assert main(["reproduce", "reacher", "--out", str(out), "--jobs", "2"]) == 2
    err = capsys.readouterr().err
    assert "pycheck: error: reacher: cannot render DMC Reacher off-screen" in err
    assert "Traceback" not in err and not out.exists()
    assert issubclass(R.RendererUnavailable, RuntimeError)


def test_an_impossible_min_dist_names_its_settings(tmp_path):
    """Session 47 (a user's trial): the refusal named the values, not the settings."""
    from pycheck.experiments import reacher as exp
    with pytest.raises(ValueError, match=r"reacher config: k_pairs = 4, pair_half_width = 1.5, "
                       r"min_dist = 50.0: could not draw 4 pairs at distance >= 50.0"):
        exp.check_config(dict(MICRO, min_dist=50.0))
