"""Where an experiment's runs execute: local worker processes or SLURM jobs (submitit).

An experiment hands :meth:`pycheck.store.RunStore.run_many` a dict ``key -> (fn, kwargs)``;
the store passes the runs not yet in ``OUT/runs/`` to the executor in force (set by
``pycheck reproduce`` with :func:`use`), which calls ``done(key, result)`` for each
finished run or raises :class:`RunsPending` when runs are left to a scheduler. One code
path for every executor:

* :class:`LocalExecutor` runs them in this process (``jobs = 1``) or in ``jobs`` worker
  processes that die with this one; Ctrl-C stops them at once and keeps every finished run.
* :class:`SlurmExecutor` submits one SLURM job per run (one job array, through submitit);
  each job writes its run's JSON atomically into ``OUT/runs/``, so a crashed, cancelled
  or timed-out job leaves nothing behind and the same command resubmits exactly the runs
  that are missing and not queued or running. The tables are made once every run is in.
* :class:`CollectExecutor` (``reproduce --collect``) runs nothing: it only lets the
  experiment make its tables when every run is in.

Each executor records the plan (expected runs, job ids and log files, the command) in
``OUT/jobs/plan.json``; :func:`status` reads it for ``pycheck status OUT``.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .store import atomic_write_text, seal_run, task_record, write_json

Task = tuple[Callable[..., dict], dict]
Done = Callable[[str, dict], None]

_CURRENT: contextvars.ContextVar = contextvars.ContextVar("pycheck_executor", default=None)
# sbatch/squeue answer in well under a second on a healthy cluster; a controller that has
# not answered in this time is treated as unreachable rather than hanging the command.
SCHEDULER_TIMEOUT_S = 60


class SchedulerError(ValueError):
    """A bad SLURM option, an unreachable scheduler, or SLURM jobs still to write into the
    output folder of a local run; nothing was submitted or run."""


class RunsPending(Exception):
    """Runs are queued, running or failed on a scheduler; the tables cannot be made yet."""


class WorkerDied(RuntimeError):
    """A local worker process died (killed, or out of memory) before finishing its run."""


def use(executor):
    """Run every :meth:`RunStore.run_many` inside this block with ``executor``."""
    from .validate import context_value
    return context_value(_CURRENT, executor)


def current():
    """The executor set by :func:`use`, or ``None`` (the store then runs locally)."""
    return _CURRENT.get()


def plan_path(out: str | os.PathLike) -> Path:
    return Path(out) / "jobs" / "plan.json"


def read_plan(out: str | os.PathLike) -> dict | None:
    p = plan_path(out)
    if not p.is_file():
        return None
    try:
        plan = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        # what to do, as for a corrupt run file (session 48, a cluster trial)
        raise ValueError(f"{p}: not valid JSON ({exc}); delete it and run the reproduce "
                         "command again (stored runs are kept; jobs it named that are still "
                         "queued are no longer tracked: check `squeue`)") from None
    # what status reads: a plan of another shape raised TypeError / KeyError (session 36)
    if not (isinstance(plan, dict) and plan.get("executor") in ("local", "slurm", "collect")
            and isinstance(plan.get("expected"), list)
            # entries and command of other types raised TypeError / AttributeError (s42)
            and all(isinstance(k, str) for k in plan["expected"])
            and isinstance(plan.get("command", ""), str)
            # and the entries status reads: `"jobs": {"a": 5}` raised AttributeError (s43)
            and _dict_of(plan.get("jobs", {}), lambda j: isinstance(j, dict)
                         and isinstance(j.get("job_id"), str)
                         and isinstance(j.get("log", ""), str)
                         and isinstance(j.get("task", {}), dict))
            and _dict_of(plan.get("needs", {}), lambda ks: isinstance(ks, list)
                         and all(isinstance(k, str) for k in ks))
            and _dict_of(plan.get("tasks", {}), lambda t: isinstance(t, dict))
            and isinstance(plan.get("submit_error", ""), str)):
        raise ValueError(f"{p}: not a run plan (no executor and expected runs); delete it "
                         "and run the reproduce command again")
    return plan


def _dict_of(value, entry_ok: Callable[[object], bool]) -> bool:
    """``value`` is a dict whose values all pass ``entry_ok``."""
    return isinstance(value, dict) and all(map(entry_ok, value.values()))


def live_jobs(out: str | os.PathLike) -> dict[str, str]:
    """The runs of ``out``'s SLURM plan whose jobs are still queued or running (key -> job
    id): they will write into ``OUT/runs/``. Runs already stored are left out (a job writes
    its run once, atomically, as its last act), and so is a folder without a SLURM plan or
    on a machine without ``squeue`` (nothing here can have submitted its jobs, nor ask
    about them), or with a plan that cannot be read (it names no jobs either; a local run
    replaces it). ``SchedulerError`` if SLURM does not answer."""
    from .store import RunStore
    try:
        plan = read_plan(out)
    except ValueError:
        return {}
    if plan is None or plan["executor"] != "slurm" or shutil.which("squeue") is None:
        return {}
    store = RunStore(out)
    jobs = {k: j["job_id"] for k, j in plan.get("jobs", {}).items() if not store.has(k)}
    if not jobs:
        return {}
    states = queue_states()
    return {k: j for k, j in jobs.items() if j in states and not store.has(k)}


def refuse_live_jobs(out: str | os.PathLike) -> None:
    """Refuse (``SchedulerError``) a local run into ``out`` while SLURM jobs of its plan
    are queued or running. Session 43, a user's trial: the local run trained the same runs,
    replaced the plan (status lost track of the jobs), then the jobs overwrote its run files
    after the tables were made. A scheduler that does not answer refuses too: the plan
    says jobs were submitted, and only SLURM can tell whether they are done; waiting for
    it (or another --out) is cheap, while tables from runs a job later replaces are wrong
    without a sign."""
    try:
        live = live_jobs(out)
    except SchedulerError as exc:
        raise SchedulerError(f"--out {out} holds SLURM jobs and SLURM does not answer "
                             f"({exc}), so they may still be queued or running; retry when "
                             "it answers, or use another --out") from None
    if live:
        ids = sorted(set(live.values()))
        named = ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")
        arrays = sorted({j.split("_")[0] for j in ids})
        raise SchedulerError(
            f"--out {out} has {len(live)} runs whose SLURM jobs are still queued or running "
            f"(job {named}) and will write into it: wait for them (`pycheck status {out}`), "
            f"cancel them (`scancel {' '.join(arrays)}`) or use another --out")


def check_needs(keys: list[str], needs: dict[str, list[str]]) -> None:
    """Refuse a ``needs`` (key -> keys whose runs must be stored before it starts) that
    names a key not among ``keys`` (an experiment's tasks), or whose keys need each other."""
    unknown = sorted(({*needs} | {p for ps in needs.values() for p in ps}) - set(keys))
    if unknown:
        raise ValueError(f"needs names runs that are not tasks: {', '.join(unknown)}")
    levels(keys, needs)


def levels(keys: list[str], needs: dict[str, list[str]]) -> list[list[str]]:
    """``keys`` in batches, in order, each key after every key it needs (a needed key not
    among ``keys`` is stored already); ``ValueError`` on a cycle."""
    known, batches, placed, left = set(keys), [], set(), list(keys)
    while left:
        ready = [k for k in left if all(p in placed or p not in known for p in needs.get(k, ()))]
        if not ready:
            raise ValueError(f"runs that need each other (a cycle): {', '.join(left)}")
        batches.append(ready)
        placed.update(ready)
        left = [k for k in left if k not in placed]
    return batches


# ---------------------------------------------------------------- local
class LocalExecutor:
    """Run on this machine: in-process for ``jobs = 1``, else ``jobs`` spawned workers."""

    name = "local"

    def __init__(self, jobs: int = 1, command: str = ""):
        if jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.jobs, self.command = jobs, command

    def check(self) -> None:
        """Nothing to check locally (the SLURM executor validates options here)."""

    def execute(self, store, tasks: dict[str, Task], todo: list[str], done: Done,
                needs: dict[str, list[str]] | None = None) -> None:
        # each run's task, so that `pycheck status` can tell a checkpoint of these
        # settings (resumed) from one left by other settings (deleted when the run starts)
        plan = dict(executor="local", command=self.command, expected=list(tasks),
                    host=socket.gethostname(), pid=os.getpid(), workers=self.jobs,
                    tasks={k: store.records[k] for k in todo}, needs=needs or {})
        write_json(plan_path(store.out), plan)
        for batch in levels(todo, needs or {}):   # what a run needs is stored before it starts
            if self.jobs == 1 or len(batch) <= 1:
                from .train import one_blas_thread
                # one BLAS thread, as in the workers (train.set_threads): NumPy's results can
                # depend on its thread count, so --jobs 1 and --jobs 2 draw the same bits
                with one_blas_thread():
                    for key in batch:
                        fn, kwargs = tasks[key]
                        done(key, with_checkpoint(checkpoint_path(store.out, key), fn, kwargs))
            else:
                _run_pool(tasks, batch, done, self.jobs, store.out)
        # every run stored: a run missing later was deleted or moved, not stopped (status
        # said "interrupted" for a file deleted after the batch; session 48, a user's trial)
        write_json(plan_path(store.out), {**plan, "finished": True})


def run_threads() -> int:
    """The torch thread count every run trains at, wherever it runs: this process's own
    (the experiments set their profile's ``threads``, default 1, before they hand their
    runs over). Sums split over another number of threads round otherwise in their last
    bits, which training carries on, so a run's numbers would depend on where it ran.
    Until session 44 each local worker took ``cpu_count // jobs`` threads and a SLURM job
    ``--cpus-per-run``: on a machine with more than 2 cores (or with --cpus-per-run 2)
    ``--jobs 2`` or SLURM trained other bits than ``--jobs 1`` (1 thread in process)."""
    import torch
    return torch.get_num_threads()


def checkpoint_path(out: str | os.PathLike, key: str) -> Path:
    """Where run ``key`` of the output folder ``out`` keeps its training checkpoint while
    it trains (``OUT/jobs/checkpoints/KEY.pt``; deleted when its fit returns)."""
    return Path(out) / "jobs" / "checkpoints" / f"{key}.pt"


def with_checkpoint(path: Path, fn: Callable[..., dict], kwargs: dict) -> dict:
    """``fn(**kwargs)`` with ``path`` as the run's checkpoint file
    (:func:`pycheck.experiments._common.run_checkpoint`: the experiments pass it to
    ``fit_encoder``, ``fit_supervised`` or ``reacher.train_cnn`` as ``checkpoint=``), so that a run killed mid-training resumes from its
    last save (every 60 s of training) when it is run again, with the same result.

    The task (:func:`pycheck.store.task_record`) is written beside the checkpoint
    (``KEY.task.json``). A checkpoint left by a run of other settings (the profile changed
    after an interruption) is deleted and the run starts afresh; before, resuming it failed
    on the fit's fingerprint check ("written by a call with other data or arguments"). A
    checkpoint without that file (written before it existed) is resumed as before: the
    fingerprint still refuses a foreign one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = json.dumps(task_record(fn, kwargs), sort_keys=True)
    sidecar = task_path(path)
    if path.exists() and sidecar.exists() and sidecar.read_text() != record:
        path.unlink()
        print(f"pycheck: {path} was left by a run with other settings; deleted, the run "
              "starts afresh", file=sys.stderr, flush=True)
    atomic_write_text(sidecar, record)
    # the run's compute seconds, kept beside its checkpoints (jobs/seconds/KEY.json) for the
    # summary (RunStore.accounting: `run_seconds`): on SLURM the invocation that makes the
    # tables reuses every run, and its counts hid what the runs cost (session 48, a cluster
    # trial). A resumed run adds its seconds to those of the part before the interruption
    # (recorded when that part ended with an exception, not when it was killed)
    clock = seconds_path(path)
    earlier = _read_seconds(clock) if path.exists() else 0.0
    started = time.perf_counter()
    before = os.environ.get("PYCHECK_RUN_CHECKPOINT")
    os.environ["PYCHECK_RUN_CHECKPOINT"] = str(path)
    from .validate import RESUMED_KERNEL_FAILURES, kernels_used
    kernels_used(reset=True)
    RESUMED_KERNEL_FAILURES.clear()
    try:
        from .train import run_advice_unsaid
        # a run's read-out is its result: the hints (more pairs or steps; a latent perhaps
        # dropped) are for a user's own fit, not for a reproduction's log
        with run_advice_unsaid():
            result = fn(**kwargs)
    finally:
        _write_seconds(clock, earlier + time.perf_counter() - started)
        if before is None:
            os.environ.pop("PYCHECK_RUN_CHECKPOINT", None)
        else:
            os.environ["PYCHECK_RUN_CHECKPOINT"] = before
    if not path.exists():       # the fit deleted its checkpoint on return
        sidecar.unlink(missing_ok=True)
    from .validate import KERNEL_FAILURES
    used = kernels_used()
    failures = sorted(KERNEL_FAILURES | RESUMED_KERNEL_FAILURES)
    RESUMED_KERNEL_FAILURES.clear()
    if isinstance(result, dict) and "kernels" not in result and used:
        # which kernels did the run's work, and which had failed to build in its process so
        # that it fell back to another (whose float32 bits differ; session 44); nothing for
        # a run that used none (Reacher's rendering, say), whatever failed before it
        result = {**result, "kernels": used, "kernel_failures": failures}
    return result



def seconds_path(checkpoint: Path) -> Path:
    """Where a run's compute seconds are kept (``OUT/jobs/seconds/KEY.json``)."""
    return checkpoint.parent.parent / "seconds" / (checkpoint.stem + ".json")


def _read_seconds(path: Path) -> float:
    try:
        v = json.loads(path.read_text(encoding="utf-8")).get("seconds")
    except (OSError, ValueError, AttributeError):
        return 0.0
    return float(v) if isinstance(v, (int, float)) and v >= 0 else 0.0


def _write_seconds(path: Path, seconds: float) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(dict(seconds=round(seconds, 3),
                                                host=socket.gethostname())))
    except OSError:
        pass    # bookkeeping only: never fail a run over it


