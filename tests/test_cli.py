"""The command line: every verb, and bad input (one-line error, exit 2, nothing written)."""
import json
from pathlib import Path

import pytest

from pycheck.cli import main
from pycheck.manifest import load


@pytest.fixture(scope="module")
def manifest():
    return load()


def test_list_has_one_row_per_id(capsys, manifest):
    assert main(["list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 + len(manifest.ids) + 2     # header, IDs, blank, the note
    assert all(any(line.startswith(i + " ") for line in out) for i in manifest.ids)
    # 'proved' is the manifest's word for a written proof: the note says none was compiled
    assert out[-1].startswith("formal: ") and "never compiled" in out[-1] and " T1," in out[-1]


def test_verify_runs_one_check_by_name_and_a_shared_check_once(capsys):
    """`verify T1.lower_bound` runs that check alone (it was "unknown theorem ID") and
    records no verdict for T1; L4's check, listed by T1 and T3 too, runs once per verify."""
    assert main(["verify", "L4.alignment_identity", "T1"]) == 0
    out = capsys.readouterr().out
    assert "PASS  L4 " in out and "(1 checks" in out and "PASS  T1 " in out
    # T1's copy of L4's check: not run again (its line says 0.00 s; counting "[0.00 s]" over
    # the whole output failed on a faster host, where a T1 check of its own took < 5 ms)
    l4 = [ln for ln in out.splitlines() if ln.lstrip().startswith("ok   L4.alignment_identity")]
    assert len(l4) == 2 and l4[1].endswith("[0.00 s]") and not l4[0].endswith("[0.00 s]"), l4
    assert main(["verify", "T2.affine_pushforward"]) == 0
    assert "(1 of 5 checks" in capsys.readouterr().out


def test_show_and_cite(capsys, manifest):
    assert main(["show", "T1"]) == 0
    out = capsys.readouterr().out
    assert manifest.get("T1").statement in out and "LeJEPA/Forward.lean" in out
    assert main(["cite", "T3"]) == 0
    out = capsys.readouterr().out
    assert "@article{klindt2026lejepa" in out and "T3 (theorem; status proved, from the " \
        "axioms L2 (" in out and "git commit" in out
    # several IDs: the paper's and the kit's entries once each (BibTeX refuses repeats)
    assert main(["cite", "T1", "T2", "A2"]) == 0
    out = capsys.readouterr().out
    assert out.count("@article{klindt2026lejepa") == 1 and out.count("@misc{pycheck") == 1
    assert "T2 (theorem; status partial, using no axiom of this development; the Lean " \
        "proof is written but was not compiled (lean_checked = false))" in out
    assert "lean_checked = false: not compiled)." in out
    assert "A2 (theorem; status conjecture)" in out
    assert main(["show", "T1"]) == 0
    assert "Axioms:    L2, L3" in capsys.readouterr().out


def test_show_finds_an_id_from_its_case_a_check_or_a_lean_name(capsys, manifest):
    # a theory reviewer's trial (s50): only the exact ID had been taken, and no Lean location
    for key in ("t1", "T1.lower_bound", "LeJEPA.alignment_eq_iff", "alignment_eq_iff"):
        assert main(["show", key]) == 0
        out = capsys.readouterr().out
        assert manifest.get("T1").statement in out, key
        assert (f"{key}: in T1" in out) == (key != "t1"), key
    # every declaration with its file:line, which is where the audit finds it
    from pycheck.audit import lean_declarations
    decls = {d.name: d for d in lean_declarations(manifest.root)[0]}
    assert main(["show", "T4"]) == 0
    out = capsys.readouterr().out
    for name in manifest.get("T4").lean:
        d = decls[name]
        line = next(x for x in out.splitlines() if x.strip().startswith(name + " "))
        assert line.rstrip().endswith(f"{d.file}:{d.line}")
        src = (manifest.root / d.file).read_text().splitlines()[d.line - 1]
        assert name.rsplit(".", 1)[-1] in src
    # --lean: the statement up to its :=, not the proof
    assert main(["show", "T4", "--lean"]) == 0
    out = capsys.readouterr().out
    assert "| theorem value_conj [Fintype A]" in out
    assert "P'.value t (Q s) (Q g) = P.value t s g :=" in out
    assert "| theorem value_conj" in out and ":= by" not in out.split("value_conj")[1][:400]


@pytest.mark.parametrize("argv, needle", [
    (["show", "T9"], "'T9' is no theorem ID, check name or Lean declaration of the "
                     "manifest; valid IDs: L1"),
    (["verify", "T1", "X"], "unknown theorem ID 'X'"),
    # a check name with a known ID's prefix: its checks, not the IDs (session 46)
    (["verify", "T4.nope"], "unknown check 'T4.nope'; T4's checks: T4.dp_rotation_invariance"),
    (["verify", "--seed", "x"], "invalid int value"),
    # an option twice, a check beside its own ID (session 48: both ran, silently)
    (["verify", "L1", "--seed", "1", "--seed", "2"], "--seed given more than once"),
    (["reproduce", "twod", "--jobs", "1", "--jobs", "2"], "--jobs given more than once"),
    (["verify", "T1", "T1.lower_bound"], "T1.lower_bound given beside T1"),
    (["frobnicate"], "invalid choice"),
    (["reproduce", "nope"], "unknown experiment 'nope'; valid: twod"),
    (["reproduce", "twod", "--profile", "huge"], "invalid choice"),
    (["--manifest", "/nonexistent/theorems.toml", "list"], "manifest not found"),
    # an empty path (an unset shell variable) would have meant the default folder
    (["reproduce", "scaling", "--out", ""], "argument --out: empty path"),
    (["verify", "L1", "--json", ""], "argument --json: empty path"),
    (["status", " "], "argument OUT: empty path"),
    # numpy takes any seed, but a 64-bit generator fails mid-run, after the folder exists
    (["reproduce", "twod", "--seeds", str(2 ** 63)], "--seeds must be integers in [0, 2^63)"),
])
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and len(err.strip().splitlines()) == 1


def test_bad_json_folder_writes_nothing(tmp_path, capsys):
    target = tmp_path / "missing" / "r.json"
    assert main(["verify", "L1", "--json", str(target)]) == 2
    assert not target.parent.exists()


def test_malformed_manifest(tmp_path, capsys):
    bad = tmp_path / "theorems.toml"
    bad.write_text("[ids.T1]\nkind = 'theorem'\n")
    assert main(["--manifest", str(bad), "list"]) == 2
    assert "lacks field 'title'" in capsys.readouterr().err
    bad.write_text("[ids.T1\n")
    assert main(["--manifest", str(bad), "list"]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    # [paper] not a table, or its bibtex not a string (AttributeError in cite, session 36)
    from pathlib import Path
    good = (Path(__file__).resolve().parents[1] / "theorems.toml").read_text()
    for text, message in [("paper = 3\n" + good.replace("[paper]", "[paper_old]"),
                           "[paper] must be a table"),
                          (good.replace("bibtex =", "bibtex = 5\nbibtex_old =", 1),
                           "paper.bibtex must be a string")]:
        bad.write_text(text)
        assert main(["--manifest", str(bad), "cite", "T1"]) == 2
        assert message in capsys.readouterr().err


def test_verify_json_report(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "r.json"
    rc = main(["verify", "L1", "--json", str(out)])
    rep = json.loads(out.read_text())
    assert set(rep["ids"]) == {"L1"}
    assert rc == (0 if rep["passed"] else 1)
    assert all("figures" in c and "tolerance" in c for c in rep["ids"]["L1"]["checks"])


def test_verify_fails_when_a_check_fails(tmp_path, capsys, monkeypatch):
    from pycheck import checks
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checks.load_all()
    name = load().get("L1").checks[0]
    monkeypatch.setitem(checks.CHECKS, name, lambda seed: checks.CheckResult(False, "broken on purpose"))
    assert main(["verify", "L1"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_verify_crashing_check_is_reported_as_failure(tmp_path, capsys, monkeypatch):
    from pycheck import checks
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    checks.load_all()
    name = load().get("L1").checks[0]

    def crash(seed):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(checks.CHECKS, name, crash)
    assert main(["verify", "L1"]) == 1
    assert "raised RuntimeError: kaboom" in capsys.readouterr().out


def test_audit_of_the_real_project(capsys):
    """The repository's own manifest, Lean sources and checks agree."""
    rc = main(["audit"])
    out = capsys.readouterr().out
    assert rc == 0, out


def test_reproduce_rejects_bad_jobs(tmp_path, capsys):
    from pycheck.cli import main
    assert main(["reproduce", "twod", "--jobs", "0", "--out", str(tmp_path / "o")]) == 2
    assert "--jobs" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_reproduce_jobs_only_for_parallel_experiments(tmp_path, capsys, monkeypatch):
    """--jobs > 1 is refused (exit 2, nothing written) where runs are sequential, and the
    config the CLI hands an experiment passes that experiment's strict key check."""
    from pycheck.cli import main
    from pycheck.experiments import reacher
    assert main(["reproduce", "bound", "--jobs", "2", "--out", str(tmp_path / "o")]) == 2
    assert "--jobs applies to twod, scaling, gennorm, reacher, anisotropic and control" in \
        capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    seen = {}
    monkeypatch.setattr(reacher, "run", lambda cfg, out, seeds: seen.update(cfg=cfg) or {})
    assert main(["reproduce", "reacher", "--out", str(tmp_path / "o")]) == 0
    reacher.check_config(seen["cfg"])                     # raises on an unknown key


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_reproduce_loads_every_experiment_config(tmp_path, monkeypatch, profile):
    """Each experiment's config loads through the CLI for both profiles (the runs
    themselves are replaced by a stub that records what it was given)."""
    import importlib

    from pycheck.cli import main
    from pycheck.experiments import NAMES
    for name in NAMES:
        mod = importlib.import_module(f"pycheck.experiments.{name}")
        seen = {}
        monkeypatch.setattr(mod, "run", lambda cfg, out, seeds, seen=seen: seen.update(
            cfg=cfg, seeds=seeds) or {})
        assert main(["reproduce", name, "--profile", profile,
                     "--out", str(tmp_path / name)]) == 0, name
        assert seen["cfg"]["profile"] == profile and seen["seeds"], name
        if name == "reacher":
            mod.check_config(seen["cfg"])


def test_reproduce_caps_jobs_at_the_cpus(monkeypatch, capsys, tmp_path):
    """``--jobs`` above the CPUs this process may use runs that many at a time, with a
    note (one process per run had been started: a torch each, for runs that share cores)."""
    import os

    from pycheck import executors
    seen = []

    class Stop(Exception):
        pass

    def fake_executor(jobs, command):
        seen.append(jobs)
        raise Stop
    monkeypatch.setattr(executors, "LocalExecutor", fake_executor)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for jobs in ("64", "2", "1"):
        with pytest.raises(Stop):
            main(["reproduce", "twod", "--jobs", jobs, "--out", str(tmp_path / "o")])
    assert seen == [2, 2, 1]
    err = capsys.readouterr().err
    assert err.count("--jobs 64 is more than the 2 CPU(s) available here; running 2 at a time") == 1
    assert "--jobs 2 " not in err and not (tmp_path / "o").exists()


def test_a_closed_pipe_is_not_an_error(monkeypatch, capsys):
    """`pycheck show T1 | head -2`: the reader closes the pipe early. Session 36 found
    "pycheck: error: Broken pipe" and exit 2 (BrokenPipeError, an OSError, was caught as
    one); now exit 0 and nothing on stderr."""
    import io
    import os
    r, w = os.pipe()
    os.close(r)                       # the reader is gone before the first line
    pipe = io.TextIOWrapper(os.fdopen(w, "wb"), line_buffering=True)
    monkeypatch.setattr("sys.stdout", pipe)
    assert main(["show", "T1"]) == 0
    assert capsys.readouterr().err == ""
    pipe.write("x\n")                 # stdout now goes to /dev/null: no second error


def test_reproduce_passes_seeds_in_increasing_order(tmp_path, monkeypatch):
    """Session 36: control's bootstrap intervals differed between --seeds 1 0 and 0 1 (the
    runs pooled in the listed order); the experiments now get the seeds sorted."""
    from pycheck.experiments import control
    seen = {}
    monkeypatch.setattr(control, "run", lambda cfg, out, seeds: seen.update(seeds=seeds) or {})
    assert main(["reproduce", "control", "--seeds", "3", "1", "2",
                 "--out", str(tmp_path / "o")]) == 0
    assert seen["seeds"] == [1, 2, 3]


@pytest.mark.parametrize("seeds", ['["x"]', "[0.5]", "[]", "[true]", "3"])
def test_reproduce_refuses_a_profile_with_bad_seeds(tmp_path, capsys, seeds):
    """A profile's `seeds` that is not a non-empty list of integers: one line, exit 2,
    nothing written (session 36: TypeError / IndexError tracebacks after plan.json)."""
    import shutil
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "theorems.toml", tmp_path / "theorems.toml")
    (tmp_path / "experiments").mkdir()
    text = (root / "experiments" / "control.toml").read_text()
    (tmp_path / "experiments" / "control.toml").write_text(
        text.replace("seeds = [0]\n", f"seeds = {seeds}\n", 1))
    out = tmp_path / "o"
    assert main(["--manifest", str(tmp_path / "theorems.toml"), "reproduce", "control",
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the quick profile's seeds must be a non-empty list of integers" in err
    assert not out.exists()


def test_an_ascii_terminal_and_a_json_symlink(tmp_path, monkeypatch):
    """Session 36: `PYTHONIOENCODING=ascii pycheck cite T1` raised UnicodeEncodeError (an
    em dash); `verify --json LINK` replaced the link by a file."""
    import os
    import subprocess
    import sys
    from pathlib import Path
    exe = Path(sys.executable).parent / "pycheck"
    r = subprocess.run([str(exe), "cite", "T1"], capture_output=True, timeout=120,
                       env=dict(os.environ, PYTHONIOENCODING="ascii"))
    assert r.returncode == 0 and b"\\u2014" in r.stdout and not r.stderr.strip()
    target, link = tmp_path / "report.json", tmp_path / "link.json"
    target.write_text("{}")
    link.symlink_to(target)
    assert main(["verify", "L1", "--json", str(link)]) == 0
    assert link.is_symlink() and json.loads(target.read_text())["ids"]["L1"]


#: (experiment, text of its TOML, replacement in the first profile, refusal) -- session
#: 36's probe found each accepted (coerced or ignored) or refused only after other runs
#: had trained, or after Reacher had rendered its data; the first two were refused when the
#: first run started, after the plan and its task record had kept the new --out folder
BAD_PROFILES = [
    ("twod", "rho = 0.5\n", "rho = 1.5\n", "twod: rho must be a finite number in (0, 1), got 1.5"),
    ("scaling", "n_train = 20000\n", "n_train = 0\n",
     "scaling: n_train must be an integer in [2, 2^63), got 0"),
    ("gennorm", "steps = 3000\n", "steps = \"3000\"\n", "gennorm: steps must be an integer"),
    ("gennorm", "steps = 3000\n", "steps = 2.5\n", "gennorm: steps must be an integer"),
    ("gennorm", "dim = 2\n", "dimm = 2\n", "gennorm: the profile misses dim; has unknown key(s) dimm"),
    ("gennorm", "alphas = [", "alphas = [\"2\", ", "gennorm: alphas[0] must be a number > 0"),
    ("scaling", "steps = 6000\n", "steps = \"6000\"\n", "steps must be an integer >= 1 or a table"),
    ("scaling", 'objectives = ["sigreg", "vicreg", "infonce"]\n', "objectives = []\n",
     "scaling: objectives must be a non-empty list"),
    # refused at N = 32 (30 held-out pairs for a 32-wide embedding) before N = 2 trains
    ("scaling", "n_train = 20000\n", "n_train = 300\n",
     "scaling: options.sigreg at N = 32 (n_train 300): holdout = 0.1 holds out 30 pairs"),
    ("scaling", "num_slices = {", "num_slicez = {", "unknown option(s) ['num_slicez']"),
    ("control", "n_steps = 20\n", "n_steps = 0\n", "control: n_steps must be an integer"),
    ("control", "lr = 1e-2\n", "lr = 1e-2\ntrajectory = { horizn = 3 }\n",
     "control: trajectory: the table has unknown key(s) horizn"),
    ("control", "min_dist = 1.0\n", "min_dist = 50.0\n",
     "control: seed 0: could not find 30 bank pairs at distance >= 50.0"),
    ("anisotropic", 'objectives = ["sigreg", "vicreg", "infonce"]\n',
     'objectives = ["sigreg", "vicreg", "nce"]\n', "anisotropic: objectives[2] must be one of"),
    ("anisotropic", "vicreg = { lam = 0.1 }", "vicreg = { lam = -0.1 }",
     "anisotropic: options.vicreg at n = 2: lam must be a finite number > 0"),
    ("bound", 'sources = ["twod", "scaling", "gennorm", "control"]', 'sources = "twod"',
     "bound: sources must be a non-empty list"),
    ("reacher", "lr = 3e-3\n", "lr = inf\n", "reacher config: lr must be finite"),
    ("reacher", "min_dist = 1.2\n", "min_dist = 9.0\n",
     "reacher config: k_pairs = 30, pair_half_width = 1.6, min_dist = 9.0: could not draw 30 "
     "pairs at distance >= 9.0"),
    ("twod", "steps = 16000", "steps = \"16000\"", "twod: options: warm_start: steps must be an integer"),
    ("twod", "batch_size = 1024\n", "batch_size = 1024\nmixing = \"spiral\"\n",
     "twod: the profile has unknown key(s) mixing"),
    # session 37's probe of the new checks: accepted, then a traceback or a late refusal
    ("twod", "num_slices = 64,", "num_slices = 64, t_max = \"3\",",
     "t_max='3'"),
    ("twod", "lr = 2e-3 }", "lr = 2e-3, options = { seed = 1 } }",
     "twod: options: warm_start's 'options' may not set seed"),
    ("twod", "num_slices = 64,", "num_slices = 64, dim_out = 3,",
     "twod: options may not set dim_out (set by the latent dimension"),
    ("control", "n_test = 20000\n", "n_test = 3\n", "control: n_test must be an integer in [4"),
    ("control", "lr = 1e-2\n", "lr = 1e-2\ntrajectory = { gain = 1e6 }\n",
     "control: trajectory: the rollouts of {'gain': 1000000.0} cannot be trained on"),
    ("gennorm", "alphas = [", "alphas = [0.004, ", "alpha must lie in [0.05, 200]"),
    ("gennorm", "alphas = [", "alphas = [2.0, ", "gennorm: alphas lists an entry more than once"),
    ("scaling", "8 = 15000", "08 = 15000", "has key(s) ['08'] that are neither a latent dimension"),
    ("anisotropic", '"2" = [0.97,', '"2" = [0.97, 0.9700001,',
     "anisotropic: ratios.2 = [0.97, 0.9700001, 1.2, 1.8, 3.0] name the same run twice"),
    ("reacher", "channels = [8, 16, 32, 32]", "channels = [true, 16, 32, 32]",
     "reacher config: channels must be 4 positive ints"),
]


@pytest.mark.parametrize("name, old, new, message", BAD_PROFILES)
def test_a_bad_profile_is_refused_before_anything_is_written(tmp_path, capsys, name, old,
                                                             new, message):
    """Every experiment checks its whole profile up front: exit 2, one line naming the
    setting, no output folder."""
    import shutil
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    shutil.copy(root / "theorems.toml", tmp_path / "theorems.toml")
    shutil.copytree(root / "experiments", tmp_path / "experiments")
    cfg = tmp_path / "experiments" / f"{name}.toml"
    text = cfg.read_text()
    assert old in text
    cfg.write_text(text.replace(old, new, 1))
    out = tmp_path / "results" / "new"
    rc = main(["--manifest", str(tmp_path / "theorems.toml"), "reproduce", name,
               "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert err.count(f"{name}: ") <= 1 and not out.exists()     # the name said once (s36)


def test_bound_refuses_a_family_level_outside_0_1(tmp_path):
    """Session 36: family_alpha 0 gave an infinite tolerance, 5 a NaN one, and "0
    violations" either way."""
    import shutil
    from pathlib import Path

    from pycheck.experiments import bound
    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "results" / "twod", tmp_path / "twod")
    for alpha in (0, 5, True):
        with pytest.raises(ValueError, match=r"family_alpha must be a finite number in \(0, 1\)"):
            bound.run(dict(sources=["twod"], family_alpha=alpha, profile="quick"),
                      tmp_path / "bound", [0])


def test_status_of_a_finished_folder_says_whether_its_tables_are_made(tmp_path, capsys):
    """Session 37: `status` on a finished folder asked to make tables that were there."""
    import shutil
    from pathlib import Path
    out = tmp_path / "control"
    shutil.copytree(Path(__file__).resolve().parents[1] / "results" / "control", out)
    assert main(["status", str(out)]) == 0
    assert "the tables are made (control_summary.json)" in capsys.readouterr().out
    (out / "control_summary.json").unlink()
    assert main(["status", str(out)]) == 0
    assert "all runs are in; make the tables" in capsys.readouterr().out


def test_reproduce_says_how_many_runs_it_computed_and_reused(tmp_path, capsys):
    """Session 37: into the committed results/NAME, `reproduce` reuses every stored run;
    its first line now says so (it read "done in 2.5 s" as if reproduced)."""
    import shutil
    from pathlib import Path
    out = tmp_path / "control"
    shutil.copytree(Path(__file__).resolve().parents[1] / "results" / "control", out)
    assert main(["reproduce", "control", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "(0 runs computed, 7 reused from the folder)" in text
    # and it names the summary's own wall seconds beside its own (session 49)
    wall = json.loads((out / "control_summary.json").read_text())["invocations"][-1][
        "wall_seconds"]
    assert f"s, {wall:.1f} s of it in the experiment (the summary's wall_seconds" in text


def test_reproduce_refuses_a_folder_of_another_experiment(tmp_path, capsys):
    """Session 42 (a user's trial): `twod --collect` into a control folder rewrote its config
    stamp, and gennorm trained there and replaced its plan; the plan's command names the
    experiment, so both are refused before anything is written."""
    import shutil
    from pathlib import Path
    out = tmp_path / "control"
    shutil.copytree(Path(__file__).resolve().parents[1] / "results" / "control", out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for argv in (["twod", "--collect"], ["gennorm"]):
        assert main(["reproduce", *argv, "--out", str(out)]) == 2
        assert (f"holds the results of `control` (its jobs/plan.json), not of `{argv[0]}`"
                in capsys.readouterr().err)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert main(["reproduce", "control", "--collect", "--out", str(out)]) == 0


def test_reproduce_refuses_a_folder_of_another_experiment_without_a_plan(tmp_path, capsys):
    """Session 47 (a user's trial): a folder without jobs/plan.json (bound writes none; a copy
    without jobs/) was taken over: control trained into a gennorm copy, replaced its config
    stamp, and bound then tabled control's runs as gennorm's. The other experiment's table
    (OTHER.json) now names it; the folder's own table does not stop its experiment."""
    import shutil
    from pathlib import Path
    res = Path(__file__).resolve().parents[1] / "results"
    out = tmp_path / "gennorm"
    shutil.copytree(res / "gennorm", out)
    shutil.rmtree(out / "jobs")
    bound = tmp_path / "bound"
    shutil.copytree(res / "bound", bound)
    for folder, other in ((out, "gennorm"), (bound, "bound")):
        before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        assert main(["reproduce", "control", "--out", str(folder)]) == 2
        assert (f"holds the results of `{other}` (its {other}.json), not of `control`"
                in capsys.readouterr().err)
        assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    # its own experiment still reads it (every run reused, nothing trained)
    assert main(["reproduce", "gennorm", "--collect", "--out", str(out)]) == 0


def test_bound_refuses_seeds(tmp_path, capsys):
    """bound reads the other experiments' stored runs; --seeds was accepted and ignored."""
    assert main(["reproduce", "bound", "--seeds", "5", "--out", str(tmp_path / "b")]) == 2
    assert "--seeds does not apply to bound" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_a_lost_config_stamp_keeps_the_runs(tmp_path, capsys):
    """Session 42 (a user's trial): a corrupt runs/config.json was "delete it to recompute
    that run", and once deleted, "runs without a config stamp" meant throwing every run
    away. Each run records its task, so the runs are reused and the stamp written anew."""
    import shutil
    from pathlib import Path
    src = Path(__file__).resolve().parents[1] / "results" / "control"
    out = tmp_path / "control"
    shutil.copytree(src, out)
    for damage in ("corrupt", "delete"):
        stamp = out / "runs" / "config.json"
        if damage == "corrupt":
            stamp.write_text("not json")
        else:
            stamp.unlink()
        assert main(["reproduce", "control", "--collect", "--out", str(out)]) == 0
        assert "(0 runs computed, 7 reused from the folder)" in capsys.readouterr().out
        assert stamp.read_text() == (src / "runs" / "config.json").read_text()
        assert (out / "control.csv").read_bytes() == (src / "control.csv").read_bytes()


def test_collect_with_other_settings_moves_nothing(tmp_path, capsys):
    """`--collect --profile full` on a quick folder moved 6 runs to runs/replaced/ although
    --collect runs nothing (session 42): it is refused and the folder stays as it was."""
    import shutil
    from pathlib import Path
    out = tmp_path / "control"
    shutil.copytree(Path(__file__).resolve().parents[1] / "results" / "control", out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["reproduce", "control", "--collect", "--profile", "full", "--out",
                 str(out)]) == 2
    assert "--collect runs and moves nothing" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_the_recorded_command_names_the_manifest_by_its_absolute_path(tmp_path, monkeypatch):
    """Session 43 (a user's trial): status repeated `--manifest theorems.toml` as typed, and
    from another folder the rerun command said "manifest not found"."""
    from pycheck.cli import _absolute_manifest
    monkeypatch.chdir(tmp_path)
    want = str(tmp_path / "p" / "theorems.toml")
    assert _absolute_manifest(["--manifest", "p/theorems.toml", "reproduce", "twod"]) == [
        "--manifest", want, "reproduce", "twod"]
    assert _absolute_manifest(["--manifest=p/theorems.toml", "reproduce", "x"])[0] == \
        f"--manifest={want}"
    # after the verb, nothing is touched (an --out or a name that merely looks alike)
    assert _absolute_manifest(["reproduce", "twod", "--out", "rel"]) == [
        "reproduce", "twod", "--out", "rel"]


def test_a_pending_message_that_names_its_experiment_is_not_prefixed_twice(tmp_path, capsys,
                                                                           monkeypatch):
    """Session 47 (a user's trial): reacher's collect said "pycheck: reacher: reacher: the
    rendered frames ... are missing"."""
    from pycheck.executors import RunsPending
    from pycheck.experiments import control

    def pending(*a, **kw):
        raise RunsPending("control: the frames are missing")
    monkeypatch.setattr(control, "run", pending)
    assert main(["reproduce", "control", "--out", str(tmp_path / "c")]) == 0
    assert "pycheck: control: the frames are missing\n" in capsys.readouterr().err


def test_the_readme_sigreg_snippet_runs_and_matches_the_reference():
    """The README's "SIGReg in your own training code" block, run as written (session 49),
    and its claim that the fixed-direction statistic is the reference's."""
    from pathlib import Path

    from pycheck.bench import reference_sigreg
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = text.split("### SIGReg in your own training code", 1)[1].split("```python\n", 1)[1]
    scope: dict = {}
    exec(compile(block.split("```", 1)[0], "README.md", "exec"), scope)
    ref = reference_sigreg(scope["h"], scope["a"]).item()
    assert abs(scope["fixed"].item() - ref) <= 1e-5 * ref
    assert set(scope["state"]) == {"t", "phi", "weights", "_extra_state"}
    assert scope["reg"].shape == ()


def test_the_readme_python_snippet_for_the_checks_runs(capsys):
    """The README's "The checks from Python" block, run as written (session 48: a user found
    `pycheck.checks.CHECKS` empty and had to find `load_all` in the source)."""
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = text.split("The checks from Python", 1)[1].split("```python\n", 1)[1]
    code = block.split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == list(load().get("T1").checks)
    assert all(line.split()[1] == "True" for line in out)


def test_sigterm_says_what_happened(tmp_path):
    """Session 50 (a user's trial): `timeout 15 pycheck reproduce ...` ended with no word
    (rc -15), where Ctrl-C says what is kept. SIGTERM is now an interrupt: one line, 143."""
    import signal
    import subprocess
    import sys
    import time
    p = subprocess.Popen([sys.executable, "-m", "pycheck.cli", "verify"], cwd=Path(__file__).resolve().parents[1],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline()              # it has started checking
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
    finally:
        p.kill()
    assert p.returncode == 143, err
    assert err.strip().splitlines()[-1] == "pycheck: terminated (SIGTERM)", err
    assert "Traceback" not in err


def test_main_restores_the_sigterm_handler(capsys):
    import signal
    before = signal.getsignal(signal.SIGTERM)
    assert main(["show", "T1"]) == 0
    assert signal.getsignal(signal.SIGTERM) is before
