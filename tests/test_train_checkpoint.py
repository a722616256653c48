"""fit_encoder(checkpoint=...): an interrupted fit resumes to the uninterrupted result, bit
for bit; bad checkpoints and samplers without state are refused before any work."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import pycheck.train as T
from pycheck.train import fit_encoder
from pycheck.worlds import gaussian_ou_pairs


def _mix(v):
    """A 2D tanh shear then a rotation, used only in this file's tests."""
    return np.stack([v[:, 0], v[:, 1] + 1.5 * np.tanh(2 * v[:, 0])], 1) @ [[0.8, -0.6],
                                                                          [0.6, 0.8]]


def _pairs(n=1500, seed=0):
    z, zn = gaussian_ou_pairs(n, 2, 0.5, np.random.default_rng(seed))
    return _mix(z), _mix(zn)


class _Interrupt(Exception):
    pass


def _stop_after(monkeypatch, saves: int, fn, *args, **kwargs) -> None:
    """Run fn(*args, **kwargs), saving at every step (not every 60 s), and stop it right
    after its ``saves``-th save."""
    save, count = T._Resume.save, [0]

    def save_then_stop(self, i, state):
        save(self, i, state)
        count[0] += 1
        if count[0] == saves:
            raise _Interrupt
    with monkeypatch.context() as m:
        m.setattr(T._Resume, "due", lambda self: True)
        m.setattr(T._Resume, "save", save_then_stop)
        with pytest.raises(_Interrupt):
            fn(*args, **kwargs)


def _interrupted(monkeypatch, after: int, *args, **kwargs) -> None:
    """Run fit_encoder(*args, **kwargs) and stop it right after its ``after``-th save."""
    _stop_after(monkeypatch, after, fit_encoder, *args, **kwargs)


def _same_fit(a, b) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    assert a.history == b.history
    for attr in ("heldout_objective", "best_step", "selected", "lam"):
        assert getattr(a, attr, None) == getattr(b, attr, None), attr


# within the default's first (lam 0) and second (lam 0.3) fit; and one fit with SIGReg of
# the whitened batch alone, whose weights are then the ones returned (the default returns
# the lam 0 fit here, so its lam 0.3 fit is compared only by its held-out value)
@pytest.mark.parametrize("after,lam", [(37, None), (160, None), (50, 0.3)])
def test_interrupted_default_fit_resumes_bit_identically(tmp_path, monkeypatch, after, lam):
    x, xn = _pairs()
    kw = dict(steps=120, batch_size=128, progress=False, seed=3)
    if lam is not None:
        kw["lam"] = lam
    ref = fit_encoder(x, xn, **kw)
    path = tmp_path / "fit.ckpt"
    # every step is saved (checkpoint_every=0): 120 per SIGReg weight, two weights
    _interrupted(monkeypatch, after, x, xn, checkpoint=path, checkpoint_every=0, **kw)
    assert path.is_file()
    res = fit_encoder(x, xn, checkpoint=path, checkpoint_every=0, **kw)
    assert not path.exists() and not path.with_name(path.name + ".tmp").exists()
    _same_fit(ref, res)
    # the fit not returned (the other SIGReg weight) resumed to the same held-out value too
    if lam is None:
        assert [(k, v["heldout_objective"], v["selected"]) for k, v in ref.lam_fits.items()] \
            == [(k, v["heldout_objective"], v["selected"]) for k, v in res.lam_fits.items()]


def test_interrupted_sigreg_fit_restores_the_slices_generator(tmp_path, monkeypatch):
    x, xn = _pairs()
    kw = dict(steps=90, batch_size=128, progress=False, num_slices=32)
    ref = fit_encoder(x, xn, "sigreg", **kw)
    path = tmp_path / "s.ckpt"
    _interrupted(monkeypatch, 50, x, xn, "sigreg", checkpoint=path, checkpoint_every=0, **kw)
    # without restoring SIGReg's generator the resumed run would draw other slices
    _same_fit(ref, fit_encoder(x, xn, "sigreg", checkpoint=path, checkpoint_every=0, **kw))


