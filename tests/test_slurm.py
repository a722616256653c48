"""`pycheck reproduce --executor slurm` and `pycheck status` against a real SLURM cluster.

The module fixture starts a single-node cluster on localhost (scripts/slurm_localhost.sh:
Debian's slurm-wlm and munge, installed when missing; slurmctld + slurmd with 2 CPUs and
one partition) and shuts it down afterwards. It needs root; elsewhere these tests are
skipped with the reason. Each test makes a throw-away project root (the manifest plus a
tiny twod config) so that a run takes seconds.
"""
import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pycheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "slurm_localhost.sh"
# A twod profile of seconds per run; the test scancels one of its two jobs mid-run.
TINY = """[quick]
seeds = [0]
mixings = {mixings}
rho = 0.5
n_train = 400
n_test = 300
steps = {steps}
batch_size = 64
lr = {lr}
options = {options}
"""
TWO = '["spiral", "realnvp"]'
# Upper bound on waiting for the queue to drain: the runs take seconds on an idle machine
# but minutes on this shared one under a load of 15; this only keeps a hung cluster from
# hanging the suite.
DRAIN_TIMEOUT_S = 600


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running localhost SLURM cluster; ``SLURM_CONF`` points at it during the tests."""
    pytest.importorskip("submitit", reason="the [cluster] extra: pip install -e '.[cluster]'")
    if os.geteuid() != 0:
        pytest.skip("starting slurmctld and slurmd needs root")
    if not (shutil.which("slurmctld") or shutil.which("apt-get")):
        pytest.skip("SLURM is not installed and there is no apt-get to install it")
    d = tmp_path_factory.mktemp("slurm-cluster")
    r = subprocess.run(["bash", str(SCRIPT), "start", str(d), *map(str, _free_ports(2))],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"could not start SLURM: {r.stderr[-2000:]}"
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(d / "slurm.conf")
    yield d / "slurm.conf"
    subprocess.run(["bash", str(SCRIPT), "stop", str(d)], timeout=60)
    if old is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = old


def _project(tmp_path: Path, mixings: str = TWO, steps: int = 100,
             options: str = "{ num_slices = 16 }", lr: str = "1e-3") -> Path:
    tmp_path.mkdir(exist_ok=True)
    shutil.copy(ROOT / "theorems.toml", tmp_path / "theorems.toml")
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "twod.toml").write_text(
        TINY.format(mixings=mixings, steps=steps, options=options, lr=lr))
    return tmp_path


def _pycheck(root: Path, *argv: str, capsys) -> tuple[int, str, str]:
    rc = main(["--manifest", str(root / "theorems.toml"), *argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _queue() -> dict[str, str]:
    out = subprocess.run(["squeue", "--noheader", "--array", "--format=%i|%T"],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("|") for line in out.split())


def _drain() -> None:
    t0 = time.monotonic()
    while _queue():
        assert time.monotonic() - t0 < DRAIN_TIMEOUT_S, f"SLURM queue not empty: {_queue()}"
        time.sleep(0.5)


def _runs(out: Path) -> dict[str, Path]:
    return {p.stem: p for p in (out / "runs").glob("*.json") if p.name != "config.json"}


def _measured(path: Path) -> dict:
    """A run's result without its wall-clock time (the only key that may differ)
    and the seal over it."""
    r = json.loads(path.read_text())
    r.pop("train_seconds")
    assert len(r.pop("_sha256")) == 64      # sealed by the job body, as local runs are
    return r


def test_slurm_reproduce_equals_local_and_rerun_completes_a_cancelled_job(slurm, tmp_path,
                                                                          capsys):
    # 3000 steps: a run trains for about 6 s after its start-up, so the scancel below lands
    # mid-run. With 100 steps a run finished within ~0.2 s of its (cached) SIGReg compile,
    # and on an idle machine the cancelled job had sometimes already stored its run
    # (session 17: one CI failure in a clean clone)
    root = _project(tmp_path, steps=3000)
    out = tmp_path / "sl"
    # --cpus-per-run 2: the jobs still train at one thread, as the local run below does
    # (until session 44 a job trained at its CPUs' count, other bits than a local run's)
    cmd = ("reproduce", "twod", "--executor", "slurm", "--time", "10", "--cpus-per-run", "2",
           "--out", str(out))
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)
    assert rc == 0 and "submitted 2 runs to SLURM" in err, err

    # cancel the first job seen running once run_and_store has set its SIGTERM handler (its
    # "started" line on the job's stdout). Before that handler, submitit ignores scancel's
    # SIGTERM and such a job computes on for SLURM's KillWait (30 s): waiting only for
    # submitit's "Starting" line, a job cancelled while it loaded its pickle (which imports
    # torch) finished and stored its run (session 18: one CI failure in a clean clone)
    plan = json.loads((out / "jobs" / "plan.json").read_text())
    logs = {j["job_id"]: Path(j["log"]).with_suffix(".out") for j in plan["jobs"].values()}
    t0 = time.monotonic()
    while not (started := [j for j, s in _queue().items() if s == "RUNNING" and logs[j].is_file()
                           and ": started; scancel now stops it" in logs[j].read_text()]):
        assert time.monotonic() - t0 < DRAIN_TIMEOUT_S, "no job started"
        time.sleep(0.1)
    running = started[:1]
    cancelled = next(k for k, j in plan["jobs"].items() if j["job_id"] == running[0])
    subprocess.run(["scancel", running[0]], check=True)
    _drain()
    first = _runs(out)
    assert cancelled not in first and len(first) == 1, sorted(first)
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        [f"{k}.json" for k in first] + ["config.json"])     # no partial or temp file

    rc, text, _ = _pycheck(root, "status", str(out), capsys=capsys)
    assert rc == 1 and "1/2 done, 0 queued, 0 running, 1 failed" in text, text
    assert f"failed  {cancelled}: job {running[0]}: cancelled" in text, text
    assert plan["jobs"][cancelled]["log"] in text and Path(plan["jobs"][cancelled]["log"]).is_file()

    stamps = {k: p.stat().st_mtime_ns for k, p in first.items()}
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)         # the same command again
    assert rc == 0 and "submitted 1 run to SLURM" in err and "1 of 2 done" in err, err
    _drain()
    rc, text, _ = _pycheck(root, "status", str(out), capsys=capsys)
    assert rc == 0 and "2/2 done" in text, text
    assert {k: p.stat().st_mtime_ns for k, p in first.items()} == stamps  # not redone
    # the fit's progress in the job's log (a line a minute and one at the end; twod's runs
    # had printed none there until session 50, a cluster trial)
    for job in json.loads((out / "jobs" / "plan.json").read_text())["jobs"].values():
        assert ": 3000 / 3000 (100%)" in Path(job["log"]).read_text(), job["log"]

    rc, text, _ = _pycheck(root, *cmd, "--collect", capsys=capsys)
    assert rc == 0 and "runs_reused" in text and (out / "twod.md").is_file(), text
    # --jobs 2: one torch thread per run, as in the SLURM jobs (at any --cpus-per-run); on a
    # loaded 2-core machine an in-process run with 2 threads was 10x slower (177 s vs 16 s)
    rc, _, _ = _pycheck(root, "reproduce", "twod", "--jobs", "2",
                        "--out", str(tmp_path / "local"), capsys=capsys)
    local = _runs(tmp_path / "local")
    assert rc == 0 and set(local) == set(_runs(out))
    for k, p in _runs(out).items():                          # bit-identical to a local run
        assert _measured(p) == _measured(local[k]), k


def test_slurm_crash_and_time_limit_are_reported_failed_and_resubmitted(slurm, tmp_path,
                                                                        capsys):
    # a run that crashes on the node: a valid profile whose training diverges (a bad option
    # had served until session 37, when profiles came to be checked before submission)
    crash = _project(tmp_path / "crash", mixings='["spiral"]', steps=3, lr="1e300")
    slow = _project(tmp_path / "slow", mixings='["spiral"]', steps=10 ** 6)
    # --time 1: submitit asks SLURM for its warning signal 90 s before the limit, i.e. at
    # once here, so the time-limit path is exercised in seconds instead of a minute.
    runs = {crash: ("--time", "5"), slow: ("--time", "1")}
    for root, opts in runs.items():
        rc, _, err = _pycheck(root, "reproduce", "twod", "--executor", "slurm", *opts,
                              "--out", str(root / "o"), capsys=capsys)
        assert rc == 0 and "submitted 1 run to" in err, err
    _drain()
    for root, reason in ((crash, "crashed: TrainingDiverged: training diverged at step"),
                         (slow, "hit its time limit")):
        rc, text, _ = _pycheck(root, "status", str(root / "o"), capsys=capsys)
        assert rc == 1 and "0/1 done" in text and "1 failed" in text and reason in text, text
        assert "resubmit the failed runs" in text and "--executor slurm" in text
        assert [p.name for p in (root / "o" / "runs").iterdir()] == ["config.json"]
    rc, _, err = _pycheck(crash, "reproduce", "twod", "--executor", "slurm", "--time", "5",
                          "--out", str(crash / "o"), capsys=capsys)
    assert rc == 0 and "submitted 1 run to" in err, err      # rerun resubmits the failed run
    subprocess.run(["scancel", "--name=pycheck"], check=True)
    _drain()


def test_slurm_bad_option_or_unreachable_scheduler_exit_2_nothing_submitted(slurm, tmp_path,
                                                                            capsys, monkeypatch):
    root = _project(tmp_path, mixings='["spiral"]', steps=3)
    out = tmp_path / "o"
    base = ("reproduce", "twod", "--executor", "slurm", "--out", str(out))
    bad = {("--partition", "nope"): "invalid partition",
           ("--gpus-per-run", "1"): "SLURM refused the job",   # the node has no GPU
           ("--time", "soon"): "--time 'soon'",
           ("--slurm-option", "qos"): "expected KEY=VALUE",
           ("--slurm-option", "no-such-flag=1"): "SLURM refused the job",
           ("--jobs", "2"): "--jobs applies to --executor local"}
    for opts, message in bad.items():
        rc, _, err = _pycheck(root, *base, *opts, capsys=capsys)
        assert rc == 2 and message in err and len(err.strip().splitlines()) == 1, (opts, err)
    dead = tmp_path / "dead.conf"                  # the same cluster on ports nobody serves
    conf = slurm.read_text()
    for key in ("SlurmctldPort", "SlurmdPort"):
        old = next(ln for ln in conf.splitlines() if ln.startswith(key))
        conf = conf.replace(old, f"{key}={_free_ports(1)[0]}")
    dead.write_text(conf)
    monkeypatch.setenv("SLURM_CONF", str(dead))
    rc, _, err = _pycheck(root, *base, capsys=capsys)
    assert rc == 2 and "SLURM scheduler unreachable" in err and len(err.strip().splitlines()) == 1
    rc, _, err = _pycheck(root, "status", str(out), capsys=capsys)
    assert rc == 2 and "no such folder" in err     # nothing was written (session 36 wording)
    monkeypatch.setenv("SLURM_CONF", str(slurm))
    assert not out.exists() and _queue() == {}


def test_slurm_job_of_a_changed_profile_is_cancelled_and_resubmitted(slurm, tmp_path, capsys):
    """A run still queued or running when the profile changes would train the old settings
    (stored, then discarded by the run store) and share its checkpoint file with the new
    job: the rerun cancels it and submits the run with the new settings (session 27)."""
    root = _project(tmp_path, mixings='["spiral"]', steps=10 ** 6)   # runs until cancelled
    out = tmp_path / "o"
    cmd = ("reproduce", "twod", "--executor", "slurm", "--time", "5", "--out", str(out))
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)
    assert rc == 0 and "submitted 1 run to" in err, err
    (old,) = json.loads((out / "jobs" / "plan.json").read_text())["jobs"].values()
    assert old["task"]["kwargs"]["steps"] == 10 ** 6
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)             # unchanged: left alone
    assert rc == 0 and "nothing submitted; 1 run still queued or running" in err, err
    # other SLURM options: the job keeps its own, and the message says how to apply them
    # (said nothing until session 50, a cluster trial)
    rc, _, err = _pycheck(root, *cmd[:-2], "--mem", "1g", *cmd[-2:], capsys=capsys)
    assert rc == 0 and "nothing submitted; 1 run still queued or running" in err, err
    assert "the SLURM options changed (mem (cluster's) -> 1G), but 1 run still queued or " \
        "running keeps its old ones; to apply the new ones, `scancel " \
        f"{old['job_id'].split('_')[0]}`" in err, err
    (root / "experiments" / "twod.toml").write_text(
        TINY.format(mixings='["spiral"]', steps=10 ** 6 + 1, options="{ num_slices = 16 }",
                    lr="1e-3"))
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)
    assert rc == 0 and f"cancelled 1 queued or running SLURM jobs made with other settings " \
        f"({old['job_id']})" in err and "submitted 1 run to" in err, err
    (new,) = json.loads((out / "jobs" / "plan.json").read_text())["jobs"].values()
    assert new["job_id"] != old["job_id"] and new["task"]["kwargs"]["steps"] == 10 ** 6 + 1
    t0 = time.monotonic()
    while old["job_id"] in _queue():                             # CANCELLED, then gone
        assert time.monotonic() - t0 < DRAIN_TIMEOUT_S, _queue()
        time.sleep(0.2)
    assert new["job_id"] in _queue()
    subprocess.run(["scancel", "--name=pycheck"], check=True)
    _drain()


def test_slurm_folder_with_live_jobs_refuses_a_local_run_and_a_second_submission(
        slurm, tmp_path, capsys):
    """Session 43, a user's trial: a local reproduce into a folder whose SLURM jobs were
    queued trained the same runs, replaced the plan (status lost the jobs) and the jobs
    then overwrote its runs. It is refused in one line naming the job, nothing written; the
    same SLURM command again submits nothing (its job is still queued or running)."""
    root = _project(tmp_path, mixings='["spiral"]', steps=10 ** 6)   # runs until cancelled
    out = tmp_path / "o"
    cmd = ("reproduce", "twod", "--executor", "slurm", "--time", "5", "--out", str(out))
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)
    assert rc == 0 and "submitted 1 run to" in err, err
    plan = (out / "jobs" / "plan.json").read_text()
    (job,) = json.loads(plan)["jobs"].values()
    rc, _, err = _pycheck(root, "reproduce", "twod", "--out", str(out), capsys=capsys)
    assert rc == 2 and f"still queued or running (job {job['job_id']})" in err, err
    assert f"scancel {job['job_id'].split('_')[0]}" in err and len(err.strip().splitlines()) == 1
    assert (out / "jobs" / "plan.json").read_text() == plan and not _runs(out)
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)
    assert rc == 0 and "nothing submitted; 1 run still queued or running" in err, err
    assert (out / "jobs" / "plan.json").read_text() == plan
    subprocess.run(["scancel", "--name=pycheck"], check=True)
    _drain()


def _reacher_project(tmp_path: Path) -> Path:
    from test_reacher import MICRO          # rootdir-relative import (tests is no package)
    tmp_path.mkdir(exist_ok=True)
    shutil.copy(ROOT / "theorems.toml", tmp_path / "theorems.toml")
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "reacher.toml").write_text(
        "[quick]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in MICRO.items()))
    return tmp_path


def _dependencies() -> dict[str, str]:
    out = subprocess.run(["squeue", "--noheader", "--array", "--format=%i|%E"],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("|") for line in out.split())


def test_slurm_reacher_renders_in_a_job_the_training_jobs_wait_for(slurm, tmp_path, capsys,
                                                                  monkeypatch):
    """Reacher's frames are rendered by a SLURM job of their own, not by the submitting
    process (a login node); the training jobs wait for it (afterok). If sbatch fails after
    the render job went in, the plan keeps that job and the rerun submits only the rest.
    When the render job fails, SLURM cancels the jobs waiting for it and `pycheck status`
    says why."""
    pytest.importorskip("dm_control", reason="Reacher rendering: scripts/setup.sh installs it")
    from pycheck.executors import SchedulerError, SlurmExecutor
    root = _reacher_project(tmp_path / "p")

    out = tmp_path / "o1"
    cmd = ("reproduce", "reacher", "--executor", "slurm", "--time", "10", "--out", str(out))
    real, calls = SlurmExecutor._submit, []

    def second_sbatch_fails(self, *args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise SchedulerError("sbatch failed, nothing submitted: (injected)")
        return real(self, *args, **kwargs)
    monkeypatch.setattr(SlurmExecutor, "_submit", second_sbatch_fails)
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)
    assert rc == 2 and "1 runs submitted before it" in err and "the other 2 not" in err, err
    assert calls == [["render"], ["gauss-OU-seed0", "trajectory-seed0"]]
    assert list(json.loads((out / "jobs" / "plan.json").read_text())["jobs"]) == ["render"]
    # the runs never submitted are said so (session 43: "job ?: not run: it needs render,
    # which did not finish", while render was queued)
    rc, text, _ = _pycheck(root, "status", str(out), capsys=capsys)
    assert rc == 1 and "2 failed" in text and "job ?" not in text and \
        "failed  gauss-OU-seed0: not submitted (sbatch failed: (injected))" in text, text
    monkeypatch.setattr(SlurmExecutor, "_submit", real)
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)      # render: queued, running or done
    assert rc == 0 and "submitted 2 runs to SLURM" in err and "render OU" not in err, err
    _drain()
    rc, text, _ = _pycheck(root, "status", str(out), capsys=capsys)
    assert rc == 0 and "3/3 done" in text, text
    log = Path(json.loads((out / "jobs" / "plan.json").read_text())["jobs"]["render"]["log"])
    assert "render OU" in log.read_text()              # rendered in the job
    assert len(list((out / "cache").glob("*.npz"))) == 3
    rc, text, _ = _pycheck(root, *cmd, "--collect", capsys=capsys)
    assert rc == 0 and (out / "reacher.md").is_file(), text

    out = tmp_path / "o2"
    cmd = ("reproduce", "reacher", "--executor", "slurm", "--time", "10", "--out", str(out))
    out.mkdir()
    (out / "cache").write_text("not a folder")        # the render job fails writing there
    rc, _, err = _pycheck(root, *cmd, capsys=capsys)
    assert rc == 0 and "submitted 3 runs to SLURM" in err, err
    jobs = json.loads((out / "jobs" / "plan.json").read_text())["jobs"]
    waiting = _dependencies()
    for key in ("gauss-OU-seed0", "trajectory-seed0"):   # afterok:RENDER(unfulfilled)
        assert jobs["render"]["job_id"] in waiting.get(jobs[key]["job_id"], ""), waiting
    _drain()
    rc, text, _ = _pycheck(root, "status", str(out), capsys=capsys)
    assert rc == 1 and "0/3 done" in text and "3 failed" in text, text
    assert "failed  render: job" in text and "crashed" in text, text
    assert "failed  gauss-OU-seed0: job" in text and "it needs render, which did not finish" \
        in text, text


def test_slurm_with_every_node_drained_queues_and_makes_tables(slurm, tmp_path, capsys):
    """Session 48, a cluster trial: with the partition's nodes drained, SLURM's test
    submission fails ("Requested node configuration is not available") and the submit
    command was refused (exit 2), even with nothing left to submit. It now says so on stderr
    and goes on: the tables are made, and new jobs wait in the queue."""
    root = _project(tmp_path)
    out = tmp_path / "o"
    rc, _, _ = _pycheck(root, "reproduce", "twod", "--out", str(out), capsys=capsys)
    assert rc == 0
    node = socket.gethostname().split(".")[0]
    subprocess.run(["scontrol", "update", f"nodename={node}", "state=drain",
                    "reason=pycheck-test"], check=True)
    try:
        cmd = ("reproduce", "twod", "--executor", "slurm", "--out", str(out))
        rc, _, err = _pycheck(root, *cmd, capsys=capsys)
        assert rc == 0 and "drained or down" in err and (out / "twod.md").is_file(), err
        rc, text, _ = _pycheck(root, "status", str(out), capsys=capsys)
        # the plan is this invocation's now: its command is the one to remake the tables
        assert rc == 0 and "2/2 done" in text and "--executor slurm" in text, text
        rc, _, err = _pycheck(root, *cmd[:-1], str(tmp_path / "fresh"), capsys=capsys)
        assert rc == 0 and "drained or down" in err and "submitted 2 runs" in err, err
        assert set(_queue().values()) == {"PENDING"}
    finally:
        subprocess.run(["scancel", "--user", "root"], check=False)
        subprocess.run(["scontrol", "update", f"nodename={node}", "state=resume"], check=False)
        _drain()
        # the node takes a moment to be idle again: a test right after this one had its
        # test submission refused ("node configuration is not available"; session 51)
        t0 = time.monotonic()
        while subprocess.run(["sinfo", "--noheader", "--format=%t"], capture_output=True,
                             text=True).stdout.split() != ["idle"]:
            assert time.monotonic() - t0 < DRAIN_TIMEOUT_S, "the node did not resume"
            time.sleep(0.5)


def test_stopping_another_cluster_leaves_the_shared_munged_running(slurm, tmp_path):
    """Session 50 (a cluster trial): a second localhost cluster reuses the running munged;
    stopping the cluster whose `start` had started it killed it, and the other cluster's
    sbatch, squeue and sinfo failed ("Munge encode failed"). Simulated here: a cluster
    folder that records the running munged as its own, stopped while this module's cluster
    runs."""
    pids = subprocess.run(["pgrep", "-x", "munged"], capture_output=True, text=True).stdout.split()
    if not pids:
        pytest.skip("no munged process to share")
    other = tmp_path / "other-cluster"
    other.mkdir()
    (other / "munged.pid").write_text(pids[0] + "\n")
    r = subprocess.run(["bash", str(SCRIPT), "stop", str(other)], capture_output=True,
                       text=True, timeout=120, env={**os.environ,
                                                    "SLURM_CONF": str(other / "slurm.conf")})
    assert r.returncode == 0, r.stderr
    assert "munged left running: another SLURM daemon on this machine uses it" in r.stderr
    assert Path(f"/proc/{pids[0]}").exists()
    assert subprocess.run(["sinfo"], capture_output=True, timeout=60).returncode == 0


def test_slurm_from_python(slurm, tmp_path, monkeypatch):
    """docs/CLUSTER.md's Python example (session 50, a cluster trial: the API was
    undocumented): run() inside executors.use() submits and raises RunsPending; the same
    call once the jobs are done returns the summary. A valueless sbatch flag passes."""
    from pycheck import executors, experiments
    root = _project(tmp_path, mixings='["spiral"]', steps=3)
    monkeypatch.chdir(tmp_path)
    cfg = experiments.load_config("twod", "quick", root)
    slurm_ex = executors.SlurmExecutor(executors.SlurmOptions(
        time="30", mem="1g", extra=executors.parse_slurm_options(["requeue"])))
    slurm_ex.check()
    with pytest.raises(executors.RunsPending, match="submitted 2 runs to SLURM"):
        with executors.use(slurm_ex):
            experiments.get("twod").run(cfg, "my-twod", seeds=[0, 1])
    _drain()
    with executors.use(slurm_ex):
        summary = experiments.get("twod").run(cfg, "my-twod", seeds=[0, 1])
    assert summary["runs_computed"] == 0 and summary["runs_reused"] == 2, summary
    assert (tmp_path / "my-twod" / "twod.md").is_file()
