"""Issue #17's defects, one test each that reproduces the original failure.

Bad input must end in one line naming the problem (``ValueError`` in the library; exit 2
from the CLI) with nothing written; a corrupt file's error names the file.
"""
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from pycheck import cli
from pycheck.cli import main
from pycheck.metrics import deviation_from_rotation, linear_r2
from pycheck.store import FolderBusy, RunStore, lock_folder
from pycheck.train import LinearMapKept, LowPrecisionInput, WidthReduced, embed, fit_encoder

ROOT = Path(__file__).resolve().parents[1]


def _one_line_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "pycheck" / "last-verify.json"


@pytest.fixture
def stub_control(monkeypatch):
    """``control.run`` replaced by a stub that stores one run per seed through RunStore."""
    from pycheck.experiments import control
    calls = []

    def run(cfg, out, seeds):
        store = RunStore(out, cfg)
        for s in seeds:
            calls.append(s)
            store.run(f"seed{s}", lambda: {"seed": s})
        return {}
    monkeypatch.setattr(control, "run", run)
    return calls


# ---------------------------------------------------------------- 3: duplicate seeds
def test_duplicate_seeds_are_refused(tmp_path, capsys, stub_control):
    out = tmp_path / "o"
    _one_line_exit_2(capsys, ["reproduce", "control", "--seeds", "0", "0", "--out", str(out)],
                     "more than once")
    assert not out.exists() and stub_control == []


