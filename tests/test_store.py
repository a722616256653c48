"""The crash-safe writers and the resumable run store."""
import json

import pytest

from pycheck.store import RunStore, atomic_write_text, write_json, write_table


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