class _StatefulSampler:
    """Fresh pairs of the test world from its own NumPy generator, with saved state."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, batch):
        z, zn = gaussian_ou_pairs(batch, 2, 0.5, self.rng)
        return _mix(z), _mix(zn)

    def state_dict(self):
        return self.rng.bit_generator.state

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state


def test_interrupted_sampler_fit_restores_the_samplers_state(tmp_path, monkeypatch):
    x, xn = _pairs()
    kw = dict(steps=60, batch_size=64, progress=False, lam=0)
    ref = fit_encoder(x, xn, sampler=_StatefulSampler(1), **kw)
    path = tmp_path / "f.ckpt"
    _interrupted(monkeypatch, 25, x, xn, sampler=_StatefulSampler(1), checkpoint=path,
                 checkpoint_every=0, **kw)
    # a new sampler object, as after a restart: its state comes from the checkpoint
    _same_fit(ref, fit_encoder(x, xn, sampler=_StatefulSampler(1), checkpoint=path,
                               checkpoint_every=0, **kw))


def test_checkpoint_refuses_bad_files_and_arguments(tmp_path, monkeypatch):
    x, xn = _pairs(200)
    kw = dict(steps=20, batch_size=32, progress=False, lam=0)
    path = tmp_path / "c.ckpt"
    _interrupted(monkeypatch, 5, x, xn, checkpoint=path, checkpoint_every=0, **kw)
    with pytest.raises(ValueError, match="other data or arguments"):
        fit_encoder(x, xn, checkpoint=path, **dict(kw, steps=21))
    with pytest.raises(ValueError, match="other data or arguments"):
        fit_encoder(x[::-1], xn[::-1], checkpoint=path, **kw)
    assert path.is_file()                     # a refused call leaves the file alone
    (tmp_path / "junk").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        fit_encoder(x, xn, checkpoint=tmp_path / "junk", **kw)
    for bad, match in [(tmp_path / "missing" / "c.ckpt", "folder must exist"),
                       (tmp_path, "folder must exist"), ("", "non-empty file path"),
                       (3, "non-empty file path")]:
        with pytest.raises(ValueError, match=match):
            fit_encoder(x, xn, checkpoint=bad, **kw)
    with pytest.raises(ValueError, match="checkpoint_every"):
        fit_encoder(x, xn, checkpoint=tmp_path / "d.ckpt", checkpoint_every=-1, **kw)
    with pytest.raises(ValueError, match="state_dict"):
        fit_encoder(x, xn, checkpoint=tmp_path / "e.ckpt",
                    sampler=lambda b: (x[:b], xn[:b]), **kw)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.ckpt", "junk"]


def test_a_resume_at_another_thread_count_warns(tmp_path, monkeypatch):
    """The checkpoint records its torch thread count; resuming at another one (which
    matches an uninterrupted run at neither count, in the last bits) warns, naming the
    count that reproduces; at the same count it does not."""
    import warnings
    x, xn = _pairs(200)
    kw = dict(steps=20, batch_size=32, progress=False, lam=0, checkpoint_every=0)
    old = torch.get_num_threads()
    try:
        for resumed_at, warns in ((old, False), (old + 1, True)):
            path = tmp_path / f"c{resumed_at}.ckpt"
            _interrupted(monkeypatch, 5, x, xn, checkpoint=path, **kw)
            assert torch.load(path, weights_only=False)["threads"] == old
            torch.set_num_threads(resumed_at)
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                fit_encoder(x, xn, checkpoint=path, **kw)
            torch.set_num_threads(old)
            said = [str(w.message) for w in seen if "torch thread" in str(w.message)]
            assert bool(said) == warns, said
            if warns:
                assert f"written at {old} torch thread" in said[0]
                assert f"torch.set_num_threads({old})" in said[0]
    finally:
        torch.set_num_threads(old)


def test_a_resume_on_another_device_warns(tmp_path, monkeypatch):
    """A training state records the device its weights trained on (session 45); restored
    into a model on another device type, it warns. The device is the run's, not the
    machine's default (a review found a CPU run on a GPU machine warned). No GPU here: the
    record is edited to say cuda."""
    import warnings
    x, xn = _pairs(200)
    kw = dict(steps=20, batch_size=32, progress=False, lam=0, checkpoint_every=0)
    for device, warns in (("cpu", False), ("cuda", True)):
        path = tmp_path / f"{device}.ckpt"
        _interrupted(monkeypatch, 5, x, xn, checkpoint=path, **kw)
        data = torch.load(path, weights_only=False)
        states = [p for p in data["phases"] if isinstance(p, dict) and "device" in p]
        assert states and all(p["device"] == "cpu" for p in states)
        for p in states:
            p["device"] = device
        torch.save(data, path)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            fit_encoder(x, xn, checkpoint=path, **kw)
        said = [str(w.message) for w in seen if "training checkpoint written on" in
                str(w.message)]
        assert bool(said) == warns, said
        if warns:
            assert "written on cuda is resumed on cpu" in said[0]
    # the machine's default device plays no part: a CPU run resumed where CUDA is present
    path = tmp_path / "default.ckpt"
    _interrupted(monkeypatch, 5, x, xn, checkpoint=path, device="cpu", **kw)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fit_encoder(x, xn, checkpoint=path, device="cpu", **kw)
    assert not [w for w in seen if "training checkpoint written on" in str(w.message)]


def test_fit_killed_in_one_process_resumes_in_another(tmp_path):
    """The real case: a process killed mid-fit (os._exit, no clean-up), resumed by a new
    process, gives the bits of a third process that ran without interruption."""
    script = textwrap.dedent(f"""
        import os, sys
        import numpy as np, torch
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        from test_train_checkpoint import _pairs
        import pycheck.train as T
        x, xn = _pairs()
        kill, path = int(sys.argv[1]), sys.argv[2]
        if kill:
            save, n = T._Resume.save, [0]
            def save_then_die(self, i, state):
                save(self, i, state)
                n[0] += 1
                if n[0] == kill:
                    os._exit(3)
            T._Resume.save = save_then_die
        enc = T.fit_encoder(x, xn, steps=100, batch_size=128, progress=False, lam=0,
                            checkpoint=path if path != "-" else None, checkpoint_every=0)
        torch.save(enc.state_dict(), sys.argv[3])
        """)
    run = [sys.executable, "-c", script]
    ck = str(tmp_path / "p.ckpt")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    killed = subprocess.run(run + ["60", ck, str(tmp_path / "never.pt")], env=env)
    assert killed.returncode == 3 and os.path.isfile(ck)
    for args in (["0", ck, str(tmp_path / "resumed.pt")], ["0", "-", str(tmp_path / "ref.pt")]):
        subprocess.run(run + args, env=env, check=True)
    a, b = torch.load(tmp_path / "resumed.pt"), torch.load(tmp_path / "ref.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not os.path.exists(ck)


def test_checkpoint_with_a_users_bfloat16_module_and_a_leftover_temporary(tmp_path):
    """A user's module is fingerprinted by its initial weights whatever their dtype, and
    the temporary file of a save cut short is removed with the checkpoint."""
    x, xn = _pairs(300)
    enc = torch.nn.Sequential(torch.nn.Linear(2, 2)).to(torch.bfloat16)
    (tmp_path / "b.ckpt.tmp").write_bytes(b"a save cut short")
    model = fit_encoder(x.astype(np.float32), xn.astype(np.float32), "vicreg",
                        encoder=_Float32In(enc), steps=10, batch_size=32, progress=False,
                        checkpoint=tmp_path / "b.ckpt")
    assert model.history and list(tmp_path.iterdir()) == []


class _Float32In(torch.nn.Module):
    """A bfloat16 module behind a cast: the input stays float32, the output float32."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x.to(torch.bfloat16)).float()