# ---------------------------------------------------------------- 4: which manifest
def test_manifest_fallback_is_announced(tmp_path, capsys, monkeypatch):
    """In a folder without theorems.toml, the manifest found elsewhere is named."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYCHECK_MANIFEST", raising=False)
    assert main(["audit"]) == 0
    cap = capsys.readouterr()
    assert f"no theorems.toml in {tmp_path.resolve()}" in cap.err
    assert str(ROOT / "theorems.toml") in cap.out          # audit says what it audited


# ---------------------------------------------------------------- 5: verify --seed -1
def test_verify_negative_seed_is_refused_and_nothing_cached(capsys, cache):
    _one_line_exit_2(capsys, ["verify", "L1", "--seed", "-1"], "--seed must be a non-negative")
    assert not cache.exists()


def test_verify_repeated_id_is_refused(capsys, cache):
    _one_line_exit_2(capsys, ["verify", "L1", "L1"], "more than once: L1")


# ---------------------------------------------------------------- 6: the last-verify cache
def _fake_verify(monkeypatch, passed: bool):
    from pycheck import checks
    checks.load_all()
    for name in cli.load().get("L1").checks:
        monkeypatch.setitem(checks.CHECKS, name,
                            lambda seed: checks.CheckResult(passed, "stub"))


def _last_verify_of_L1(capsys, argv) -> str:
    assert main(argv + ["list"]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("L1 "))
    return row.split()[7]     # ID kind formal axioms lean_checked "k/n checks" last


def test_cache_is_per_checkout(tmp_path, capsys, cache, monkeypatch):
    """A copy's FAIL does not show in the original checkout's ``list`` (and vice versa)."""
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(ROOT / "theorems.toml", copy / "theorems.toml")
    _fake_verify(monkeypatch, False)
    assert main(["--manifest", str(copy / "theorems.toml"), "verify", "L1"]) == 1
    _fake_verify(monkeypatch, True)
    assert main(["verify", "L1"]) == 0
    capsys.readouterr()
    assert _last_verify_of_L1(capsys, []) == "pass"
    assert _last_verify_of_L1(capsys, ["--manifest", str(copy / "theorems.toml")]) == "FAIL"


def test_a_result_recorded_before_the_code_or_manifest_changed_reads_stale(
        tmp_path, capsys, cache, monkeypatch):
    """The cache records a digest of the manifest and the package's sources: after either
    changes, `list` says the result is stale (session 44: a FAIL recorded on a tree broken on
    purpose stayed FAIL after the fix); a result in the format before (a bare bool) too."""
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(ROOT / "theorems.toml", copy / "theorems.toml")
    argv = ["--manifest", str(copy / "theorems.toml")]
    _fake_verify(monkeypatch, True)
    assert main(argv + ["verify", "L1"]) == 0
    capsys.readouterr()
    assert _last_verify_of_L1(capsys, argv) == "pass"
    with open(copy / "theorems.toml", "a") as f:
        f.write("\n# an edit\n")
    assert main(argv + ["list"]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("L1 "))
    assert "pass (stale: code or manifest changed since)" in row
    cache.write_text(json.dumps({"manifests": {str((copy / "theorems.toml").resolve()):
                                               {"L1": False}}}))
    assert main(argv + ["list"]) == 0
    row = next(r for r in capsys.readouterr().out.splitlines() if r.startswith("L1 "))
    assert "FAIL (stale" in row


@pytest.mark.parametrize("junk", ["[1, 2]", '{"ids": [1]}', '{"manifests": {"x": 3}}', "{"])
def test_cache_of_the_wrong_shape_is_ignored(capsys, cache, monkeypatch, junk):
    cache.parent.mkdir(parents=True)
    cache.write_text(junk)
    assert _last_verify_of_L1(capsys, []) == "-"
    _fake_verify(monkeypatch, True)
    assert main(["verify", "L1"]) == 0
    assert _last_verify_of_L1(capsys, []) == "pass"


# ---------------------------------------------------------------- 7: file-system errors
def test_verify_json_to_a_folder_is_refused_before_running(tmp_path, capsys, cache):
    _one_line_exit_2(capsys, ["verify", "L1", "--json", str(tmp_path)], "is a folder")
    assert not cache.exists()                             # no check ran


def test_verify_json_to_a_read_only_folder_is_refused(tmp_path, capsys, cache, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o555)
    # root may write anywhere, so the permission answer is injected
    monkeypatch.setattr(cli.os, "access", lambda path, mode: Path(path) != ro)
    _one_line_exit_2(capsys, ["verify", "L1", "--json", str(ro / "r.json")], "not a writable")


def test_write_error_during_a_run_is_one_line_naming_the_file(tmp_path, capsys, monkeypatch):
    """A disk that fills up (or turns read-only) mid-run: one line with the file, exit 2."""
    from pycheck import store
    from pycheck.experiments import control

    def full(path, data):
        raise OSError(28, "No space left on device", str(path))
    monkeypatch.setattr(store, "atomic_write_bytes", full)
    monkeypatch.setattr(control, "run", lambda cfg, out, seeds: RunStore(out, cfg).run(
        "a", lambda: {"x": 1}))
    # the first file a run writes is its task record beside its checkpoint, before it trains
    # (session 27; config.json, the next one, came first before)
    _one_line_exit_2(capsys, ["reproduce", "control", "--out", str(tmp_path / "o")],
                     "o/jobs/checkpoints/a.task.json: No space left on device")


def test_truncated_run_file_is_named(tmp_path, capsys, stub_control):
    out = tmp_path / "o"
    assert main(["reproduce", "control", "--seeds", "0", "--out", str(out)]) == 0
    run_file = out / "runs" / "seed0.json"
    run_file.write_text('{"seed": ')
    capsys.readouterr()
    _one_line_exit_2(capsys, ["reproduce", "control", "--seeds", "0", "--out", str(out)],
                     f"{run_file}: not valid JSON")


def test_reproduce_out_that_is_a_file_is_refused(tmp_path, capsys, stub_control):
    f = tmp_path / "f"
    f.write_text("")
    _one_line_exit_2(capsys, ["reproduce", "control", "--out", str(f)], "not a folder")


# ---------------------------------------------------------------- 8: refused config
def test_refused_config_does_not_lock_the_folder(tmp_path):
    bad, good = {"lr": -1.0}, {"lr": 1e-3}
    store = RunStore(tmp_path, bad)
    with pytest.raises(ValueError, match="lr"):            # the experiment refuses the config
        store.run("a", lambda: (_ for _ in ()).throw(ValueError("lr must be > 0")))
    assert not (tmp_path / "runs" / "config.json").exists()
    store = RunStore(tmp_path, good)
    store.run("a", lambda: {"ok": 1})
    assert json.loads((tmp_path / "runs" / "config.json").read_text()) == good
    with pytest.raises(ValueError, match="differs in: lr"):  # a folder with runs still guards
        RunStore(tmp_path, bad)


def test_stale_stamp_without_runs_is_replaced(tmp_path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "config.json").write_text('{"lr": -1.0}')
    RunStore(tmp_path, {"lr": 0.1}).run("a", lambda: {"ok": 1})
    assert json.loads((tmp_path / "runs" / "config.json").read_text()) == {"lr": 0.1}


# ---------------------------------------------------------------- 9: edge cases
def test_second_reproduce_into_a_busy_folder_is_refused(tmp_path, capsys, stub_control):
    out = tmp_path / "o"
    with lock_folder(out):
        _one_line_exit_2(capsys, ["reproduce", "control", "--out", str(out)],
                         "in use by another pycheck process writing into it, so this pycheck reproduce cannot write there")
        with pytest.raises(FolderBusy):                   # a second process is refused too
            with lock_folder(out):
                pass
    with lock_folder(out):                               # released on exit
        pass


def test_lock_is_released_when_its_holder_is_killed(tmp_path):
    out = tmp_path / "o"
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pycheck.store import lock_folder\n"
         "with lock_folder(sys.argv[1]):\n    print('locked', flush=True); time.sleep(60)",
         str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(FolderBusy):
            with lock_folder(out):
                pass
    finally:
        child.kill()
        child.wait()
    with lock_folder(out):
        pass


def test_runstore_run_reports_progress(tmp_path, capsys):
    RunStore(tmp_path).run("seed0", lambda: {"ok": 1})
    assert "seed0" in capsys.readouterr().err             # also when stderr is not a terminal


@pytest.mark.parametrize("argv, needle", [
    (["--threads", "0"], "--threads must be between 1 and this machine's"),
    # more threads than cores had been capped silently (session 36)
    (["--threads", "4096"], "--threads must be between 1 and this machine's"),
    (["--json", "/nonexistent-dir/b.json"], "does not exist"),
])
def test_bench_bad_options(argv, needle, capsys, tmp_path):
    from pycheck import bench
    with pytest.raises(SystemExit) as info:
        bench.main(argv)
    assert info.value.code == 2 and needle in capsys.readouterr().err
    assert not Path("/nonexistent-dir").exists()


_X = np.random.default_rng(0).standard_normal((64, 2))


@pytest.mark.parametrize("x, match", [
    (np.ones((64, 2)), r"column\(s\) \[0, 1\] are constant"),
    (np.c_[_X[:, :1], np.ones(64)], r"column\(s\) \[1\] are constant"),
    (_X * 1e300, "too large"),
    (_X + 1j * _X, "must be real"),
])
def test_fit_encoder_bad_data(x, match):
    with pytest.raises(ValueError, match=match):
        fit_encoder(x, x, steps=1, progress=False)


@pytest.mark.parametrize("kw, match", [
    ({"dim_out": 0}, "dim_out"), ({"lr": "1e-3"}, "lr"), ({"lr": float("inf")}, "lr"),
    ({"steps": 3.0}, "steps"), ({"steps": float("inf")}, "steps"), ({"steps": True}, "steps"),
    ({"seed": 2**70}, "seed"), ({"seed": -1}, "seed"), ({"batch_size": 2.5}, "batch_size"),
])
def test_fit_encoder_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        fit_encoder(_X, _X + 0.1, **{"steps": 1, "progress": False, **kw})


@pytest.mark.parametrize("kw, match", [
    ({"device": "cuda"} if not torch.cuda.is_available() else {"device": "nonsense"},
     "device"),
    ({"device": "gpu"}, "device"), ({"sampler": 3}, "sampler must be a callable"),
    ({"dim_out": 3}, r"dim_out <= d = 2"),
])
def test_fit_encoder_bad_device_sampler_width(kw, match):
    """Refused before any work, with a ValueError naming the argument (session 22: a
    CUDA-less torch raised an AssertionError from deep inside, a non-callable sampler a
    TypeError at the first step, and ``dim_out > d`` with the whitened objective failed
    in a Cholesky factorisation)."""
    with pytest.raises(ValueError, match=match):
        fit_encoder(_X, _X + 0.1, **{"steps": 1, "progress": False, **kw})


def test_fit_encoder_odd_but_valid_inputs():
    """Negative strides, a bfloat16 tensor and a duplicated column are valid input: the
    first two train like the same values as float64, the last warns that the columns
    span fewer directions than the outputs (and the read-out competition leaves out the
    SFA candidates that would need more directions than the input has)."""
    kw = {"steps": 2, "progress": False, "seed": 0}
    x = np.random.default_rng(2).standard_normal((80, 2))
    xn = 0.8 * x + 0.6 * np.random.default_rng(3).standard_normal((80, 2))
    ref = embed(fit_encoder(x[:, ::-1].copy(), xn[:, ::-1].copy(), **kw), x[:, ::-1].copy())
    assert np.array_equal(embed(fit_encoder(x[:, ::-1], xn[:, ::-1], **kw), x[:, ::-1]), ref)
    xb, xnb = (torch.tensor(a).bfloat16() for a in (x, xn))
    with pytest.warns(LowPrecisionInput, match="x is bfloat16"):     # session 48
        assert embed(fit_encoder(xb, xnb, **kw), xb.double().numpy()).shape == (80, 2)
    dup, dupn = np.c_[x, x[:, 0]], np.c_[xn, xn[:, 0]]
    for objective in ("whitened", "vicreg"):
        # session 48: the embedding is as wide as the columns' rank, and the linear map
        # competes (with 3 outputs it could not, and a trial's fit ended below R²(x→z))
        with pytest.warns(WidthReduced, match="x's 3 columns span 2 directions: the "
                                              "embedding has 2 outputs"):
            enc = fit_encoder(dup, dupn, objective, **kw)
        assert embed(enc, dup).shape == (80, 2)
        assert any(k.startswith("linear") for k in enc.candidates), enc.candidates
        # dim_out given: as asked, with the rank warning, and no linear map
        with pytest.warns(UserWarning, match="span 2 directions, fewer than the 3 outputs"):
            enc = fit_encoder(dup, dupn, objective, dim_out=3, **kw)
        assert np.isfinite(embed(enc, dup)).all() and embed(enc, dup).shape == (80, 3)
        assert not any(k.startswith("linear") for k in enc.candidates)


def test_read_only_input_trains_silently_and_alike():
    """A read-only array (``np.load(..., mmap_mode="r")``) trains to the same bits as a
    writable one, without torch's "non-writable" UserWarning (it was passed through)."""
    kw = {"steps": 2, "progress": False, "seed": 0}
    x = np.random.default_rng(2).standard_normal((80, 2))
    xn = 0.8 * x + 0.6 * np.random.default_rng(3).standard_normal((80, 2))
    ref = embed(fit_encoder(x, xn, **kw), x)
    ro, ron = x.copy(), xn.copy()
    ro.setflags(write=False)
    ron.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", LinearMapKept)    # 2 steps: the linear map, said
        assert np.array_equal(embed(fit_encoder(ro, ron, **kw), ro), ref)


