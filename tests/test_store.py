"""The crash-safe writers and the resumable run store."""
import json

import pytest

from pycheck.store import RunStore, atomic_write_text, read_json, write_json, write_table


def test_atomic_write_leaves_no_temp_files(tmp_path):
    p = atomic_write_text(tmp_path / "a" / "b.txt", "hello")
    assert p.read_text() == "hello"
    assert [f.name for f in p.parent.iterdir()] == ["b.txt"]


def test_failed_write_keeps_old_file(tmp_path):
    p = tmp_path / "r.json"
    write_json(p, {"x": 1})

    class Boom:  # not JSON-serializable: the write must fail before replacing the file
        pass

    with pytest.raises(TypeError):
        write_json(p, {"x": Boom()})
    assert json.loads(p.read_text()) == {"x": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["r.json"]


def test_json_is_strict_for_nonfinite(tmp_path):
    import numpy as np
    p = write_json(tmp_path / "r.json", {"a": np.float64("nan"), "b": float("inf"), "c": np.arange(2)})
    assert json.loads(p.read_text()) == {"a": None, "b": "inf", "c": [0, 1]}


def test_write_table_formats(tmp_path):
    rows = [{"N": 2, "r2": 0.99999}, {"N": 4, "r2": 0.5}]
    js, csv, md = write_table(tmp_path, "t", rows, title="T")
    assert json.loads(js.read_text()) == rows
    assert csv.read_text().splitlines() == ["N,r2", "2,0.99999", "4,0.5"]
    assert "| N | r2 |" in md.read_text() and "| 2 | 0.99999 |" in md.read_text()
    with pytest.raises(ValueError):
        write_table(tmp_path, "empty", [])
    # a missing value is an empty cell in both, not "None" in the markdown (session 47)
    js, csv, md = write_table(tmp_path, "n", [{"a": 1, "b": None}])
    assert csv.read_text().splitlines() == ["a,b", "1,"]
    assert "| 1 |  |" in md.read_text() and "None" not in md.read_text()


def test_runstore_resumes_without_recomputing(tmp_path):
    calls = []

    def work():
        calls.append(1)
        return {"r2": 0.5}

    s1 = RunStore(tmp_path)
    assert s1.run("sigreg N=2/seed 0", work) == {"r2": 0.5}
    s2 = RunStore(tmp_path)  # a new process after an interruption
    assert s2.run("sigreg N=2/seed 0", work) == {"r2": 0.5}
    assert len(calls) == 1 and s2.reused == 1 and s2.computed == 0


def test_runstore_interrupted_run_is_redone(tmp_path):
    s = RunStore(tmp_path)

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        s.run("k", interrupted)
    assert not s.has("k") and list(s.dir.iterdir()) == []
    assert s.run("k", lambda: {"ok": True}) == {"ok": True}


def test_runstore_refuses_runs_made_with_another_config(tmp_path):
    cfg = {"steps": 100, "seeds": [0]}
    RunStore(tmp_path, cfg).run("a", lambda: {"r2": 1.0})
    RunStore(tmp_path, dict(cfg, seeds=[0, 1]))  # more seeds: same runs stay valid
    with pytest.raises(ValueError, match="differs in: steps"):
        RunStore(tmp_path, dict(cfg, steps=200))


def test_runstore_refuses_unstamped_runs_when_given_a_config(tmp_path):
    RunStore(tmp_path).run("a", lambda: {"r2": 1.0})
    with pytest.raises(ValueError, match="without a config stamp"):
        RunStore(tmp_path, {"steps": 1})


def test_result_files_are_world_readable(tmp_path):
    import os
    import stat
    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) & 0o044 == 0o044


def _square(x: int, scale: int = 1) -> dict:
    return {"y": x * x * scale}