@pytest.mark.parametrize("kw", [dict(), dict(antithetic=True), dict(qmc=True),
                                dict(antithetic=True, qmc=True)])
def test_world_sampler_state_restores_the_stream(kw):
    from pycheck.experiments._common import world_sampler
    draw = world_sampler(3, 0, 0.5, **kw)
    draw(8)
    state = draw.state_dict()
    first = draw(16)
    draw(4)
    draw.load_state_dict(state)
    assert all(np.array_equal(a, b) for a, b in zip(first, draw(16)))


def test_experiment_run_killed_mid_training_resumes_to_the_same_result(tmp_path, monkeypatch):
    """A scaling-style run (fresh antithetic QMC pairs, the matched RealNVP encoder) under
    the executors' checkpoint (what a SLURM job or a local worker sets), stopped after
    some saves and run again, stores the uninterrupted run's numbers."""
    from pycheck.executors import checkpoint_path, with_checkpoint
    from pycheck.experiments._common import train_and_measure
    spec = dict(mixing="realnvp", n=2, objective="vicreg", seed=0, rho=0.5, n_train=400,
                n_test=300, steps=60, batch_size=64, lr=3e-3, encoder="realnvp",
                fresh=True, antithetic=True, qmc=True)
    ref = train_and_measure(**spec)
    path = checkpoint_path(tmp_path, "realnvp-vicreg-N2-seed0")
    _stop_after(monkeypatch, 30, with_checkpoint, path, train_and_measure, spec)
    assert path.is_file() and "PYCHECK_RUN_CHECKPOINT" not in os.environ
    res = with_checkpoint(path, train_and_measure, spec)
    assert not path.exists()
    for key in ref:
        if key != "train_seconds":
            assert res[key] == ref[key], key


