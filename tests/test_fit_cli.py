"""`pycheck fit`: fit_encoder on a user's NumPy file from the shell -- outputs, sequences,
bad input (exit 2, nothing written) and an interrupted fit resumed to the same bits."""
import json

import numpy as np
import pytest
import torch

import pycheck
import pycheck.train as T
from pycheck.cli import main
from pycheck.metrics import linear_r2
from pycheck.train import embed
from pycheck.worlds import gaussian_ou_pairs

FAST = ["--steps", "60", "--batch-size", "128", "--option", "lam=0"]


def _mix(v):
    """A 2D tanh shear then a rotation, used only in this file's tests."""
    return np.stack([v[:, 0], v[:, 1] + 1.5 * np.tanh(2 * v[:, 0])], 1) @ [[0.8, -0.6],
                                                                          [0.6, 0.8]]


def _world_file(path, n, seed):
    z, zn = gaussian_ou_pairs(n, 2, 0.5, np.random.default_rng(seed))
    np.savez(path, x=_mix(z), x_next=_mix(zn), z=z, text=np.array(["a", "b"]))
    return path


@pytest.fixture
def pairs_file(tmp_path):
    return _world_file(tmp_path / "pairs.npz", 1200, 0)


def test_fit_writes_the_encoder_embedding_plot_and_report(tmp_path, pairs_file, capsys):
    out = tmp_path / "fit"
    assert main(["fit", str(pairs_file), "--out", str(out), "--z", "z", *FAST]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["embedding.npy", "encoder.pt",
                                                     "fit.json", "history.png",
                                                     "slowness.png"]
    report = json.loads((out / "fit.json").read_text())
    data = np.load(pairs_file)
    enc = torch.load(out / "encoder.pt", weights_only=False)
    h = np.load(out / "embedding.npy")
    assert h.shape == (1200, 2) and np.array_equal(h, embed(enc, data["x"]))
    assert report["pairs"] == 1200 and report["arguments"]["steps"] == 60
    assert report["threads"] == torch.get_num_threads()   # the bits depend on it (s43)
    # where it trained (s45; saved from the CPU whatever it was)
    assert report["device"].startswith("cuda" if torch.cuda.is_available() else "cpu")
    assert report["heldout_objective"] == enc.heldout_objective
    assert report["selected"] == enc.selected and report["lam"] == 0.0
    assert report["heavy_tailed"] == enc.heavy_tailed          # a list (empty here)
    # how the returned read-out compares with the linear map's, label-free (session 44)
    assert report["candidates"] == enc.candidates and any(
        k.startswith("linear") for k in report["candidates"])
    assert report["lam_fits"] is None                          # one weight given (lam=0)
    # the label-free check of what the linear map finds slow: nothing dropped here
    assert report["coverage"] == enc.coverage and report["coverage"]["flagged"] == []
    assert report["slowness"] == enc.slowness.tolist() and len(report["slowness"]) == 2
    assert report["slowness_se"] == enc.slowness_se.tolist()
    assert report["r2_hz"] == linear_r2(h, data["z"])
    assert report["r2_xz"] == linear_r2(data["x"], data["z"])
    # per latent (session 51: a pooled value hid a dropped latent)
    per = [linear_r2(h, data["z"][:, [j]]) for j in range(2)]
    assert report["r2_hz_per_latent"] == per
    printed = capsys.readouterr().out
    assert "R²(h→z)" in printed and f"(per latent {per[0]:.3f}, {per[1]:.3f})" in printed
    assert "test_r2_hz" not in report
    # what made it (session 49): the data's absolute path and checksum, --z, the versions
    import hashlib
    assert report["data_path"] == str(pairs_file.resolve()) and report["z"] == "z"
    assert report["data_sha256"] == hashlib.sha256(pairs_file.read_bytes()).hexdigest()
    assert report["provenance"]["pycheck"] == pycheck.__version__
    assert report["provenance"]["torch"] == torch.__version__
    assert report["settings"] == dict(objective="whitened", whiten="zca", ema=enc.settings["ema"],
                                      batch=128, steps=60, holdout=0.1, width=2,
                                      readout="sfa")
    # a finished fit is never overwritten
    assert main(["fit", str(pairs_file), "--out", str(out), *FAST]) == 2
    assert "already holds a finished fit" in capsys.readouterr().err


def test_fit_pairs_a_sequence_within_its_episodes(tmp_path):
    """(episodes, T, d): the pairs are consecutive rows of one episode, never across."""
    rng = np.random.default_rng(1)
    z = np.empty((3, 200, 2))
    z[:, 0] = rng.standard_normal((3, 2))
    for t in range(1, 200):
        z[:, t] = 0.5 * z[:, t - 1] + np.sqrt(0.75) * rng.standard_normal((3, 2))
    seq = _mix(z.reshape(-1, 2)).reshape(3, 200, 2)
    np.savez(tmp_path / "seq.npz", obs=seq, z=z)
    out = tmp_path / "fit"
    assert main(["fit", str(tmp_path / "seq.npz"), "--sequence", "obs", "--z", "z",
                 "--out", str(out), *FAST]) == 0
    report = json.loads((out / "fit.json").read_text())
    assert report["pairs"] == 3 * 199
    assert np.load(out / "embedding.npy").shape == (600, 2)
    # an .npy is one sequence
    np.save(tmp_path / "seq.npy", seq[0])
    assert main(["fit", str(tmp_path / "seq.npy"), "--out", str(tmp_path / "f2"), *FAST]) == 0
    assert json.loads((tmp_path / "f2" / "fit.json").read_text())["pairs"] == 199


def test_fit_pairs_ragged_episodes_named_by_an_episode_array(tmp_path, capsys):
    """--episode: episodes of 150, 260 and 90 rows laid end to end. The pairs are consecutive
    rows of one episode (each episode starts afresh, so a pair across a boundary would be
    an independent draw); the fit and its report are those of the same pairs given as x,
    x_next."""
    rng = np.random.default_rng(2)
    parts = []
    for length in (150, 260, 90):
        z = np.empty((length, 2))
        z[0] = rng.standard_normal(2)
        for t in range(1, length):
            z[t] = 0.5 * z[t - 1] + np.sqrt(0.75) * rng.standard_normal(2)
        parts.append(z)
    z = np.concatenate(parts)
    ep = np.repeat([7, 3, 5], [150, 260, 90])           # any distinct integers
    obs = _mix(z)
    pairs = np.concatenate([np.arange(a, b - 1) for a, b in ((0, 150), (150, 410),
                                                              (410, 500))])
    np.savez(tmp_path / "ep.npz", obs=obs, ep=ep, z=z, epf=ep.astype(float),
             split=np.r_[ep[:200], ep[:300]], short=ep[:-1])
    out = tmp_path / "fit"
    assert main(["fit", str(tmp_path / "ep.npz"), "--sequence", "obs", "--episode", "ep",
                 "--z", "z", "--out", str(out), *FAST]) == 0
    report = json.loads((out / "fit.json").read_text())
    assert report["pairs"] == 149 + 259 + 89 == len(pairs)
    assert report["layout"] == {"sequence": "obs", "episode": "ep"}
    assert np.load(out / "embedding.npy").shape == (500, 2)
    np.savez(tmp_path / "pairs.npz", x=obs[pairs], x_next=obs[pairs + 1])
    ref = tmp_path / "ref"
    assert main(["fit", str(tmp_path / "pairs.npz"), "--out", str(ref), *FAST]) == 0
    assert json.loads((ref / "fit.json").read_text())["layout"] == {"x": "x", "x_next": "x_next"}
    assert np.array_equal(np.load(out / "embedding.npy")[:50],
                          embed(torch.load(ref / "encoder.pt", weights_only=False), obs[:50]))
    capsys.readouterr()
    for extra, message in [
            (["--episode", "epf"], "--episode epf must hold integers (episode ids), not float64"),
            (["--episode", "short"], "--episode short has shape (499,); the sequence obs has "
                                     "500 rows"),
            (["--episode", "split"], "--episode split: episode 7 is in 2 separate runs of rows "
                                     "(starting at rows 0, 200); each episode's rows must be "
                                     "consecutive"),
            (["--episode", "nope"], "no array 'nope' (--episode)")]:
        assert main(["fit", str(tmp_path / "ep.npz"), "--sequence", "obs", *extra,
                     "--out", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "o").exists()
    np.savez(tmp_path / "one.npz", obs=obs[:4], ep=np.arange(4), deep=obs[:4].reshape(2, 2, 2),
             ep2=np.arange(2), x=obs, x_next=obs, empty=obs[:0], ep0=np.arange(0),
             flags=np.arange(4) == 3)
    for extra, message in [
            (["--sequence", "obs", "--episode", "ep"], "no episode has two rows"),
            # a review's finds: an empty sequence raised an IndexError, raw done flags
            # (booleans) were read as two episodes
            (["--sequence", "empty", "--episode", "ep0"], "no episode has two rows"),
            (["--sequence", "obs", "--episode", "flags"], "must hold integers (episode ids), "
                                                          "not bool"),
            (["--sequence", "deep", "--episode", "ep2"], "an (episodes, T, d) array needs no "
                                                         "--episode"),
            (["--episode", "ep"], "--episode names the episodes of a --sequence")]:
        assert main(["fit", str(tmp_path / "one.npz"), *extra, "--out", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "o").exists()
    np.save(tmp_path / "seq.npy", obs)
    assert main(["fit", str(tmp_path / "seq.npy"), "--episode", "ep", "--out",
                 str(tmp_path / "o")]) == 2
    assert "--sequence, --episode and --z need an .npz" in capsys.readouterr().err


@pytest.mark.parametrize("extra,message", [
    (["--x", "nope"], "no array 'nope' (--x); it holds text, x, x_next, z"),
    (["--x", "text"], "array 'text' is <U1, not real numbers"),
    (["--z", "text"], "array 'text' is <U1"),
    (["--sequence", "x", "--z", "text"], "array 'text'"),
    (["--option", "lam"], "expected KEY=VALUE"),
    # was "lam must be a finite number ... got '[0.1'" (session 51, a user's trial)
    (["--option", "readout=[0.1"], "--option 'readout=[0.1': '[0.1' is not valid JSON"),
    (["--option", "steps=3"], "use the command's own flag"),
    (["--option", "checkpoint=x"], "set by pycheck fit itself"),
    (["--option", "foo=1"], "takes only the option 'lam'"),
    (["--steps", "0"], "steps must be an integer"),
    (["--threads", "0"], "--threads must be >= 1"),
    (["--objective", "nope"], "invalid choice"),
])
def test_fit_refuses_bad_input_with_exit_2_and_writes_nothing(tmp_path, pairs_file, capsys,
                                                             extra, message):
    out = tmp_path / "sub" / "fit"
    # FAST without the flags `extra` gives (an option given twice is refused: session 48)
    fast = [a for i, a in enumerate(FAST) if not (a in extra and a.startswith("--")
                                                  and a != "--option")
            and not (i and FAST[i - 1] in extra and FAST[i - 1] != "--option")]
    assert main(["fit", str(pairs_file), "--out", str(out), *fast, *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "sub").exists()


def test_fit_refuses_an_option_given_twice(tmp_path, pairs_file, capsys):
    """`--steps 60 --steps 0` trained 0 steps... or 60: argparse keeps the last; a command
    line that says two things is refused (session 48, a user's trial of `verify --seed`)."""
    out = tmp_path / "fit"
    assert main(["fit", str(pairs_file), "--out", str(out), *FAST, "--steps", "5"]) == 2
    assert "--steps given more than once" in capsys.readouterr().err
    assert not out.exists()


def test_fit_refuses_unusable_files(tmp_path, capsys):
    (tmp_path / "junk.npz").write_bytes(b"not numpy")
    np.savez(tmp_path / "short.npz", x=np.ones((10, 2)), x_next=np.ones((9, 2)))
    np.savez(tmp_path / "objects.npz", x=np.array([{}, 1], dtype=object), x_next=np.ones(2))
    np.save(tmp_path / "deep.npy", np.ones((2, 3, 4, 2)))
    # a text file: NumPy's own message pointed at allow_pickle= (session 37)
    for name, message in [("missing.npz", "no such file"),
                          ("junk.npz", "it starts with b'not nu', not with NumPy's"),
                          ("short.npz", "same shape"), ("objects.npz", "cannot be read"),
                          ("deep.npy", "must have shape (T,), (T, d) or (episodes, T, d)")]:
        assert main(["fit", str(tmp_path / name), "--out", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "o").exists()
    assert main(["fit", str(tmp_path / "short.npz"), "--out", str(tmp_path / "junk.npz")]) == 2
    assert "not a folder" in capsys.readouterr().err
    # session 42: 1-D and 0-D pairs ended in an IndexError traceback; a folder or a device
    # given as the data file read "no such file"
    np.savez(tmp_path / "flat.npz", x=np.ones(10), x_next=np.ones(10))
    np.savez(tmp_path / "scalar.npz", x=np.float64(1), x_next=np.ones((10, 2)))
    for name, message in [("flat.npz", "array 'x' (--x) must have shape (N, d), one pair's "
                                       "view per row; got (10,) (for one scalar channel"),
                          ("scalar.npz", "array 'x' (--x) must have shape (N, d)"),
                          (".", "a folder, not a data file"),
                          ("/dev/null", "not a regular file")]:
        path = name if name.startswith("/") else str(tmp_path / name)
        assert main(["fit", path, "--out", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
        assert not (tmp_path / "o").exists()


def test_fit_names_the_row_of_a_non_finite_sequence_entry(tmp_path, capsys):
    seq = np.random.default_rng(0).standard_normal((50, 2))
    seq[7, 1] = np.nan
    np.savez(tmp_path / "s.npz", obs=seq)
    assert main(["fit", str(tmp_path / "s.npz"), "--sequence", "obs", "--out",
                 str(tmp_path / "o")]) == 2
    assert "sequence obs has 1 NaN or inf entries, the first at index (7, 1)" in \
        capsys.readouterr().err


def test_a_second_fit_into_a_folder_in_use_is_refused(tmp_path, pairs_file, capsys):
    """Two `pycheck fit` into one folder both trained, on one checkpoint, and the second
    overwrote the first's finished fit (session 42): the folder is now locked as
    reproduce's is (an flock; a second open file description conflicts in one process too)."""
    from pycheck.store import lock_folder
    out = tmp_path / "fit"
    with lock_folder(out, "pycheck fit"):
        assert main(["fit", str(pairs_file), "--out", str(out), *FAST]) == 2
    assert "is in use by another pycheck process writing into it, so this pycheck fit cannot write there" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_a_full_disk_gives_one_line_and_leaves_nothing(tmp_path, pairs_file, monkeypatch,
                                                       capsys):
    """ENOSPC while saving the checkpoint (torch.save's RuntimeError came through and the
    .tmp stayed) or while writing the results: one line naming the file, exit 2, nothing
    left (session 42)."""
    import errno
    import os

    import pycheck.store as S

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")
    out = tmp_path / "fit"
    with monkeypatch.context() as m:
        m.setattr(T.os, "replace", full)        # the checkpoint's rename at a phase's end
        assert main(["fit", str(pairs_file), "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out / 'fit.ckpt'}: No space left on device" in err
    assert not out.exists()
    write = S.atomic_write_bytes

    def full_at_report(path, data):
        if os.path.basename(path) == "fit.json":
            full()
        return write(path, data)
    with monkeypatch.context() as m:
        m.setattr(S, "atomic_write_bytes", full_at_report)
        assert main(["fit", str(pairs_file), "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err.splitlines()[-1] and "Traceback" not in err
    # no result is left, but the finished training is (session 44: it was thrown away)
    assert "the training is finished and kept" in err
    assert [p.name for p in out.iterdir()] == ["fit.ckpt"]


def _same_result(out, ref) -> None:
    """The fit in ``out`` wrote what the uninterrupted one in ``ref`` did."""
    assert np.array_equal(np.load(out / "embedding.npy"), np.load(ref / "embedding.npy"))
    got, want = (json.loads((d / "fit.json").read_text()) for d in (out, ref))
    for key in ("heldout_objective", "selected", "best_step", "history", "r2_hz"):
        assert got[key] == want[key], key


def test_interrupted_fit_resumes_to_the_uninterrupted_result(tmp_path, pairs_file,
                                                             monkeypatch, capsys):
    """Ctrl-C after 40 of the 60 steps: exit 130, the checkpoint and no report are left;
    the same command then resumes and writes what an uninterrupted fit writes."""
    args = ["--z", "z", *FAST]
    assert main(["fit", str(pairs_file), "--out", str(tmp_path / "ref"), *args]) == 0
    save, count = T._Resume.save, [0]

    def save_then_stop(self, i, state):
        save(self, i, state)
        count[0] += 1
        if count[0] == 40:
            raise KeyboardInterrupt
    out = tmp_path / "cut"
    with monkeypatch.context() as m:
        m.setattr(T._Resume, "due", lambda self: True)
        m.setattr(T._Resume, "save", save_then_stop)
        assert main(["fit", str(pairs_file), "--out", str(out), *args]) == 130
    assert [p.name for p in out.iterdir()] == ["fit.ckpt"]
    assert main(["fit", str(pairs_file), "--out", str(out), *args]) == 0
    assert "resuming from" in capsys.readouterr().err   # with the progress (session 48)
    assert not (out / "fit.ckpt").exists()
    _same_result(out, tmp_path / "ref")
    # the report says it was resumed, and at what thread count the first part trained
    # (session 49: it recorded only the resuming process's)
    report = json.loads((out / "fit.json").read_text())
    assert report["resumed_from"] == {"checkpoint": str(out / "fit.ckpt"),
                                      "threads": torch.get_num_threads()}
    assert json.loads((tmp_path / "ref" / "fit.json").read_text())["resumed_from"] is None


def test_a_fit_stopped_while_writing_its_results_keeps_the_training(tmp_path, pairs_file,
                                                                    monkeypatch, capsys):
    """Ctrl-C while the outputs are written: none of them is left, the checkpoint is, and
    the same command writes what an uninterrupted fit writes without training again
    (session 44: the folder kept encoder.pt and embedding.npy, and the training was lost)."""
    import pycheck.train as train_mod
    args = ["--z", "z", *FAST]
    assert main(["fit", str(pairs_file), "--out", str(tmp_path / "ref"), *args]) == 0
    out = tmp_path / "cut"

    def stop(*a, **k):
        raise KeyboardInterrupt
    with monkeypatch.context() as m:
        m.setattr(train_mod, "plot_slowness", stop)     # after encoder.pt, embedding, history
        assert main(["fit", str(pairs_file), "--out", str(out), *args]) == 130
    assert [p.name for p in out.iterdir()] == ["fit.ckpt"]
    assert "the training is finished and kept" in capsys.readouterr().err
    steps = []
    real_step = torch.optim.Adam.step
    with monkeypatch.context() as m:
        m.setattr(torch.optim.Adam, "step", lambda *a, **k: steps.append(1) or real_step(*a, **k))
        assert main(["fit", str(pairs_file), "--out", str(out), *args]) == 0
    assert "resuming from" in capsys.readouterr().err   # with the progress (session 48)
    assert steps == []                                 # no training step taken again
    assert not (out / "fit.ckpt").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        p.name for p in (tmp_path / "ref").iterdir())
    _same_result(out, tmp_path / "ref")


def test_fit_refuses_before_training_what_it_could_not_write_or_read(tmp_path, pairs_file,
                                                                    capsys, monkeypatch):
    """A zero-width sequence (a reshape traceback, exit 1), an output file that is a folder
    and an --out that cannot be written (both found only after the training): one line,
    exit 2, before any training (session 44)."""
    import os
    from pathlib import Path

    import pycheck.cli as cli
    trained = []
    monkeypatch.setattr(T, "_train", lambda *a, **k: trained.append(1))
    np.savez(tmp_path / "w0.npz", obs=np.zeros((100, 0)), z=np.zeros((100, 0)))
    np.save(tmp_path / "w0.npy", np.zeros((100, 0)))
    cases = [([str(tmp_path / "w0.npz"), "--sequence", "obs"], "sequence obs has no columns"),
             ([str(tmp_path / "w0.npy")], "has no columns")]
    blocked = tmp_path / "blocked"
    (blocked / "encoder.pt").mkdir(parents=True)
    cases.append(([str(pairs_file)], f"{blocked / 'encoder.pt'} exists and is not a file"))
    for argv, needle in cases:
        out = blocked if "encoder.pt" in needle else tmp_path / "o"
        assert main(["fit", *argv, "--out", str(out), *FAST]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err
    ro = tmp_path / "ro"
    ro.mkdir()
    monkeypatch.setattr(cli.os, "access", lambda path, mode: Path(path) != ro)
    assert main(["fit", str(pairs_file), "--out", str(ro), *FAST]) == 2
    assert "--out: " in capsys.readouterr().err and not os.listdir(ro)
    assert trained == [] and not (tmp_path / "o").exists()


def test_a_diverging_fit_exits_1_and_leaves_nothing(tmp_path, pairs_file, capsys):
    out = tmp_path / "fit"
    assert main(["fit", str(pairs_file), "--out", str(out), "--objective", "vicreg",
                 "--lr", "1e30", "--steps", "60", "--batch-size", "128"]) == 1
    assert "training diverged at step" in capsys.readouterr().err
    assert not out.exists()


def test_the_installed_command_exits_2_on_bad_input(tmp_path):
    """The console script itself (what a user types), not only main()."""
    import subprocess
    import sys
    from pathlib import Path
    exe = Path(sys.executable).parent / "pycheck"
    r = subprocess.run([str(exe), "fit", str(tmp_path / "none.npz"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "none.npz: no such file" in r.stderr
    assert not (tmp_path / "o").exists()


def test_two_processes_write_the_same_files(tmp_path, pairs_file):
    """docs/FIT.md's claim: the same command at the same thread count, in two processes,
    writes byte-identical embedding and figures, identical weights (encoder.pt's bytes differ
    by torch.save's random serialization id) and a fit.json that differs only in seconds."""
    import subprocess
    import sys
    from pathlib import Path
    exe = Path(sys.executable).parent / "pycheck"
    outs = [tmp_path / f"o{i}" for i in (1, 2)]
    for out in outs:
        r = subprocess.run([str(exe), "fit", str(pairs_file), "--out", str(out), "--z", "z",
                            "--threads", "1", *FAST], capture_output=True, text=True,
                           timeout=300)
        assert r.returncode == 0, r.stderr
    for name in ("embedding.npy", "history.png", "slowness.png"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    a, b = (torch.load(o / "encoder.pt", weights_only=False) for o in outs)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)

    def timeless(v):
        if isinstance(v, dict):
            return {k: timeless(w) for k, w in v.items() if k != "train_seconds"}
        return [timeless(w) for w in v] if isinstance(v, list) else v
    got, want = (json.loads((o / "fit.json").read_text()) for o in outs)
    assert "train_seconds" in got and timeless(got) == timeless(want)


def test_fit_scores_a_test_file_it_never_trained_on(tmp_path, pairs_file, capsys):
    test = _world_file(tmp_path / "test.npz", 900, 5)
    out = tmp_path / "fit"
    assert main(["fit", str(pairs_file), "--out", str(out), "--z", "z", "--test", str(test),
                 *FAST]) == 0
    report = json.loads((out / "fit.json").read_text())
    enc = torch.load(out / "encoder.pt", weights_only=False)
    t = np.load(test)
    ht = np.load(out / "test_embedding.npy")
    assert np.array_equal(ht, embed(enc, t["x"])) and report["test_pairs"] == 900
    assert report["test_r2_hz"] == linear_r2(ht, t["z"])
    assert report["test_r2_hz_per_latent"] == [linear_r2(ht, t["z"][:, [j]])
                                               for j in range(t["z"].shape[1])]
    assert report["test_r2_xz"] == linear_r2(t["x"], t["z"])
    assert report["test_whitened_alignment"] == T.whitened_alignment(
        ht, embed(enc, t["x_next"]))
    assert "test: whitened alignment" in capsys.readouterr().out
    # a test file of another width is refused before training
    np.savez(tmp_path / "wide.npz", x=np.ones((5, 3)), x_next=np.ones((5, 3)))
    assert main(["fit", str(pairs_file), "--out", str(tmp_path / "o"), "--test",
                 str(tmp_path / "wide.npz"), *FAST]) == 2
    assert "rows of width (3,), the data's are (2,)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_fit_hints_when_the_pairs_limit_the_encoder(tmp_path, capsys):
    """A linear world: the network cannot beat the linear map, which is kept, and the report
    and the last lines say so; the hint's other sign (the held-out objective lowest in the
    first half) and silence otherwise, on the helper itself."""
    from types import SimpleNamespace

    from pycheck.fitcmd import sample_hint
    z, zn = gaussian_ou_pairs(1200, 2, 0.5, np.random.default_rng(3))
    rot = np.array([[0.8, -0.6], [0.6, 0.8]])
    np.savez(tmp_path / "lin.npz", x=z @ rot, x_next=zn @ rot)
    out = tmp_path / "fit"
    import warnings
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert main(["fit", str(tmp_path / "lin.npz"), "--out", str(out), *FAST]) == 0
    # said once, by the hint: fit_encoder's own LinearMapKept is not passed on (session 46)
    assert not [w for w in seen if w.category.__name__ == "LinearMapKept"]
    report = json.loads((out / "fit.json").read_text())
    assert report["selected"].startswith("linear") and report["ordered"] is True
    assert "did not beat the linear map" in report["hint"]
    assert report["width_hint"] is None          # two latents of one rho: no gap
    assert report["hint"].endswith("with more steps (this run had 60; the default is 3000) "
                                   "or pairs the network may beat it")  # whole sentence (s36)
    printed = capsys.readouterr()
    assert printed.out.count("did not beat the linear map") == 1
    assert "hint: the network did not beat" in printed.out
    assert "did not beat the linear map" not in printed.err
    spiky = sample_hint(SimpleNamespace(selected="linear ridge 1e-06", best_step=2999,
                                        heavy_tailed=["trained", "sfa ridge 0.01"]), 3000)
    assert spiky.endswith("(trained, sfa ridge 0.01 left out: heavy-tailed outputs, a rare "
                          "spike that the held-out pairs cannot rate)")
    assert sample_hint(SimpleNamespace(selected="linear", best_step=2999), 3000).endswith(
        "with more pairs the network may beat it")
    early = sample_hint(SimpleNamespace(selected="trained", best_step=599), 3000)
    assert "lowest after 600 of 3000 steps (best_step 599)" in early
    assert "more pairs would likely give a better encoder" in early   # no history: as before
    # the training batches' alignment falling past the best step: overfitting, more pairs;
    # rising with the held-out value (lam > 0 trading alignment for SIGReg's term): not
    # (it said "more pairs" there too: session 51, a user's trial)
    fell = [(s, {"alignment": 1.0 - s / 6000}) for s in range(0, 3000, 50)]
    rose = [(s, {"alignment": 0.2 + s / 6000}) for s in range(0, 3000, 50)]
    assert "more pairs would likely" in sample_hint(
        SimpleNamespace(selected="trained", best_step=599, history=fell), 3000)
    said = sample_hint(SimpleNamespace(selected="trained", best_step=599, history=rose), 3000)
    assert said.endswith("and the training batches' value rose past it as well: not "
                         "overfitting, so more pairs would not help (with lam > 0 the training "
                         "objective trades alignment for SIGReg's term; otherwise try more "
                         "steps)"), said
    assert sample_hint(SimpleNamespace(selected="trained", best_step=1500), 3000) is None
    assert sample_hint(SimpleNamespace(selected="sfa ridge 1e-06", best_step=2999), 3000) is None
    assert sample_hint(SimpleNamespace(), 3000) is None     # no held-out pairs: no selection


def test_fit_with_the_trained_readout_names_no_readout_choice(tmp_path, pairs_file, capsys):
    """SIGReg keeps its trained read-out (no SFA choice is made): the last line gives the
    held-out objective without a "(None)" after it, and fit.json's selected is null."""
    out = tmp_path / "fit"
    assert main(["fit", str(pairs_file), "--out", str(out), "--objective", "sigreg",
                 "--steps", "40", "--batch-size", "128"]) == 0
    text = capsys.readouterr().out
    assert "held-out sigreg loss" in text and "(None)" not in text
    assert json.loads((out / "fit.json").read_text())["selected"] is None


def test_fit_reads_a_one_dimensional_sequence_as_scalar_observations(tmp_path):
    """A (T,) array is one sequence of scalars, as (T, 1); a (T,) --z is one latent per row."""
    rng = np.random.default_rng(4)
    z = np.empty(1500)
    z[0] = rng.standard_normal()
    for t in range(1, 1500):
        z[t] = 0.8 * z[t - 1] + 0.6 * rng.standard_normal()
    obs = z + 0.5 * np.tanh(2 * z)
    np.savez(tmp_path / "scalar.npz", obs=obs, z=z)
    out = tmp_path / "fit"
    assert main(["fit", str(tmp_path / "scalar.npz"), "--sequence", "obs", "--z", "z",
                 "--out", str(out), *FAST]) == 0
    report = json.loads((out / "fit.json").read_text())
    h = np.load(out / "embedding.npy")
    assert report["pairs"] == 1499 and report["width"] == 1 and h.shape == (1500, 1)
    assert report["r2_hz"] == linear_r2(h, z[:, None])
    assert report["r2_hz_per_latent"] is None                  # one latent: the pooled value
    np.save(tmp_path / "scalar.npy", obs)                       # an .npy: the same pairs
    assert main(["fit", str(tmp_path / "scalar.npy"), "--out", str(tmp_path / "f2"), *FAST]) == 0
    assert np.array_equal(np.load(tmp_path / "f2" / "embedding.npy"), h)


def test_fit_names_a_transposed_sequence_not_its_latents(tmp_path, capsys):
    """A (d, T) sequence with a (T, n) --z was blamed on --z (noticed in session 48)."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((300, 3))
    np.savez(tmp_path / "t.npz", obs=np.tanh(z @ rng.standard_normal((3, 5))).T, z=z)
    capsys.readouterr()
    assert main(["fit", str(tmp_path / "t.npz"), "--sequence", "obs", "--z", "z",
                 "--out", str(tmp_path / "o")]) == 2
    assert ("sequence obs has shape (5, 300) and --z z (300, 3): the sequence looks "
            "transposed" in capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def _bad_files(tmp_path):
    """The files of session 36's probe, each refused before training."""
    z, zn = gaussian_ou_pairs(1200, 2, 0.5, np.random.default_rng(0))
    x, xn = _mix(z), _mix(zn)
    nan = x[:300].copy()
    nan[5, 1] = np.nan
    files = dict(
        t_nan=dict(x=nan, x_next=xn[:300]), t_bool=dict(x=x[:300] > 0, x_next=xn[:300] > 0),
        t_len=dict(x=x[:300], x_next=xn[:200]), t_one=dict(x=x[:1], x_next=xn[:1]),
        t_zconst=dict(x=x[:300], x_next=xn[:300], z=np.ones((300, 2))),
        zbad=dict(x=x, x_next=xn, zc=np.ones((1200, 1)), zh=z * 1e200),
        xn_huge=dict(x=x, x_next=xn * 1e40),
        xn_const=dict(x=x, x_next=np.c_[xn[:, :1], np.ones(1200)]),
        tiny=dict(x=x * 1e-300, x_next=xn * 1e-300))
    for name, arrays in files.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
    np.save(tmp_path / "t_seq.npy", x[:300])          # a sequence beside an .npz of pairs
    raw = (tmp_path / "zbad.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[:len(raw) // 2])
    np.savez_compressed(tmp_path / "comp.npz", x=x, x_next=xn)
    b = bytearray((tmp_path / "comp.npz").read_bytes())
    b[200:400] = bytes(v ^ 0xFF for v in b[200:400])
    (tmp_path / "corrupt.npz").write_bytes(bytes(b))


@pytest.mark.parametrize("data, extra, message", [
    ("pairs", ["--test", "t_nan.npz"], "--test t_nan.npz: x contains NaN"),
    ("pairs", ["--test", "t_bool.npz"], "x is boolean"),
    ("pairs", ["--test", "t_len.npz"], "x and x_next have shapes (300, 2) and (200, 2)"),
    ("pairs", ["--test", "t_one.npz"], "1 pairs; scoring a 2-wide embedding needs at least 4"),
    ("pairs", ["--z", "z", "--test", "t_zconst.npz"], "--z z in --test t_zconst.npz: z is "
                                                     "constant"),
    # read as a sequence all the same (session 51, a user's trial)
    ("pairs", ["--test", "t_seq.npy"], "--test t_seq.npy is an .npy (one sequence) but DATA"),
    ("zbad", ["--z", "zc"], "--z zc: z is constant"),
    ("zbad", ["--z", "zh"], "--z zh: R²(x→z) is not a number"),
    ("xn_huge", [], "x_next's column(s) [0, 1] have spreads 9.88e+39, 1.02e+40 times"),
    ("xn_const", [], "x_next: column(s) [1] are constant on the training pairs"),
    ("tiny", [], "vary too little for float64 second moments"),
    ("trunc", [], "trunc.npz: not a NumPy .npy/.npz file"),
    ("corrupt", [], "corrupt.npz: array 'x' cannot be read"),
    ("pairs", ["--device", "meta"], "training runs on cpu or cuda, not meta"),
    ("pairs", ["--option", 'warm_start={"objective": "vicreg", "steps": 5, "options": [1]}'],
     "warm_start's 'options' must be a dict"),
])
def test_fit_checks_everything_before_training(tmp_path, pairs_file, capsys, monkeypatch,
                                               data, extra, message):
    """Session 36: each of these trained to the end and then failed with a traceback, exit 1
    and a half-written folder (a bad --test file, a constant or overflowing --z, a corrupt
    file, a device torch cannot train on), or diverged at step 0 (x_next 1e40 x), or was
    accepted (a column constant in x_next alone), or was misnamed (1e-300 x: "constant").
    Now: exit 2 with the message, before any training step, and nothing written."""
    _bad_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(T, "_train", lambda *a, **k: pytest.fail("trained"))
    out = tmp_path / "sub" / "fit"
    path = pairs_file if data == "pairs" else tmp_path / f"{data}.npz"
    assert main(["fit", str(path), "--out", str(out), *FAST, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "sub").exists()


def test_fit_refuses_a_checkpoint_of_another_command_in_cli_words(tmp_path, pairs_file,
                                                                   capsys):
    """Session 36: it said "resuming from" on stdout, then refused with the API's "(or pass
    another path)"."""
    out = tmp_path / "fit"
    out.mkdir()
    torch.save(dict(fingerprint="another", phases=[]), out / "fit.ckpt")
    assert main(["fit", str(pairs_file), "--out", str(out), *FAST]) == 2
    captured = capsys.readouterr()
    assert "resuming" not in captured.out + captured.err
    assert "its fit.ckpt is not from this command and data" in captured.err
    assert "pass another --out" in captured.err and (out / "fit.ckpt").exists()


def test_a_warm_started_fit_counts_its_checkpoint_from_the_first_step(tmp_path, pairs_file):
    """best_step and the history count steps alike (session 36: best_step was the second
    phase's own count, history.png's checkpoint line warm_start["steps"] too early)."""
    out = tmp_path / "fit"
    assert main(["fit", str(pairs_file), "--out", str(out), *FAST, "--option",
                 'warm_start={"objective": "vicreg", "steps": 40}']) == 0
    report = json.loads((out / "fit.json").read_text())
    held = [(s, p["heldout"]) for s, p in report["history"] if "heldout" in p and s >= 40]
    assert report["best_step"] >= 40
    assert report["best_step"] == min(held, key=lambda t: t[1])[0]


def test_ctrl_c_before_the_first_save_leaves_no_folder(tmp_path, pairs_file, monkeypatch):
    """Session 36: an empty --out folder was left behind."""
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(T, "_train", interrupted)
    out = tmp_path / "sub" / "fit"
    assert main(["fit", str(pairs_file), "--out", str(out), *FAST]) == 130
    assert not (tmp_path / "sub").exists()


def test_fit_takes_a_one_dimensional_z_for_pairs(tmp_path, capsys):
    """A (N,) latent was accepted with --sequence but refused for pairs (session 42)."""
    z, zn = gaussian_ou_pairs(600, 1, 0.5, np.random.default_rng(4))
    x = np.concatenate([z, np.tanh(z)], 1)
    xn = np.concatenate([zn, np.tanh(zn)], 1)
    np.savez(tmp_path / "p.npz", x=x, x_next=xn, z=z[:, 0])
    out = tmp_path / "fit"
    assert main(["fit", str(tmp_path / "p.npz"), "--z", "z", "--out", str(out), *FAST]) == 0
    report = json.loads((out / "fit.json").read_text())
    assert report["r2_xz"] == linear_r2(x, z)


def test_the_commands_default_steps_are_fit_encoders():
    import inspect

    from pycheck import fitcmd
    from pycheck.train import fit_encoder
    assert fitcmd.DEFAULT_STEPS == inspect.signature(fit_encoder).parameters["steps"].default


def test_width_hint_says_to_refit_with_the_gap_width():
    """Session 47 (a user's trial): 3 latents in 20 channels had slowness 0.47-0.53 against
    0.82 and up, and the leading 3 outputs reached R² 0.917 where --dim-out 3 reached 0.975;
    nothing said so. The hint names the widest clear gap (ratio >= WIDTH_GAP_RATIO and more
    than 2 standard errors each apart), in any order of the outputs, and is silent where the
    spectrum has no such gap or its standard errors cannot tell."""
    from pycheck.fitcmd import WIDTH_GAP_RATIO, width_hint
    trial = [0.50, 0.47, 0.53] + [0.82 + 0.05 * i for i in range(17)]
    hint = width_hint(trial[::-1], [0.02] * 20)
    assert hint.startswith("the 3 slowest outputs (slowness 0.47-0.53) stand apart from the "
                           "other 17 (0.82 and up): if the world has 3 latents, refit with "
                           "--dim-out 3, which usually recovers them better")
    one = width_hint([0.1, 1.0, 1.9, 2.0], [0.01] * 4)
    assert one.startswith("the 1 slowest output (slowness 0.10) stands apart from the other 3 "
                          "(1.00 and up): if the world has 1 latent, refit with --dim-out 1, "
                          "which usually recovers it better than the leading output of")
    assert width_hint([0.4, 0.41, 0.42, 0.45], [0.02] * 4) is None        # no gap
    assert width_hint([0.4, 0.9], [0.2, 0.2]) is None                     # within 2 s.e.
    lo = 0.4
    assert width_hint([lo, WIDTH_GAP_RATIO * lo * 0.999], [1e-4] * 2) is None
    assert width_hint([lo, WIDTH_GAP_RATIO * lo], [1e-4] * 2) is not None
    # the widest of two gaps
    assert "the 2 slowest" in width_hint([0.2, 0.35, 1.5, 1.9], [0.01] * 4)


def test_an_interrupted_fit_says_what_it_kept(tmp_path, capsys, monkeypatch):
    """Session 47 (a user's trial): Ctrl-C 4 s into a fit said "finished results are kept;
    rerun to resume" while the folder had been removed (no checkpoint saved yet). It now
    says which: the checkpoint file, or nothing."""
    from pathlib import Path

    from pycheck import train
    z, zn = gaussian_ou_pairs(300, 2, 0.5, np.random.default_rng(3))
    np.savez(tmp_path / "d.npz", x=z, x_next=zn)
    out = tmp_path / "fit"

    def stopped(*a, checkpoint=None, **kw):
        if kw.get("steps") == 7:             # a save happened before the Ctrl-C
            Path(checkpoint).write_bytes(b"state")
        raise KeyboardInterrupt
    monkeypatch.setattr(train, "fit_encoder", stopped)
    assert main(["fit", str(tmp_path / "d.npz"), "--out", str(out), *FAST]) == 130
    err = capsys.readouterr().err
    assert "interrupted (before the first checkpoint save: nothing was kept)" in err
    assert "finished results are kept" not in err and not out.exists()
    assert main(["fit", str(tmp_path / "d.npz"), "--out", str(out), "--steps", "7"]) == 130
    assert (f"interrupted (the training state is kept in {out / 'fit.ckpt'}; rerun the same "
            "command to resume)") in capsys.readouterr().err


def test_fit_prints_the_fits_warnings_as_one_line_each_once(tmp_path, capsys):
    """Session 48, a user's trial: the rank warning printed as a Python warning naming a
    line of train.py and its source, once per fit of the default's two. Channels that are
    linear copies of others (5 columns spanning 3 directions) now narrow the embedding to 3
    outputs, said in one line."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3000, 3))
    zn = 0.7 * z + np.sqrt(1 - 0.49) * rng.standard_normal((3000, 3))
    a = rng.standard_normal((3, 5))
    np.savez(tmp_path / "d.npz", x=(z + np.tanh(z)) @ a, x_next=(zn + np.tanh(zn)) @ a)
    assert main(["fit", str(tmp_path / "d.npz"), "--out", str(tmp_path / "o"), *FAST]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "WidthReduced" in ln]
    assert lines == ["pycheck fit: WidthReduced: x's 5 columns span 3 directions: the embedding "
                     "has 3 outputs (no latent is lost: an invertible mixing of n latents spans "
                     "at least n); pass --dim-out 5 for 5"], err
    assert "train.py" not in err and "warnings.warn" not in err
    assert np.load(tmp_path / "o" / "embedding.npy").shape == (3000, 3)



def test_fit_on_float16_copies_narrows_the_embedding_and_says_float16_once(tmp_path, capsys):
    """Session 48, a user's trial: float16 rounding left covariance eigenvalues near eps²/12
    that counted as directions, so 6 float16 columns spanning 3 kept 6 outputs, and the
    float16 warning came four times (two raw Python warnings, one naming "the rows")."""
    rng = np.random.default_rng(1)
    z = rng.standard_normal((3000, 3))
    zn = 0.7 * z + np.sqrt(1 - 0.49) * rng.standard_normal((3000, 3))
    a = rng.standard_normal((3, 6))
    np.savez(tmp_path / "d.npz", x=((z + np.tanh(z)) @ a).astype(np.float16),
             x_next=((zn + np.tanh(zn)) @ a).astype(np.float16))
    assert main(["fit", str(tmp_path / "d.npz"), "--out", str(tmp_path / "o"), *FAST]) == 0
    err = capsys.readouterr().err
    assert err.count("LowPrecisionInput") == 1 and "holds float16 values" in err, err
    assert "is float16" not in err and "the rows" not in err
    assert "WidthReduced: x's 6 columns span 3 directions" in err
    assert np.load(tmp_path / "o" / "embedding.npy").shape == (3000, 3)