def test_per_run_store_recomputes_only_the_runs_whose_settings_changed(tmp_path):
    """A changed config in a per_run store recomputes exactly the runs whose task changed;
    the replaced ones are kept aside, and the stamp becomes the new config."""
    cfg = {"scale": {"a": 1, "b": 1}, "seeds": [0]}

    def tasks(c):
        return {k: (_square, dict(x=3, scale=c["scale"][k])) for k in ("a", "b")}

    s1 = RunStore(tmp_path, cfg, per_run=True)
    assert s1.run_many(tasks(cfg)) == {"a": {"y": 9}, "b": {"y": 9}}
    assert s1.computed == 2
    new = {"scale": {"a": 1, "b": 2}, "seeds": [0]}
    with pytest.raises(ValueError, match="differs in: scale"):
        RunStore(tmp_path, new)                   # without per_run: refused as before
    s2 = RunStore(tmp_path, new, per_run=True)
    assert s2.run_many(tasks(new)) == {"a": {"y": 9}, "b": {"y": 18}}
    assert (s2.reused, s2.computed, s2.replaced) == (1, 1, 1)
    assert read_json(tmp_path / "runs" / "replaced" / "b.json")["y"] == 9
    assert read_json(tmp_path / "runs" / "config.json") == {"scale": {"a": 1, "b": 2}}
    assert read_json(tmp_path / "runs" / "b.json")[RunStore.TASK] == {
        "fn": f"{__name__}._square", "kwargs": {"x": 3, "scale": 2}}
    s3 = RunStore(tmp_path, new, per_run=True)    # and now nothing is redone
    assert s3.run_many(tasks(new)) == {"a": {"y": 9}, "b": {"y": 18}}
    assert (s3.reused, s3.computed, s3.replaced) == (2, 0, 0)
    third = {"scale": {"a": 1, "b": 3}}                # a second replacement of b
    RunStore(tmp_path, third, per_run=True).run_many(tasks(third))
    assert read_json(tmp_path / "runs" / "replaced" / "b.json")["y"] == 9
    assert read_json(tmp_path / "runs" / "replaced" / "b.1.json")["y"] == 18
    # back to the second settings: b's run of them returns from replaced/, not retrained
    # (session 36: a --collect of the wrong profile had moved runs aside for good)
    s4 = RunStore(tmp_path, new, per_run=True)
    assert s4.run_many(tasks(new)) == {"a": {"y": 9}, "b": {"y": 18}}
    assert (s4.reused, s4.computed, s4.replaced) == (2, 0, 1)
    assert not (tmp_path / "runs" / "replaced" / "b.1.json").exists()
    assert read_json(tmp_path / "runs" / "replaced" / "b.2.json")["y"] == 27


def test_per_run_store_never_trusts_unrecorded_runs_after_a_config_change(tmp_path):
    """Runs stored before runs recorded their task: under the same stamp they get their
    record; under a changed stamp they are recomputed, since nothing says how they were
    made."""
    cfg = {"scale": 1}
    RunStore(tmp_path, cfg).run_many({"a": (_square, dict(x=2))})   # no record (not per_run)
    assert RunStore.TASK not in read_json(tmp_path / "runs" / "a.json")
    s = RunStore(tmp_path, {"scale": 2}, per_run=True)
    assert s.run_many({"a": (_square, dict(x=2))}) == {"a": {"y": 4}}
    assert (s.reused, s.computed, s.replaced) == (0, 1, 1)
    # same stamp: the unrecorded run is reused and given its record
    other = tmp_path / "other"
    RunStore(other, cfg).run_many({"a": (_square, dict(x=2))})
    s = RunStore(other, cfg, per_run=True)
    s.run_many({"a": (_square, dict(x=2))})
    assert (s.reused, s.computed) == (1, 0)
    assert read_json(other / "runs" / "a.json")[RunStore.TASK]["kwargs"] == {"x": 2}


def test_per_run_store_refuses_closure_runs_after_a_config_change(tmp_path):
    RunStore(tmp_path, {"k": 1}, per_run=True).run_many({"a": (_square, dict(x=1))})
    s = RunStore(tmp_path, {"k": 2}, per_run=True)
    with pytest.raises(ValueError, match="not a run_many task"):
        s.run("a", lambda: {"y": 1})