def task_path(checkpoint: Path) -> Path:
    """The task record kept beside a run's checkpoint (:func:`with_checkpoint`)."""
    return checkpoint.with_name(checkpoint.stem + ".task.json")


def _run_pool(tasks: dict[str, Task], todo: list[str], done: Done, jobs: int,
              out: str | os.PathLike) -> None:
    """Run ``todo`` in ``jobs`` spawned worker processes; store each result as it comes.

    The workers ignore SIGINT (Ctrl-C reaches the whole process group; only this process
    acts on it) and get SIGKILL when this process dies (Linux ``PR_SET_PDEATHSIG``), so
    neither Ctrl-C nor a killed parent leaves workers behind. On any exit other than
    success the workers are killed at once; finished runs are already stored.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    threads = run_threads()
    _quiet_resource_tracker()
    ex = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init,
                             initargs=(threads, os.getpid()),
                             mp_context=multiprocessing.get_context("spawn"))
    ok = False
    try:
        futures = {ex.submit(with_checkpoint, checkpoint_path(out, k), *tasks[k]): k
                   for k in todo}
        for fut in as_completed(futures):
            try:
                result = fut.result()
            except BrokenProcessPool:
                raise WorkerDied("a worker process died (killed, or out of memory?) before "
                                 "finishing its run") from None
            done(futures[fut], result)
        ok = True
    finally:
        if not ok:
            _kill_workers(ex)
        ex.shutdown(wait=ok, cancel_futures=True)


def _quiet_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (if it is not running yet) with its stderr on
    /dev/null. Why: on Ctrl-C the workers are killed at once (above), and semaphores they
    had made (torch's compile workers) are then unlinked by the tracker, which also printed
    "UserWarning: resource_tracker: There appear to be 2 leaked semaphore objects to clean
    up at shutdown" under pycheck's own "interrupted" line (session 42's note). The cleanup
    is what should happen; only the warning is dropped."""
    from multiprocessing import resource_tracker
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _kill_workers(ex) -> None:
    """SIGKILL every worker of ``ex`` (``ProcessPoolExecutor.kill_workers`` from Python 3.14;
    before that the executor keeps its processes in ``_processes``)."""
    if hasattr(ex, "kill_workers"):
        ex.kill_workers()
        return
    for p in list((getattr(ex, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.kill()


def _worker_init(threads: int, parent: int) -> None:
    """Arm the parent-death signal and ignore SIGINT first, then load torch (seconds)."""
    import ctypes
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):  # not Linux: no parent-death signal
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    from .train import set_threads
    set_threads(threads)


# ---------------------------------------------------------------- collect only
class CollectExecutor:
    """``reproduce --collect``: run nothing; let the tables be made only when all runs are in."""

    name = "collect"

    def __init__(self, command: str = ""):
        self.command = command

    def check(self) -> None:
        """Nothing to check: collecting submits nothing."""

    def execute(self, store, tasks: dict[str, Task], todo: list[str], done: Done,
                needs: dict[str, list[str]] | None = None) -> None:
        if todo:
            # named, and what to do: `status` reports the runs last submitted, which need not
            # be these (other seeds or another profile: it said "all runs are in"; s36)
            some = ", ".join(todo[:3]) + (f" and {len(todo) - 3} more" if len(todo) > 3 else "")
            raise RunsPending(
                f"{len(todo)} of {len(tasks)} runs are not in {store.dir} yet ({some}); "
                f"`pycheck status {store.out}` shows the runs last submitted (wait for any "
                "still queued or running), and this command without --collect computes the "
                "missing ones (or submits them, with --executor slurm)")
        record_complete_plan(store, "collect", self.command, tasks, needs)


def record_complete_plan(store, executor: str, command: str, tasks: dict, needs, jobs=None
                         ) -> None:
    """The plan of an invocation that found every run in and makes the tables: it becomes
    the folder's plan, so that ``status`` reports these runs and this command. Session 48,
    a cluster trial: after a full-profile submission was cancelled, a quick-profile
    ``--collect`` (and a quick ``--executor slurm``) made the quick tables, and ``status``
    still read the full plan: "6/40 done, 34 failed", rerun with ``--profile full``."""
    write_json(plan_path(store.out), dict(
        executor=executor, command=command, expected=list(tasks), needs=needs or {},
        jobs={k: j for k, j in (jobs or {}).items() if k in tasks}))


# ---------------------------------------------------------------- slurm
@dataclass
class SlurmOptions:
    """What ``pycheck reproduce --executor slurm`` passes to sbatch (per run = per job)."""

    partition: str | None = None
    gpus_per_run: int = 0
    cpus_per_run: int = 1
    mem: str | None = None
    # minutes; generous: the longest run measured took 5 min on CPU (docs/CLUSTER.md)
    time: str = "240"
    array_parallelism: int = 256
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        # each flag named alone (the message listed all three: session 48, a cluster trial)
        for flag, value, low in (("--gpus-per-run", self.gpus_per_run, 0),
                                 ("--cpus-per-run", self.cpus_per_run, 1),
                                 ("--array-parallelism", self.array_parallelism, 1)):
            if value < low:
                raise SchedulerError(f"{flag} must be >= {low}, got {value}")
        self.minutes = time_minutes(self.time)
        # sbatch reads the unit in either case (--mem 1g was refused: session 50)
        if self.mem is not None and not re.fullmatch(r"\d+[KMGT]?", self.mem.upper()):
            raise SchedulerError(f"--mem {self.mem!r}: use a size such as 8G or 4000M")
        if self.mem is not None:
            self.mem = self.mem.upper()

    def submitit_parameters(self) -> dict:
        """The parameters of :class:`submitit.SlurmExecutor` these options stand for."""
        params = dict(time=self.minutes, cpus_per_task=self.cpus_per_run, nodes=1,
                      ntasks_per_node=1, array_parallelism=self.array_parallelism,
                      additional_parameters=dict(self.extra))
        if self.partition:
            params["partition"] = self.partition
        if self.gpus_per_run:
            params["gpus_per_node"] = self.gpus_per_run
        if self.mem:
            params["mem"] = self.mem
        return params


#: submitit's sbatch asks SLURM for USR2 this many seconds before a job's time limit
#: (``--signal=USR2@90``, submitit's ``signal_delay_s``), and the job ends there: a run
#: has ``--time`` less this to train, then resumes from its checkpoint when resubmitted
WARNING_SECONDS = 90


def time_minutes(spec: str) -> int:
    """SLURM's time formats (``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``, ``D-H:M:S``) in
    whole minutes, rounded up (submitit takes minutes)."""
    m = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", spec.strip())
    if not m:
        raise SchedulerError(f"--time {spec!r}: use minutes, MM:SS, HH:MM:SS or "
                             "D-HH[:MM[:SS]] (SLURM's format)")
    days, a, b, c = (int(x) if x else None for x in m.groups())
    if days is not None:  # D-H[:M[:S]]
        seconds = ((days * 24 + a) * 60 + (b or 0)) * 60 + (c or 0)
    elif c is not None:   # H:M:S
        seconds = (a * 60 + b) * 60 + c
    elif b is not None:   # M:S
        seconds = a * 60 + b
    else:                 # M
        seconds = a * 60
    if seconds <= 0:
        raise SchedulerError(f"--time {spec!r}: must be positive")
    return -(-seconds // 60)


# The sbatch options pycheck (and submitit for it) sets on every job, with the flag to use
# instead (or why none). Passed through --slurm-option they replaced pycheck's own: array=0-3
# ran 4 array elements for 2 runs, output=/x failed to launch the job, time=0 made --time
# unlimited (session 43, a user's trial).
CONTROLLED_OPTIONS = {
    "array": "use --array-parallelism", "time": "use --time",
    "cpus-per-task": "use --cpus-per-run", "gpus": "use --gpus-per-run",
    "gpus-per-node": "use --gpus-per-run", "gpus-per-task": "use --gpus-per-run",
    "gres": "use --gpus-per-run", "mem": "use --mem", "partition": "use --partition",
    "output": "the job logs `pycheck status` reads are OUT/jobs/logs",
    "error": "the job logs `pycheck status` reads are OUT/jobs/logs",
    "open-mode": "the job logs `pycheck status` reads are OUT/jobs/logs",
    "job-name": "the jobs are named pycheck",
    "dependency": "pycheck makes the runs that need others wait for them",
    "kill-on-invalid-dep": "pycheck makes the runs that need others wait for them",
    "nodes": "each run is one task on one node", "ntasks": "each run is one task on one node",
    "ntasks-per-node": "each run is one task on one node",
    "signal": "submitit's warning before the time limit",
    # accepted until session 46 and ignored: submitit's job script ran pycheck all the same
    "wrap": "each job runs pycheck's own job script",
    # export=NONE made every job crash in submitit (session 48, a cluster trial): the jobs
    # run the submitting environment's Python and find the cluster through its variables
    "export": "each job needs the submitting environment (its Python, SLURM_CONF)",
    "export-file": "each job needs the submitting environment (its Python, SLURM_CONF)",
}


#: sbatch options that take no value, passed as ``--slurm-option exclusive`` (``--hold`` is
#: left out: its jobs would never start without a ``scontrol release``)
VALUELESS_OPTIONS = ("contiguous", "exclusive", "no-kill", "no-requeue", "overcommit",
                     "oversubscribe", "reboot", "requeue", "spread-job", "use-min-nodes")


def parse_slurm_options(pairs: list[str]) -> dict[str, str | bool]:
    """``["qos=high", "account=ml"]`` -> ``{"qos": "high", "account": "ml"}`` (sbatch's
    long option names, without ``--``); a flag of :data:`VALUELESS_OPTIONS` alone
    (``"exclusive"``) -> ``True``. An option pycheck sets itself
    (:data:`CONTROLLED_OPTIONS`) is refused, also abbreviated: sbatch reads ``--arr`` as
    ``--array``."""
    extra = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("-")
        if not sep and key in VALUELESS_OPTIONS:    # refused until session 50
            value = True
        elif not sep or not re.fullmatch(r"[a-z][a-z0-9-]*", key):
            raise SchedulerError(f"--slurm-option {pair!r}: expected KEY=VALUE with KEY an "
                                 "sbatch long option such as qos or account, or an sbatch "
                                 f"flag without a value ({', '.join(VALUELESS_OPTIONS)})")
        own = key if key in CONTROLLED_OPTIONS else next(
            (o for o in CONTROLLED_OPTIONS if o.startswith(key)), None)
        if own:
            raise SchedulerError(f"--slurm-option {pair!r}: pycheck sets --{own} itself ("
                                 f"{CONTROLLED_OPTIONS[own]})")
        extra[key.replace("-", "_")] = value
    return extra


def _scheduler(cmd: list[str], stdin: str = "") -> subprocess.CompletedProcess:
    """Run a SLURM client command; an absent or silent scheduler raises SchedulerError."""
    if shutil.which(cmd[0]) is None:
        raise SchedulerError(f"{cmd[0]} not found on PATH: no SLURM client on this machine")
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                              timeout=SCHEDULER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise SchedulerError(f"SLURM did not answer `{cmd[0]}` within "
                             f"{SCHEDULER_TIMEOUT_S} s") from None


def _scheduler_message(stderr: str) -> str:
    """The scheduler's message on one line: its error lines (all lines if none says
    ``error``), joined with `` / ``, at most 4 (sbatch's second line often holds the
    reason, and only the first was shown; session 50, a cluster trial)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()] or lines
    more = f" / ... ({len(errors) - 4} more lines)" if len(errors) > 4 else ""
    return " / ".join(errors[:4]) + more if errors else "(no message)"


def _jsonable_options(options: SlurmOptions) -> dict:
    """The options a job is submitted with, as its plan entry records them (``slurm``)."""
    return json.loads(json.dumps(options.submitit_parameters(), sort_keys=True))


def _options_change(old: dict, new: dict) -> str:
    """``"time 5 -> 10, mem (cluster's) -> 2G"``: the options that differ."""
    flat = lambda d: {**{k: v for k, v in d.items() if k != "additional_parameters"},
                      **d.get("additional_parameters", {})}
    a, b = flat(old), flat(new)
    show = lambda d, k: str(d[k]) if k in d else "(cluster's)"
    return ", ".join(f"{k} {show(a, k)} -> {show(b, k)}"
                     for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


def queue_states() -> dict[str, str]:
    """Job id (``123`` or array element ``123_4``) -> SLURM state, for jobs still queued."""
    r = _scheduler(["squeue", "--noheader", "--array", "--format=%i|%T"])
    if r.returncode != 0:
        raise SchedulerError(f"SLURM scheduler unreachable: {_scheduler_message(r.stderr)}")
    return dict(line.split("|", 1) for line in r.stdout.split() if "|" in line)


class SlurmExecutor:
    """One SLURM job per missing run, submitted as one job array through submitit."""

    name = "slurm"

    def __init__(self, options: SlurmOptions, command: str = ""):
        self.options, self.command = options, command

    def _executor(self, folder: Path, after: list[str] = (), cpu: bool = False):
        """submitit's executor for these options; ``after``: job ids the jobs must wait for
        (``--dependency=afterok``; if one of them fails, SLURM cancels the waiting jobs
        instead of leaving them queued for ever: ``--kill-on-invalid-dep=yes``); ``cpu``:
        jobs that use no GPU (:func:`pycheck.store.cpu_only`), submitted without one."""
        import submitit  # the [cluster] extra; only this executor needs it
        ex = submitit.SlurmExecutor(folder=folder)
        params = self.options.submitit_parameters()
        if cpu:
            params.pop("gpus_per_node", None)
        if after:
            params["dependency"] = "afterok:" + ":".join(after)
            params["additional_parameters"] = {**params["additional_parameters"],
                                               "kill_on_invalid_dep": "yes"}
        ex.update_parameters(job_name="pycheck", **params)
        return ex

    def check(self) -> None:
        """Refuse bad options and an unreachable scheduler before anything is written:
        ``sbatch --test-only`` validates the very script submitit would submit."""
        if importlib.util.find_spec("submitit") is None:
            raise SchedulerError("--executor slurm needs submitit: pip install -e '.[cluster]'")
        queue_states()
        from submitit.slurm.slurm import _make_sbatch_string  # the script it would submit
        try:
            script = _make_sbatch_string(command="true", folder="/tmp",
                                         **self.options.submitit_parameters())
        except ValueError as exc:
            raise SchedulerError(f"bad SLURM option: {_scheduler_message(str(exc))}") from None
        r = _scheduler(["sbatch", "--test-only"], stdin=script)
        if r.returncode != 0:
            why = _scheduler_message(r.stderr)
            unavailable = self._nodes_unavailable()
            if unavailable and "node configuration is not available" in why:
                # every node of the partition drained or down: the test submission fails
                # (no node could start the job now), while sbatch queues the jobs until a
                # node returns. It was refused, even a submit command with nothing left to
                # submit that would only have made the tables (session 48, a cluster trial)
                print(f"pycheck: SLURM's test submission says {why!r}, and every node of the "
                      f"partition is {unavailable}: any jobs wait in the queue until a node "
                      "returns (`sinfo`; `scontrol update nodename=... state=resume`)",
                      file=sys.stderr, flush=True)
                return
            raise SchedulerError(f"SLURM refused the job: {why}")

    def _nodes_unavailable(self) -> str:
        """``"drained or down (...)"`` when ``sinfo`` lists no node of the partition that
        could run a job (drained, down, failed, in maintenance or not responding), else
        ``""`` (also when ``sinfo`` does not answer)."""
        cmd = ["sinfo", "--noheader", "--format=%T"] + (
            ["--partition", self.options.partition] if self.options.partition else [])
        try:
            r = _scheduler(cmd)
        except SchedulerError:
            return ""
        states = sorted({s.strip() for s in r.stdout.split() if s.strip()})
        bad = ("drain", "down", "fail", "maint", "not_responding", "unknown", "inval",
               "future", "power")
        if r.returncode != 0 or not states or not all(
                any(b in s.lower() for b in bad) for s in states):
            return ""
        return f"drained or down ({', '.join(states)})"

    def execute(self, store, tasks: dict[str, Task], todo: list[str], done: Done,
                needs: dict[str, list[str]] | None = None) -> None:
        out, needs = store.out, needs or {}
        plan = read_plan(out) or {}
        jobs = plan.get("jobs", {}) if plan.get("executor") == "slurm" else {}
        # the queue first, then the files: a job leaves the queue only after its rename
        states = queue_states()
        todo = [k for k in todo if not store.has(k)]
        active = [k for k in todo if k in jobs and jobs[k]["job_id"] in states]
        # a job still queued or running with other settings (the profile changed since it
        # was submitted; jobs record their task from session 27 on) would store a run the
        # store then discards, and would share its checkpoint file with the new job: cancel
        # it and submit the run anew (one that ends before the scancel reaches it stores a
        # run with its old record, which the next collect replaces)
        records = store.records
        stale = [k for k in active if jobs[k].get("task", records[k]) != records[k]]
        if stale:
            _scheduler(["scancel", *(jobs[k]["job_id"] for k in stale)])
            print(f"pycheck: cancelled {len(stale)} queued or running SLURM jobs made with "
                  f"other settings ({', '.join(jobs[k]['job_id'] for k in stale)}); "
                  "submitting them anew", file=sys.stderr, flush=True)
            active = [k for k in active if k not in stale]
        # jobs submitted with other SLURM options (--time, --mem, ...) keep them: say so,
        # with the ids to cancel (a rerun with a longer --time had kept the queued jobs'
        # old limit without a word; session 50, a cluster trial). Not cancelled here: a
        # running job would lose the minutes since its last checkpoint.
        now = _jsonable_options(self.options)
        other = [k for k in active if jobs[k].get("slurm", now) != now]
        if other:
            ids = sorted({jobs[k]["job_id"].split("_")[0] for k in other})
            one = len(other) == 1
            print(f"pycheck: the SLURM options changed "
                  f"({_options_change(jobs[other[0]]['slurm'], now)}), but {len(other)} "
                  f"run{'s' * (not one)} still queued or running keep{'s' * one} "
                  f"{'its' if one else 'their'} old ones; to apply the new ones, "
                  f"`scancel {' '.join(ids)}` and run this command again (a cancelled run "
                  "resumes from its checkpoint)", file=sys.stderr, flush=True)
        submit = [k for k in todo if k not in active]
        if submit:
            store.stamp()   # the jobs store runs themselves, without the stamp
            # a run that needs others waits for their jobs (queued, running or submitted
            # in an earlier batch here) in SLURM's queue, not in this process
            def record_plan(error: str = "") -> None:
                # `submit_error`: why the runs without a job were not submitted, for status
                write_json(plan_path(out), dict(executor="slurm", command=self.command,
                                                expected=list(tasks), jobs=jobs, needs=needs)
                           | (dict(submit_error=error) if error else {}))
            sent = 0
            try:
                for batch in levels(submit, needs):
                    after = sorted({jobs[p]["job_id"] for k in batch for p in needs.get(k, ())
                                    if p in todo})
                    for group in self._groups(tasks, batch):
                        jobs.update(self._submit(out, tasks, group, records, after))
                        sent += len(group)
            except SchedulerError as exc:
                if not sent:
                    raise
                # the arrays that went in, so that a rerun does not repeat them
                record_plan(str(exc).replace(", nothing submitted", ""))
                raise SchedulerError(str(exc).replace(
                    "nothing submitted", f"{sent} runs submitted before it (see `pycheck status "
                    f"{out}`), the other {len(submit) - sent} not")) from None
            except BaseException as exc:
                # Ctrl-C (or any other error) between two sbatch calls: the arrays that went
                # in are recorded before it propagates. Session 43, a user's trial: only
                # SchedulerError was caught, the plan was not written, status said the folder
                # held no run plan and the rerun submitted the same runs again. (An interrupt
                # inside one sbatch call can still leave that one array unrecorded.)
                if sent:
                    record_plan("the submission was interrupted"
                                if isinstance(exc, KeyboardInterrupt) else
                                f"{type(exc).__name__}: {_scheduler_message(str(exc))}")
                raise
            record_plan()
        elif not todo:
            record_complete_plan(store, "slurm", self.command, tasks, needs, jobs)
        if todo:
            ids = sorted({jobs[k]["job_id"].split("_")[0] for k in submit})
            raise RunsPending(
                (f"submitted {len(submit)} run{'s' * (len(submit) != 1)} to SLURM "
                 f"(job {', '.join(ids)})" if submit
                 else "nothing submitted") +
                (f"; {len(active)} run{'s' * (len(active) != 1)} still queued or running"
                 if active else "") +
                f"; {len(tasks) - len(todo)} of {len(tasks)} done. Follow with "
                f"`pycheck status {out}`; rerun this command (or add --collect) once all "
                "are done to make the tables")

    def _submit(self, out: Path, tasks: dict[str, Task], keys: list[str],
                records: dict[str, dict], after: list[str] = ()) -> dict[str, dict]:
        import submitit
        folder = Path(out).resolve() / "jobs" / "logs"
        runs = Path(out).resolve() / "runs"
        ex = self._executor(folder, after, cpu=_cpu_only(tasks[keys[0]]))
        try:
            with ex.batch():
                threads = run_threads()
                futures = [ex.submit(run_and_store, str(runs), k, *tasks[k], threads)
                           for k in keys]
        except (subprocess.CalledProcessError, submitit.core.utils.FailedJobError,
                OSError) as exc:
            why = _scheduler_message(str(getattr(exc, "stderr", "") or exc))
            raise SchedulerError(f"sbatch failed, nothing submitted: {why}") from None
        slurm = _jsonable_options(self.options)
        return {k: dict(job_id=f.job_id, log=str(f.paths.stderr), task=records[k], slurm=slurm)
                for k, f in zip(keys, futures)}

    @staticmethod
    def _groups(tasks: dict[str, Task], keys: list[str]) -> list[list[str]]:
        """``keys`` as one job array per kind: runs marked :func:`pycheck.store.cpu_only`
        apart, since they go without the GPU the others ask for."""
        groups = [[k for k in keys if _cpu_only(tasks[k]) == cpu] for cpu in (False, True)]
        return [g for g in groups if g]


def _cpu_only(task: Task) -> bool:
    return getattr(task[0], "cpu_only", False)


def run_and_store(runs_dir: str, key: str, fn: Callable[..., dict], kwargs: dict,
                  threads: int | None = None) -> str:
    """The body of one SLURM job: compute one run and write its JSON atomically.

    Torch trains at ``threads``, the submitting process's count (:func:`run_threads`), so
    the job's numbers equal a local run's whatever ``--cpus-per-run`` gave it; ``None``
    (jobs submitted before session 44) uses the CPUs SLURM gave the job. A crash,
    ``scancel`` or the time limit stops the job before the rename, so ``runs_dir`` never
    holds a partial result.
    """
    signal.signal(signal.SIGTERM, _stop_on_sigterm)   # first: importing torch takes seconds
    # From here on a scancel stops the run. Before (while submitit loads the job's pickle,
    # which imports the experiment's module and torch) submitit ignores SIGTERM, and a job
    # cancelled then may still finish within SLURM's KillWait and store a complete run.
    print(f"pycheck: {key}: started; scancel now stops it, nothing stored", flush=True)
    from .store import RunStore
    from .train import set_threads
    set_threads(threads if threads is not None
                else int(os.environ.get("SLURM_CPUS_PER_TASK", "1")))
    path = RunStore(Path(runs_dir).parent).path(key)
    record = task_record(fn, kwargs)
    if _stored_as(path, record):
        # SLURM requeues a job whose node it lost (JobRequeue=1), also after the job stored
        # its run; the requeued job trained it again from scratch and replaced the file
        # under tables already made (session 50, a cluster trial)
        print(f"pycheck: {key}: already stored with this task ({path}; a requeued job?): "
              "nothing to do", flush=True)
        return str(path)
    result = with_checkpoint(checkpoint_path(Path(runs_dir).parent, key), fn, kwargs)
    write_json(path, seal_run({**result, RunStore.TASK: record}))
    return str(path)


def _stored_as(path: Path, record: dict) -> bool:
    """Whether ``path`` holds a whole run (its seal intact) of task ``record``."""
    from .store import RunStore, read_run
    try:
        run = read_run(path) if path.is_file() else None
    except ValueError:                   # corrupt or edited: computed again
        return False
    return isinstance(run, dict) and run.get(RunStore.TASK) == record


def _stop_on_sigterm(signum, frame):
    """``scancel`` and the time limit send SIGTERM, which submitit only logs (it waits for
    its own USR2), so a cancelled job computed on for SLURM's KillWait (30 s) and could still
    store its run (a flaky tests/test_slurm.py; on the localhost cluster a job that ignores
    SIGTERM as submitit does wrote its file 8 s after its scancel). Raising stops the run at
    once and unwinds through :func:`pycheck.store.atomic_write_bytes`, which removes its
    temp file."""
    raise SystemExit(f"pycheck: stopped by {signal.Signals(signum).name} (scancel or the "
                     "time limit); nothing stored")


# ---------------------------------------------------------------- status
@dataclass
class Status:
    """Every expected run of an output folder, by state."""

    executor: str
    command: str
    done: list[str]
    queued: list[str]
    running: list[str]
    failed: list[tuple[str, str, str]]  # key, reason, log file
    #: runs of a local invocation that stopped (Ctrl-C, killed) before finishing them: not
    #: failures, most never began (session 45: they were listed as failed)
    stopped: list[tuple[str, str, str]] = field(default_factory=list)
    #: run -> its SLURM job id (``123_4``), or for a local invocation its process id
    ids: dict[str, str] = field(default_factory=dict)


# the reason :func:`status` gives a run whose file cannot be read (``pycheck status`` then
# says to delete it before rerunning)
CORRUPT_RUN = "its run file is corrupt"


def status(out: str | os.PathLike) -> Status:
    """Read ``OUT/jobs/plan.json`` and ``OUT/runs/`` (and ask SLURM about its jobs)."""
    from .store import RunStore
    if not Path(out).is_dir():     # a file was "no such folder" too (session 42)
        raise ValueError(f"{out}: " + ("not a folder" if Path(out).exists() else
                                       "no such folder"))
    plan = read_plan(out)
    if plan is None and (Path(out) / "bound_summary.json").is_file():
        # bound trains nothing: it reads the other experiments' runs (session 45: a trial
        # was asked whether its folder was a reproduce folder at all)
        raise ValueError(f"{out} is `pycheck reproduce bound`'s folder: bound runs nothing of "
                         "its own (it reads the runs of twod, scaling, gennorm and control "
                         "beside it); its result is bound_summary.json. Ask status about "
                         "those folders")
    if plan is None:
        raise ValueError(f"{out} holds no run plan ({plan_path(out)}); is it a "
                         "`pycheck reproduce` output folder?")
    store = RunStore(out)
    # the queue first, then the files: a job leaves the queue only after its rename. With
    # every run stored there is nothing to ask SLURM (a controller down made this exit 2
    # for a finished folder: session 43, a user's trial)
    states = {}
    if plan["executor"] == "slurm" and not all(map(store.has, plan["expected"])):
        try:
            states = queue_states()
        except SchedulerError as exc:
            n = sum(map(store.has, plan["expected"]))
            raise SchedulerError(f"{exc}; {n}/{len(plan['expected'])} runs of {out} are "
                                 "stored, the others' jobs cannot be asked about until it "
                                 "answers") from None
    # a run file that cannot be read is not done (it was counted done: session 36)
    corrupt = {k: err for k in plan["expected"] if store.has(k)
               and (err := store.unreadable(k)) is not None}
    done = [k for k in plan["expected"] if store.has(k) and k not in corrupt]
    missing = [k for k in plan["expected"] if not store.has(k)]
    st = Status(plan["executor"], plan.get("command", ""), done, [], [], [])
    st.failed.extend((k, f"{CORRUPT_RUN}: {err}", str(store.path(k)))
                     for k, err in corrupt.items())
    if plan["executor"] == "slurm":
        st.ids = {k: f"job {j['job_id']}" for k, j in plan.get("jobs", {}).items()
                  if isinstance(j, dict) and "job_id" in j}
        for k in missing:
            if k not in plan.get("jobs", {}):
                # sbatch failed or was interrupted before this run's array went in: it was
                # reported as "job ?: not run: it needs render ..." (session 43, a user's trial)
                why = plan.get("submit_error") or "the submission stopped before it"
                st.failed.append((k, f"not submitted ({why}){_resumable(out, k, None)}", ""))
                continue
            job = plan["jobs"][k]
            state = states.get(job.get("job_id", ""))
            if state in ("PENDING", "CONFIGURING", "REQUEUED", "RESIZING", "SUSPENDED"):
                st.queued.append(k)
            elif state is not None:  # RUNNING, COMPLETING: its result is not renamed in yet
                st.running.append(k)
            else:
                log = rebased_log(out, job.get("log", ""))
                # a job that waited for a failed one was cancelled by SLURM before it ran
                unmet = [p for p in plan.get("needs", {}).get(k, ()) if not store.has(p)]
                why = (f"not run: it needs {', '.join(unmet)}, which did not finish"
                       if unmet and not Path(log).is_file() else _reason(log))
                st.failed.append((k, f"job {job.get('job_id', '?')}: {why}"
                                  f"{_resumable(out, k, job.get('task'))}", log))
    elif missing:
        alive = plan.get("host") == socket.gethostname() and _alive(plan.get("pid"))
        if alive:
            st.ids = {k: f"process {plan['pid']}" for k in missing}
        # the batch runs its missing runs in the plan's order, `workers` at a time: the
        # first ones run, the others wait (all were counted running: session 36)
        workers = plan.get("workers")
        workers = workers if isinstance(workers, int) and workers > 0 else len(missing)
        for i, k in enumerate(missing):
            if plan.get("finished") is True:     # before `alive`: its process may go on
                st.stopped.append((k, "not stored: the invocation that planned it finished, "
                                      "so its run file was deleted or moved since"
                                   f"{_resumable(out, k, plan.get('tasks', {}).get(k))}", ""))
            elif alive:
                (st.running if i < workers else st.queued).append(k)
            else:
                # Ctrl-C, a kill, or another run's exception stopped the batch: nothing
                # records which, so the reason names all three (a review's note)
                st.stopped.append((k, "not done (the local run was interrupted, killed, or "
                                      "stopped by another run's failure)"
                                   f"{_resumable(out, k, plan.get('tasks', {}).get(k))}", ""))
    return st


def rebased_log(out, log: str) -> str:
    """A job's log file as found in the folder ``status`` reads: the plan records the
    absolute paths submitit gave, so a copied or moved output folder's status named the
    original folder's logs (session 46, a cluster trial). The same file under this folder's
    ``jobs/logs/`` is preferred when it exists; otherwise the recorded path."""
    marker = f"{os.sep}jobs{os.sep}logs{os.sep}"
    i = log.rfind(marker)
    if i >= 0:
        local = Path(out) / "jobs" / "logs" / log[i + len(marker):]
        if local.is_file():
            return str(local)
    return log


def _resumable(out, key: str, task: dict | None) -> str:
    """What run ``key`` does with its checkpoint when run again: ``"; resumes from its
    checkpoint"`` if it left one, ``"; starts afresh ..."`` if that checkpoint's task record
    (``KEY.task.json``) differs from ``task``, the run's task in the plan (the latest
    reproduce's settings; :func:`with_checkpoint` then deletes the checkpoint), else ``""``.
    Without a record on either side (plans and checkpoints from before they kept one) the
    checkpoint is taken to resume, as the fit's own fingerprint check then decides."""
    path = checkpoint_path(out, key)
    if not path.is_file():
        return ""
    try:
        left = json.loads(task_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        left = None
    if task is not None and left is not None and left != task:
        return ("; starts afresh (its checkpoint was left by a run with other settings and "
                "is deleted when the run starts)")
    return "; resumes from its checkpoint"


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (TypeError, ValueError, ProcessLookupError):
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _reason(log: str) -> str:
    """Why a job ended without a result, from the end of its stderr file."""
    try:
        with open(log, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 20000))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        # a job cancelled while it was queued never writes one; it was "ended without a
        # result" (session 50, a cluster trial)
        return "never started: no log file (cancelled while queued, or lost before it ran)"
    if "DUE TO TIME LIMIT" in tail or "timed-out" in tail:
        return "hit its time limit (raise --time)"
    # submitit's sbatch asks for USR2 90 s before the time limit (--signal=USR2@90); a job
    # whose Python had not yet installed submitit's handler dies of it, and srun then logs
    # only "task 0: User defined signal 2" (a flaky tests/test_slurm.py, session 17)
    if "User defined signal 2" in tail:
        return ("hit its time limit (SLURM's warning signal USR2 came before the job could "
                "handle it; raise --time)")
    if "CANCELLED" in tail:
        return "cancelled"
    if "has expired" in tail:  # srun's line when the job was cancelled before its step ran
        return "cancelled before its run started"
    # the exception's class without its module ("pycheck.train.TrainingDiverged: ..." had
    # matched nothing: "ended without a result"; session 37)
    errors = re.findall(r"^(?:\w+\.)*(\w+(?:Error|Exception|Diverged|Mismatch)\b.*)$", tail,
                        re.M)
    return f"crashed: {errors[-1][:200]}" if errors else "ended without a result"


def shell_command(argv: list[str]) -> str:
    """How a user reruns ``pycheck ARGV`` (for status messages and the plan)."""
    return "pycheck " + shlex.join(argv)