def test_batch_whitening_survives_an_indefinite_float32_covariance():
    """200 channels of 3 latents, with views from two unrelated mixings (no shared
    signal): within a few steps the λ = 0.3 fit's float32 batch covariance was no longer
    numerically positive-definite and ``torch.linalg.cholesky`` raised (seen at minor 193).
    The factor now retries with a growing ridge; the fit ends with finite outputs. And a
    covariance that factors at once gets exactly ``torch.linalg.cholesky``'s factor."""
    from pycheck.train import _cholesky
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3000, 3))
    zn = 0.8 * z + 0.6 * rng.standard_normal(z.shape)
    x, xn = np.tanh(z @ rng.standard_normal((3, 200))), np.tanh(zn @ rng.standard_normal((3, 200)))
    enc = fit_encoder(x, xn, steps=60, seed=0, progress=False)
    assert 0.3 in enc.lam_fits and np.isfinite(embed(enc, x)).all()
    c = torch.cov(torch.randn(50, 4, generator=torch.Generator().manual_seed(0)).T)
    assert torch.equal(_cholesky(c), torch.linalg.cholesky(c))
    singular = torch.ones(3, 3)          # rank 1: factors only with the ridge
    low = _cholesky(singular)
    assert torch.isfinite(low).all() and torch.allclose(low @ low.T, singular, atol=1e-3)