def test_summary_keeps_a_log_of_every_invocation(tmp_path):
    """A reproduce that reuses every run must not hide what the first one computed: the
    summary's ``invocations`` grows by one entry per invocation, and a summary written
    before the log existed contributes its counts as the first entry."""
    summary = tmp_path / "summary.json"
    write_json(summary, {"runs_computed": 5, "runs_reused": 1, "wall_seconds": 1037.3})
    tasks = {"a": (_square, dict(x=2)), "b": (_square, dict(x=3))}
    s1 = RunStore(tmp_path, {"k": 1}, per_run=True)
    s1.run_many(tasks)
    first = s1.accounting(summary)
    write_json(summary, {"rows": [], **first})
    s2 = RunStore(tmp_path, {"k": 1}, per_run=True)
    s2.run_many(dict(tasks, c=(_square, dict(x=4))))
    second = s2.accounting(summary)
    assert (second["runs_computed"], second["runs_reused"]) == (1, 2)
    log = second["invocations"]
    assert [(e["runs_computed"], e["runs_reused"]) for e in log] == [(5, 1), (2, 0), (1, 2)]
    assert log[0]["wall_seconds"] == 1037.3 and "finished" not in log[0]
    assert all(e["wall_seconds"] >= 0 and e["runs_replaced"] == 0 for e in log[1:])
    assert RunStore(tmp_path / "new").accounting(tmp_path / "new" / "s.json")["invocations"] \
        [0]["runs_computed"] == 0                      # no earlier summary: one entry
    # session 45: each invocation says what made its numbers, the summary the settings
    import torch

    from pycheck import __version__
    prov = log[-1]["provenance"]
    assert prov["pycheck"] == __version__ and prov["torch"] == torch.__version__
    # the count the runs train with (the config's threads, default 1), not this process's
    # (a trial read 2 for runs trained at 1: session 47)
    assert prov["torch_threads"] == 1
    s3 = RunStore(tmp_path / "three", {"k": 1, "threads": 3}, per_run=True)
    assert s3.accounting(tmp_path / "three.json")["invocations"][-1]["provenance"][
        "torch_threads"] == 3
    assert prov["cuda"] == (torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)
    assert prov["commit"] and prov["cpu"] and second["settings"] == {"k": 1}


def test_line_progress_prints_lines_only_in_a_log(capsys):
    """In a log (stderr not a terminal, as under capsys) a line at most every ``every``
    seconds and one at the end; disabled, or with nothing done, it prints nothing."""
    from pycheck.store import LineProgress
    p = LineProgress(3, "job", every=0.0)
    for i in range(3):
        p.update(i + 1)
    p.close()
    p.close()                                      # closing twice adds nothing
    lines = capsys.readouterr().err.splitlines()
    assert [ln.split(",")[0] for ln in lines] == [
        "pycheck: job: 1 / 3 (33%)", "pycheck: job: 2 / 3 (67%)", "pycheck: job: 3 / 3 (100%)"]
    quiet = LineProgress(3, "job", every=3600.0)   # the interval bounds the lines
    for i in range(3):
        quiet.update(i + 1)
    quiet.close()
    assert [ln.split(",")[0] for ln in capsys.readouterr().err.splitlines()] == [
        "pycheck: job: 3 / 3 (100%)"]                 # only the closing line
    off = LineProgress(3, "job", every=0.0, enabled=False)
    off.update(1)
    off.close()
    LineProgress(3, "job", every=0.0).close()      # nothing done: no line
    assert capsys.readouterr().err == ""


def test_a_write_failure_names_the_file_asked_for(tmp_path):
    """Session 36: a read-only folder gave "runs/.config.json.XXXX.tmp: Permission denied",
    the temporary file's name. Needs a user without CAP_DAC_OVERRIDE to see the refusal, so
    a full disk is simulated instead: os.fsync raising ENOSPC."""
    import errno
    from unittest import mock

    from pycheck.store import atomic_write_bytes
    target = tmp_path / "config.json"
    with mock.patch("os.fsync", side_effect=OSError(errno.ENOSPC, "No space left on device")):
        with pytest.raises(OSError) as info:
            atomic_write_bytes(target, b"{}")
    assert info.value.filename == str(target) and info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []            # the temporary file is gone too


def test_a_stamp_that_is_not_an_object_is_named(tmp_path):
    """A stamp of valid JSON but not an object ([]) raised AttributeError (session 42)."""
    RunStore(tmp_path, {"a": 1}).run("r1", lambda: {"ok": 1})
    (tmp_path / "runs" / "config.json").write_text("[]")
    with pytest.raises(ValueError, match="not a config stamp"):
        RunStore(tmp_path, {"a": 1})
    RunStore(tmp_path, {"a": 1}, per_run=True)        # per-run records: the runs are kept