def test_checkpoint_of_other_settings_is_dropped_and_the_run_starts_afresh(tmp_path,
                                                                          monkeypatch, capsys):
    """A run interrupted under one profile and rerun after the profile changed (the run
    store recomputes it, session 26) must not resume the old settings' checkpoint: before
    session 27 the fit refused it ("other data or arguments") and the rerun crashed."""
    from pycheck.executors import checkpoint_path, task_path, with_checkpoint
    from pycheck.experiments._common import train_and_measure
    spec = dict(mixing="realnvp", n=2, objective="vicreg", seed=0, rho=0.5, n_train=400,
                n_test=300, steps=60, batch_size=64, lr=3e-3, encoder="realnvp",
                fresh=True, antithetic=True, qmc=True)
    new = dict(spec, lr=1e-3)
    path = checkpoint_path(tmp_path, "realnvp-vicreg-N2-seed0")
    _stop_after(monkeypatch, 30, with_checkpoint, path, train_and_measure, spec)
    assert path.is_file() and task_path(path).is_file()
    res = with_checkpoint(path, train_and_measure, new)
    assert "left by a run with other settings; deleted" in capsys.readouterr().err
    assert not path.exists() and not task_path(path).exists()
    ref = train_and_measure(**new)
    assert res.pop("kernels") == ["coupling_cpp"] and res.pop("kernel_failures") == []
    assert {k: v for k, v in res.items() if k != "train_seconds"} == \
        {k: v for k, v in ref.items() if k != "train_seconds"}


def test_local_runs_train_with_a_checkpoint_per_run(tmp_path):
    from pycheck.executors import checkpoint_path
    from pycheck.store import RunStore
    store = RunStore(tmp_path, {"what": "checkpoint paths"})
    done = store.run_many({"a": (_checkpoint_env, {}), "b": (_checkpoint_env, {})})
    for key in ("a", "b"):
        assert done[key]["path"] == str(checkpoint_path(tmp_path, key))
    assert (tmp_path / "jobs" / "checkpoints").is_dir()
    assert "PYCHECK_RUN_CHECKPOINT" not in os.environ