def test_embed_no_rows_and_sampler_of_the_wrong_width():
    """``embed`` of zero rows is a (0, n) array (it was a torch.cat error), and a sampler
    whose pairs have another width than the data is a ValueError naming it (it was a
    RuntimeError from a broadcast inside the standardisation)."""
    enc = fit_encoder(_X, _X + 0.1, "vicreg", steps=1, progress=False)
    assert embed(enc, np.zeros((0, 2))).shape == (0, 2)
    with pytest.raises(ValueError, match=r"sampler\(64\) must return x_next of shape \(64, d\) "
                       r"and x of shape \(k, d\) with 1 <= k <= 64 and d = 2, the pairs' "
                       r"width; got \(64, 3\) and \(64, 3\)"):
        fit_encoder(_X, _X + 0.1, steps=1, batch_size=64, progress=False, lam=0,
                    sampler=lambda b: (np.zeros((b, 3)), np.zeros((b, 3))))


def test_constant_column_allowed_without_whitening():
    x = np.c_[_X[:, :1], np.ones(64)]
    with pytest.warns(WidthReduced, match="x's 2 columns span 1 direction: the embedding "
                                          "has 1 output"):
        enc = fit_encoder(x, x[::-1].copy(), "vicreg", steps=1, whiten="none", progress=False)
    assert embed(enc, x).shape == (64, 1)
    with pytest.warns(UserWarning, match="span 1 direction, fewer than the 2 outputs"):
        enc = fit_encoder(x, x[::-1].copy(), "vicreg", steps=1, whiten="none", progress=False,
                          dim_out=2)
    assert np.isfinite(embed(enc, x)).all()


