"""The experiments' Python API (``pycheck.experiments``): what a user calling ``run()``
from a script gets, checked as ``pycheck reproduce`` checks it (session 50, a user's trial:
duplicate and unsorted seeds went through and changed the tables, ``seeds=[]`` raised
IndexError after creating the folder, an unwritable folder raised FileNotFoundError)."""
import json
import shutil
from pathlib import Path

import pytest

from pycheck import experiments as E
from pycheck.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seeds, needle", [
    ([0, 0], "lists a seed more than once: 0 0"),
    ([], "must be a non-empty list of integers, got []"),
    (5, "must be a non-empty list of integers, got 5"),
    ([True], "must be a non-empty list of integers"),
    ([0.5], "must be a non-empty list of integers"),
    ([-1], "must be integers in [0, 2^63)"),
])
@pytest.mark.parametrize("name", ["gennorm", "control", "twod", "scaling", "anisotropic",
                                  "reacher"])
def test_run_refuses_bad_seeds_before_any_work(name, seeds, needle, tmp_path):
    cfg = E.load_config(name)
    with pytest.raises(E.ExperimentError, match=None) as info:
        E.get(name).run(cfg, tmp_path / "o", seeds)
    assert needle in str(info.value)
    assert not (tmp_path / "o").exists()         # nothing written


def test_check_seeds_sorts():
    assert E.check_seeds([6, 5, 0]) == [0, 5, 6]
    assert E.check_seeds((3,)) == [3]


def test_run_refuses_an_unwritable_folder_and_a_config_that_is_not_a_dict(tmp_path):
    cfg = E.load_config("gennorm")
    (tmp_path / "file").write_text("x")
    for out in ("/proc/nope", tmp_path / "file"):
        with pytest.raises(E.ExperimentError, match="out: "):
            E.get("gennorm").run(cfg, out, [0])
    with pytest.raises(E.ExperimentError, match="cfg must be a dict"):
        E.get("gennorm").run("experiments/gennorm.toml", tmp_path / "o", [0])


def test_load_config_reads_the_profile_and_names_a_missing_one(tmp_path):
    cfg = E.load_config("control", "quick", ROOT)
    assert cfg["profile"] == "quick" and "budgets" in cfg
    cfg["budgets"] = [1]                          # a copy: the next load is unchanged
    assert E.load_config("control")["budgets"] != [1]
    with pytest.raises(E.ExperimentError, match=r"has no \[fast\] profile"):
        E.load_config("control", "fast")
    with pytest.raises(E.ExperimentError, match="no config"):
        E.load_config("control", root=tmp_path)
    with pytest.raises(E.ExperimentError, match="unknown experiment"):
        E.load_config("nope")


def test_every_run_docstring_names_what_it_returns():
    for name in E.NAMES:
        doc = E.get(name).run.__doc__
        assert doc and "summary" in doc and "``" in doc, name


def test_a_batch_above_the_training_pairs_is_refused():
    """A trial set batch_size = 50 000 with n_train = 20 000: fit_encoder trained on
    batches of 18 000 and the runs recorded 50 000."""
    cfg = E.load_config("control")
    cfg["batch_size"] = 50_000
    with pytest.raises(ValueError, match="batch_size 50000 is more than the 18000 training "
                                         "pairs"):
        E.get("control").check_config(cfg, [0])
    cfg["batch_size"] = 18_000                    # all the training pairs: accepted
    E.get("control").check_config(cfg, [0])


@pytest.mark.parametrize("name", ["twod", "scaling", "gennorm", "control", "anisotropic"])
def test_the_committed_tables_are_what_the_code_makes_from_the_committed_runs(name, tmp_path):
    """`reproduce NAME --collect` on a copy of results/NAME rewrites its Markdown and CSV
    tables byte for byte: a committed table made by older code shows up here (gennorm.md
    lacked two sentences the code writes; session 50)."""
    out = tmp_path / name
    shutil.copytree(ROOT / "results" / name, out)
    assert main(["--manifest", str(ROOT / "theorems.toml"), "reproduce", name, "--collect",
                 "--out", str(out)]) == 0
    for committed in sorted((ROOT / "results" / name).glob("*.md")) + sorted(
            (ROOT / "results" / name).glob("*.csv")):
        assert (out / committed.name).read_bytes() == committed.read_bytes(), committed.name


def test_reacher_reproduces_into_its_own_folder(tmp_path, capsys):
    """results/reacher holds reacher's own lam sweep (sweep_lam/lam*/, each with a summary):
    `pycheck reproduce reacher` into it had been refused as "a folder holding other output
    folders" since session 48."""
    out = tmp_path / "reacher"
    shutil.copytree(ROOT / "results" / "reacher", out, ignore=shutil.ignore_patterns("cache"))
    rc = main(["--manifest", str(ROOT / "theorems.toml"), "reproduce", "reacher", "--collect",
               "--out", str(out)])
    err = capsys.readouterr().err
    assert "holds other output folders" not in err
    assert rc == 1 and "the rendered frames under" in err      # --collect needs the frames


def test_reproduce_prints_a_short_summary(tmp_path, capsys):
    out = tmp_path / "control"
    shutil.copytree(ROOT / "results" / "control", out)
    assert main(["--manifest", str(ROOT / "theorems.toml"), "reproduce", "control",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    seals = json.loads((out / "control_summary.json").read_text())["run_seals"]
    assert f"run_seals: (in {out / 'control_summary.json'})" in text
    assert not any(seal in text for seal in seals.values())     # not the hashes
    assert "  r2_hz:\n    oracle: 1.0\n" in text                   # a small table: per line
    assert len(text.splitlines()) < 45


def test_progress_output_is_not_part_of_a_runs_task(tmp_path):
    """twod, scaling and anisotropic runs show fit_encoder's progress (in a SLURM job's log:
    a line a minute) since session 50; a profile's ``progress`` only changes what a run
    shows, so turning it off must not recompute stored runs: ``@shows("progress")``."""
    from pycheck.experiments import _common, anisotropic, scaling, twod
    from pycheck.store import task_record
    for fn in (_common.train_and_measure, anisotropic.run_one):
        assert task_record(fn, dict(seed=0, progress=True)) == task_record(fn, dict(seed=0))
    for mod in (twod, scaling):
        cfg = E.load_config(mod.__name__.rsplit(".", 1)[1], "quick", ROOT)
        assert cfg.get("progress", True)
        mod.check_config(dict(cfg, progress=False))             # a flag the profile may set
    cfg = E.load_config("scaling", "quick", ROOT)
    on, _ = scaling.run_tasks(dict(cfg, progress=True), [2], [0], ["sigreg"])
    off, _ = scaling.run_tasks(dict(cfg, progress=False), [2], [0], ["sigreg"])
    key = "realnvp-sigreg-N2-seed0"
    assert on[key][1]["progress"] is True and off[key][1]["progress"] is False
    assert task_record(*on[key]) == task_record(*off[key])
    # a worker of --jobs shows nothing (its bars would interleave on one terminal)
    assert _common.show_progress(True) and not _common.show_progress(False)