def _checkpoint_env() -> dict:
    from pycheck.experiments._common import run_checkpoint
    return {"path": run_checkpoint()}


@pytest.mark.parametrize("fresh", [False, True])
def test_interrupted_supervised_fit_resumes_bit_identically(tmp_path, monkeypatch, fresh):
    """The scaling experiment's supervised ceiling (fit_supervised), stored pairs or fresh
    QMC latents, cut after 23 of 40 steps and rerun, returns the uninterrupted weights."""
    from pycheck.experiments._common import _encoder, _latent_sampler, fit_supervised
    from pycheck.mixings import make_mixing
    g = make_mixing("realnvp", 2, 0)
    z = np.random.default_rng(0).standard_normal((500, 2))
    sampler = (lambda: _latent_sampler(g, 2, 0, 0.5, qmc=True)) if fresh else (lambda: None)
    kw = dict(steps=40, batch_size=64, lr=3e-3, seed=1)
    ref = fit_supervised(g.forward(z), z, _encoder("realnvp", 2, 0), sampler=sampler(), **kw)
    path = tmp_path / "sup.ckpt"
    _stop_after(monkeypatch, 23, fit_supervised, g.forward(z), z, _encoder("realnvp", 2, 0),
                sampler=sampler(), checkpoint=path, **kw)
    assert path.is_file()
    with pytest.raises(ValueError, match="other data or arguments"):
        fit_supervised(g.forward(z), z, _encoder("realnvp", 2, 0), sampler=sampler(),
                       checkpoint=path, **dict(kw, lr=1e-3))
    res = fit_supervised(g.forward(z), z, _encoder("realnvp", 2, 0), sampler=sampler(),
                         checkpoint=path, **kw)
    assert not path.exists()
    sa, sb = ref.state_dict(), res.state_dict()
    # (mutation-checked, session 24: dropping the restore of Adam, the schedule, the batch
    # generator or the sampler's state each fails this test)
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_interrupted_reacher_cnn_resumes_bit_identically(tmp_path, monkeypatch, capsys):
    """train_cnn (Reacher's conv encoder) cut after 7 of 12 steps and rerun returns the
    uninterrupted weights and history, and says that it resumes (s47); a file from other
    arguments is refused."""
    from pycheck.reacher import train_cnn
    frames = np.random.default_rng(0).integers(0, 256, (40, 64, 64, 3), dtype=np.uint8)
    pairs = np.stack([np.arange(39), np.arange(1, 40)], 1)
    kw = dict(steps=12, batch_size=8, lr=1e-3, seed=2, channels=(4, 4, 4, 4), progress=False,
              num_slices=16)
    ref, ref_hist = train_cnn(frames, pairs, **kw)
    path = tmp_path / "cnn.ckpt"
    _stop_after(monkeypatch, 7, train_cnn, frames, pairs, checkpoint=path, **kw)
    with pytest.raises(ValueError, match="train_cnn call with other data"):
        train_cnn(frames, pairs[:-1], checkpoint=path, **kw)
    capsys.readouterr()
    res, res_hist = train_cnn(frames, pairs, checkpoint=path, **dict(kw, progress=True))
    assert f"train_cnn: resuming from {path}" in capsys.readouterr().out
    assert not path.exists() and res_hist == ref_hist
    sa, sb = ref.state_dict(), res.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_sequential_store_runs_train_with_a_checkpoint_per_run(tmp_path):
    """RunStore.run (the control and anisotropic experiments' runs) sets the run's
    checkpoint as the executors do."""
    from pycheck.executors import checkpoint_path
    from pycheck.store import RunStore
    store = RunStore(tmp_path, {"what": "checkpoint paths"})
    assert store.run("c", _checkpoint_env)["path"] == str(checkpoint_path(tmp_path, "c"))
    assert "PYCHECK_RUN_CHECKPOINT" not in os.environ