def test_embed_wrong_width():
    enc = fit_encoder(_X, _X + 0.1, "vicreg", steps=1, progress=False)
    with pytest.raises(ValueError, match="x has 3 columns; the encoder was fitted on 2"):
        embed(enc, np.zeros((5, 3)))


def test_linear_r2_constant_target_and_nan():
    z = np.random.default_rng(1).standard_normal((40, 2))
    with pytest.raises(ValueError, match="z is constant"):
        linear_r2(z, np.ones((40, 2)))
    with pytest.raises(ValueError, match="h contains NaN"):
        linear_r2(np.where(z > 1, np.nan, z), z)
    with pytest.raises(ValueError, match="z contains NaN or inf"):
        deviation_from_rotation(z, np.full((40, 2), np.inf))


def test_fit_encoder_refusals_found_in_session_36():
    """Each was accepted, or failed later with another error: a string or None holdout
    (TypeError), a masked array (trained on the values under the mask), too few held-out
    pairs for the embedding's width (held-out criteria NaN, every selection skipped), a
    column constant on the training pairs alone (divided by a zero spread: ~1e6 outputs)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 4))
    for holdout in ("0.1", None, True):
        with pytest.raises(ValueError, match="holdout must be a number in"):
            fit_encoder(x, x + 0.1, steps=1, progress=False, holdout=holdout)
    masked = np.ma.masked_array(x, mask=np.zeros_like(x, dtype=bool))
    masked[3, 1] = np.ma.masked
    with pytest.raises(ValueError, match="x has 1 masked entries"):
        fit_encoder(masked, x, steps=1, progress=False)
    wide = rng.standard_normal((300, 40))
    with pytest.raises(ValueError, match="holds out 30 pairs, too few to judge a 40-wide"):
        fit_encoder(wide, wide + 0.1, steps=1, progress=False)
    fit_encoder(wide, wide + 0.1, steps=1, progress=False, holdout=0)   # no selection: fine
    # a user's module sets the width: 3 outputs from the 40 columns are judged on 30 pairs
    fit_encoder(wide, wide + 0.1, "vicreg", encoder=torch.nn.Linear(40, 3), steps=1,
                progress=False)
    gen = torch.Generator().manual_seed(0)               # fit_encoder's split of seed 0
    held = torch.randperm(300, generator=gen)[:30]
    rare = np.c_[x, np.zeros(300)]
    rare[held[:3].numpy(), 4] = 1.0
    with pytest.raises(ValueError, match=r"column\(s\) \[4\] are constant on the training"):
        fit_encoder(rare, rare, steps=1, progress=False)


# ---------------------------------------------------------------- session 44: table sets
@pytest.mark.parametrize("stop", ["interrupt", "full disk", "experiment failed", "none"])
def test_a_reproduce_stopped_while_writing_its_tables_leaves_the_previous_set_whole(
        tmp_path, capsys, monkeypatch, stop):
    """Tables, figures and summaries are written together at the end (store.TableStage):
    a Ctrl-C or a full disk between two of them had left a mix of this invocation's and
    the previous one's (a user's trial, session 44). An experiment that fails its own test
    still writes the tables that show why; runs are stored as they finish either way."""
    from pycheck import experiments
    from pycheck.experiments import control
    from pycheck.store import write_json, write_table
    out = tmp_path / "o"
    calls = []

    def run(cfg, out_, seeds):
        store = RunStore(out_, cfg)
        for s in seeds:
            store.run(f"seed{s}", lambda: {"seed": s})
        calls.append(len(seeds))
        write_table(out_, "control", [{"seeds": len(seeds)}])
        if len(calls) > 1 and stop == "interrupt":
            raise KeyboardInterrupt
        if len(calls) > 1 and stop == "full disk":
            raise OSError(28, "No space left on device", str(Path(out_) / "control.png"))
        write_json(Path(out_) / "summary.json", {"seeds": len(seeds)})
        if len(calls) > 1 and stop == "experiment failed":
            raise experiments.ExperimentFailed("bound violated")
        return {}
    monkeypatch.setattr(control, "run", run)
    assert main(["reproduce", "control", "--seeds", "0", "--out", str(out)]) == 0
    rc = main(["reproduce", "control", "--seeds", "0", "1", "--out", str(out)])
    capsys.readouterr()
    assert (out / "runs" / "seed1.json").is_file()           # the run is stored regardless
    seeds = {json.loads((out / "summary.json").read_text())["seeds"],
             json.loads((out / "control.json").read_text())[0]["seeds"],
             int((out / "control.csv").read_text().split()[1])}
    want = {"interrupt": (130, {1}), "full disk": (2, {1}), "experiment failed": (1, {2}),
            "none": (0, {2})}[stop]
    assert (rc, seeds) == want
    assert not list(out.glob(".*.tmp"))                          # no temporary file left


def test_verify_and_list_without_a_home_or_with_an_empty_xdg_cache_home(
        tmp_path, capsys, monkeypatch):
    """No home (HOME unset and no passwd entry: Path.home() raises) ended `verify` in a
    traceback with exit 1, the "a check failed" code; an empty XDG_CACHE_HOME wrote the
    cache into ./pycheck/ (session 44). The XDG spec says to ignore an empty one."""
    _fake_verify(monkeypatch, True)
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    monkeypatch.chdir(tmp_path)

    def no_home(*a, **k):
        raise RuntimeError("Could not determine home directory.")
    with monkeypatch.context() as m:
        m.setattr(Path, "home", no_home)
        assert main(["verify", "L1"]) == 0 and main(["list"]) == 0
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(["verify", "L1"]) == 0
    assert (tmp_path / "home" / ".cache" / "pycheck" / "last-verify.json").is_file()
    assert not (tmp_path / "pycheck").exists()
    capsys.readouterr()


def test_paths_a_shell_left_unexpanded_or_dangling_and_folders_of_the_other_command(
        tmp_path, capsys, monkeypatch, stub_control):
    """Session 44 (a user's trial): `--out=~/x` made a folder named "~"; a dangling link as
    --out said "File exists"; fit and reproduce wrote into each other's folders."""
    _one_line_exit_2(capsys, ["reproduce", "control", "--out=~/x"], "did not expand '~'")
    assert not Path("~").exists()
    _one_line_exit_2(capsys, ["--manifest", "", "list"], "empty path")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    _one_line_exit_2(capsys, ["reproduce", "control", "--out", str(tmp_path / "link")],
                     "is a symbolic link to")
    fit = tmp_path / "fitdir"
    fit.mkdir()
    (fit / "fit.json").write_text("{}")
    _one_line_exit_2(capsys, ["reproduce", "control", "--out", str(fit)], "holds a pycheck fit")
    assert main(["reproduce", "control", "--out", str(tmp_path / "rep")]) == 0
    capsys.readouterr()
    np.save(tmp_path / "seq.npy", np.random.default_rng(0).standard_normal((50, 2)))
    _one_line_exit_2(capsys, ["fit", str(tmp_path / "seq.npy"), "--out",
                              str(tmp_path / "rep")], "holds the runs of a pycheck reproduce")
    _one_line_exit_2(capsys, ["fit", str(tmp_path / "seq.npy"), "--out", str(tmp_path / "f"),
                              "--test", str(tmp_path / "none.npy")], "--test: ")


def test_cite_outside_a_checkout_says_the_lean_files_are_not_there(tmp_path, capsys):
    shutil.copy(ROOT / "theorems.toml", tmp_path / "theorems.toml")
    assert main(["--manifest", str(tmp_path / "theorems.toml"), "cite", "T1"]) == 0
    captured = capsys.readouterr()
    assert "no LeJEPA/ beside" in captured.err and "@article{" in captured.out


def test_offsets_and_far_apart_scales_keep_every_direction():
    """Session 47 (a user's trial): offsets up to 5e12 made the rank warning say that x
    spans 1 direction (advising dim_out=1 for 4 latents), and column scales 1e-3 .. 1e6 lost
    a direction in the input whitening, which also switched off the linear-map candidate and
    the coverage check without a word. Both now see all 4 directions."""
    import warnings
    rng = np.random.default_rng(5)
    z = rng.standard_normal((400, 4))
    zn = 0.8 * z + 0.6 * rng.standard_normal((400, 4))
    a = rng.standard_normal((4, 4))
    kw = {"steps": 2, "progress": False, "seed": 0, "lam": 0}
    for scale, offset in (([1] * 4, [1e8, -1e8, 5e12, 0]), ([1e-3, 1e3, 1, 1e6], [0] * 4),
                          ([1e-3, 1e3, 1, 1e6], [1e8, -1e8, 5e12, 0])):
        x, xn = (np.tanh(v @ a) * scale + offset for v in (z, zn))
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)     # no rank warning
            warnings.simplefilter("ignore", LinearMapKept)
            enc = fit_encoder(x, xn, **kw)
        assert any(k.startswith("linear") for k in enc.candidates), enc.candidates
        assert enc.coverage is not None