def test_training_exceptions_survive_pickling():
    """A --jobs worker's or a SLURM job's exception reaches the other side pickled; the
    default pickling (cls(message)) failed on these two __init__s (session 37)."""
    import math
    import pickle
    from pathlib import Path

    from pycheck.train import CheckpointMismatch, TrainingDiverged
    err = pickle.loads(pickle.dumps(TrainingDiverged(7, math.inf, "why")))
    assert isinstance(err, TrainingDiverged) and (err.step, err.value, err.why) == (7, math.inf, "why")
    assert str(err) == str(TrainingDiverged(7, math.inf, "why"))
    err = pickle.loads(pickle.dumps(CheckpointMismatch("bad file", Path("a.pt"))))
    assert isinstance(err, CheckpointMismatch) and str(err) == "bad file" and err.path == Path("a.pt")


def test_a_resumed_run_keeps_the_kernels_of_the_interrupted_process(tmp_path):
    """The checkpoint carries which kernels did the training so far, and resuming puts them
    back in the record: a run whose training had finished before the interruption used no
    kernel after resuming and stored no `kernels` (session 46, a SLURM trial)."""
    from pycheck.train import _Resume
    from pycheck.validate import KERNEL_FAILURES, KERNELS_USED
    path = tmp_path / "run.pt"
    KERNELS_USED.clear()
    KERNELS_USED.add("sigreg_cpp")
    KERNEL_FAILURES.add("coupling_cpp")
    try:
        _Resume(path, 60.0, "fp").save(0, {"step": 3})
        KERNELS_USED.clear()
        KERNEL_FAILURES.clear()
        res = _Resume(path, 60.0, "fp")
        assert res.phases == [{"step": 3}]
        from pycheck.validate import RESUMED_KERNEL_FAILURES
        assert KERNELS_USED == {"sigreg_cpp"} and RESUMED_KERNEL_FAILURES == {"coupling_cpp"}
    finally:
        KERNELS_USED.clear()
        KERNEL_FAILURES.clear()


def test_a_resumed_runs_kernel_failures_stay_in_its_own_record(tmp_path):
    """Failures read from a resumed checkpoint go into that run's record only: the
    process-wide set would have put them into every later run of the same worker, which the
    mixed-kernel warning then flagged (session 46 review). And an experiment run does not
    pass on LinearMapKept (its read-out is its result)."""
    import warnings
    from pycheck.executors import with_checkpoint
    from pycheck.train import LinearMapKept, _Resume
    from pycheck.validate import KERNEL_FAILURES, KERNELS_USED, RESUMED_KERNEL_FAILURES
    path = tmp_path / "run.pt"
    KERNELS_USED.add("sigreg_eager")
    KERNEL_FAILURES.add("sigreg_cpp")
    _Resume(path, 60.0, "fp").save(0, {})
    KERNELS_USED.clear()
    KERNEL_FAILURES.clear()

    def run():
        _Resume(path, 60.0, "fp")               # what a resumed fit does first
        warnings.warn("the linear map", LinearMapKept)
        return {"r2": 1.0}

    with warnings.catch_warnings():
        warnings.simplefilter("error", LinearMapKept)
        first = with_checkpoint(tmp_path / "a.pt", run, {})
    assert first["kernels"] == ["sigreg_eager"] and first["kernel_failures"] == ["sigreg_cpp"]
    assert not KERNEL_FAILURES and not RESUMED_KERNEL_FAILURES

    def other():
        KERNELS_USED.add("sigreg_cpp")
        return {"r2": 1.0}
    second = with_checkpoint(tmp_path / "b.pt", other, {})
    assert second["kernels"] == ["sigreg_cpp"] and second["kernel_failures"] == []