def test_readout_sfa_where_nothing_would_compete_is_refused(tmp_path, capsys):
    """Session 47 (a user's trial): `--encoder mlp --option readout=sfa` trained, no read-out
    competed and fit.json recorded readout "sfa"; `--sequence obs --x obs` trained and
    ignored --x. Both are refused before any work (exit 2 from the CLI, nothing written)."""
    from pycheck.cli import main
    x = np.random.default_rng(0).standard_normal((200, 3))
    for kw, said in ((dict(encoder="mlp"), "got encoder='mlp'"),
                     (dict(encoder=torch.nn.Linear(3, 3)), "got a Linear without them"),
                     (dict(warm_start={"objective": "vicreg", "steps": 2}), "got a warm_start")):
        with pytest.raises(ValueError, match=f"readout='sfa' needs an encoder.*{said}"):
            fit_encoder(x, x + 0.1, readout="sfa", steps=2, progress=False, **kw)
    np.savez(tmp_path / "d.npz", x=x, x_next=x + 0.1, obs=x)
    np.save(tmp_path / "seq.npy", x)
    for argv, said in (
            (["--encoder", "mlp", "--option", "readout=sfa"], "readout='sfa' needs"),
            (["--sequence", "obs", "--x", "obs"], "--x/--x-next name the arrays of pairs; "
             "--sequence makes its pairs of consecutive rows"),
            (["--sequence", "obs", "--x-next", "obs"], "--sequence makes its pairs")):
        out = tmp_path / "o"
        assert main(["fit", str(tmp_path / "d.npz"), "--out", str(out), "--steps", "2",
                     *argv]) == 2
        assert said in capsys.readouterr().err and not out.exists()
    assert main(["fit", str(tmp_path / "seq.npy"), "--out", str(tmp_path / "o"), "--x", "a",
                 "--steps", "2"]) == 2
    assert "(an .npy: one sequence) makes its pairs" in capsys.readouterr().err
