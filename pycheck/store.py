"""Crash-safe result files and resumable experiment runs.

Every result file is written to a temporary file in the same folder and renamed into place
(``os.replace`` is atomic on POSIX), so an interrupted run never leaves a half-written
file. :class:`RunStore` keeps one JSON per finished run under ``<out>/runs/``; a resumed
``pycheck reproduce`` finds them and does not redo those runs.
"""
from __future__ import annotations

import contextlib
import contextvars
import csv
import errno
import fcntl
import glob
import hashlib
import io
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename); create parent folders.
    Inside :meth:`TableStage.buffering`, a file directly in the staged folder is kept in
    memory until :meth:`TableStage.commit`."""
    path = Path(path)
    stage = _STAGE.get()
    if stage is not None and stage.holds(path):
        _check_regular(path)
        stage.files[path] = bytes(data)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    _check_regular(path)
    tmp = _temp_copy(path, data)
    with _removed_on_error(tmp, path):
        os.replace(tmp, path)
    return path


def git_commit(root: Path, paths: tuple[str, ...] = ()) -> str:
    """The commit of the checkout whose top folder is ``root`` (``-dirty`` with uncommitted
    changes to tracked files, among ``paths`` if given), or ``"unknown"`` where ``root`` is
    not a checkout's top (a package installed into a .venv inside a checkout would otherwise
    report that checkout's commit, clean whatever the installed copy holds: a review's find)."""
    import subprocess
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=5)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != Path(root).resolve():
            return "unknown"
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return "unknown"
        # a tree with uncommitted changes to tracked files is not that commit (session 36:
        # cite and verify's JSON named a clean commit for an edited theorems.toml)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no", "--", *paths], capture_output=True,
                               text=True, timeout=5)
        return out.stdout.strip() + ("-dirty" if dirty.returncode == 0 and dirty.stdout.strip()
                                     else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance() -> dict:
    """What made a set of numbers: pycheck's version and commit, Python, torch and NumPy,
    the CPU, torch's thread count and whether CUDA was there (a session-45 trial found no
    summary saying any of it, while docs/RESULTS_HISTORY.md records drifts between code
    versions)."""
    import platform

    import numpy as np
    import torch

    from . import __version__
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    # dirty only for changes to the code: a reproduce rewrites the committed results
    root = Path(__file__).resolve().parent.parent
    return dict(pycheck=__version__, commit=git_commit(root, ("pycheck", "pyproject.toml")),
                python=platform.python_version(), torch=torch.__version__,
                numpy=np.__version__, cpu=cpu, torch_threads=torch.get_num_threads(),
                cuda=(torch.cuda.get_device_name(0) if torch.cuda.is_available() else None))


def _temp_copy(path: Path, data: bytes) -> str:
    """``data`` written and synced to a new temporary file beside ``path`` (its name); on
    any error the file is removed and an ``OSError`` names ``path``."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise _naming(err, path) from None
    with _removed_on_error(tmp, path):
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    return tmp


@contextlib.contextmanager
def _removed_on_error(tmp: str, path: Path):
    """On any error in the block the temporary file ``tmp`` is removed; an ``OSError``
    comes out naming ``path`` (the file the user asked for), anything else unchanged."""
    try:
        yield
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None:
            raise _naming(err, path) from None
        raise


def _check_regular(path: Path) -> None:
    if path.exists() and not path.is_file():
        # the rename would replace a device or a FIFO (as root, /dev/null became a regular
        # file; session 42) and fail on a folder with a less clear message
        raise OSError(errno.EEXIST, "exists and is not a regular file", str(path))


_STAGE: contextvars.ContextVar = contextvars.ContextVar("pycheck_table_stage", default=None)


class TableStage:
    """The files an experiment writes directly into its output folder (tables, figures,
    summaries; not ``runs/``, ``jobs/`` or ``cache/``), held in memory while it runs and
    written together by :meth:`commit`, with Ctrl-C deferred over the renames.

    Why: each file was atomic but the set was not. A Ctrl-C or a full disk while
    ``reproduce`` wrote its tables left some of them from this invocation and some from the
    previous one, with nothing to tell which (session 44, a user's trial: gennorm.json and
    .csv for 2 seeds beside a gennorm.md, figure and summary for 1). Now an interrupted
    invocation leaves the previous tables whole; its runs are stored, so a rerun makes the
    tables without training."""

    def __init__(self, out: str | os.PathLike):
        self.dir = Path(out).resolve()
        self.files: dict[Path, bytes] = {}

    def holds(self, path: Path) -> bool:
        return path.resolve().parent == self.dir

    def buffering(self):
        """Within this block, files written directly into the folder are held here."""
        from .validate import context_value
        return context_value(_STAGE, self)

    def commit(self) -> None:
        """Write every held file: all temporary files first, then the renames."""
        files, self.files = self.files, {}
        if not files:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmps: list[tuple[str, Path]] = []
        try:
            for path, data in files.items():
                _check_regular(path)
                tmps.append((_temp_copy(path, data), path))
            with _sigint_deferred():
                for tmp, path in tmps:
                    os.replace(tmp, path)
        finally:
            for tmp, _ in tmps:
                with contextlib.suppress(OSError):
                    Path(tmp).unlink(missing_ok=True)


@contextlib.contextmanager
def _sigint_deferred():
    """Hold back SIGINT in the block (main thread only), then act on it as it would have."""
    import signal
    import threading
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if got and callable(old):
            old(signal.SIGINT, None)


def _naming(err: OSError, path: Path) -> OSError:
    """``err`` naming the file the user asked for, not the temporary one beside it (a
    read-only folder gave "runs/.config.json.bouud4aq.tmp: Permission denied"; s36)."""
    return type(err)(err.errno, err.strerror, str(path))


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _jsonable(x: Any) -> Any:
    """Convert NumPy scalars/arrays and non-finite floats into strict JSON values."""
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(_jsonable(obj), indent=2, allow_nan=False) + "\n")


def savefig(fig, path: str | os.PathLike, **kwargs) -> Path:
    """Save a matplotlib figure atomically (PNG by default, 150 dpi)."""
    buf = io.BytesIO()
    kwargs.setdefault("dpi", 150)
    kwargs.setdefault("bbox_inches", "tight")
    fig.savefig(buf, format=Path(path).suffix.lstrip(".") or "png", **kwargs)
    return atomic_write_bytes(path, buf.getvalue())


SEAL = "_sha256"    # a stored run's checksum of its own JSON (see seal_run)


def _digest(run: dict) -> str:
    body = {k: v for k, v in run.items() if k != SEAL}
    text = json.dumps(_jsonable(body), sort_keys=True, allow_nan=False, ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal_run(run: dict) -> dict:
    """``run`` with its checksum under ``_sha256``: the SHA-256 of its canonical JSON.

    Why: a run file edited by hand into valid JSON with fields of the wrong type or
    value (``"r2_hz": null``) was counted done by ``pycheck status`` and broke the tables
    with a traceback, or worse, entered them (session 42's note). With the seal, a stored
    run is used only as it was written; :func:`read_run` names an edited one. JSON floats
    round-trip exactly, so the digest of the file read back equals the one written."""
    return {**{k: v for k, v in run.items() if k != SEAL}, SEAL: _digest(run)}


def read_run(path: str | os.PathLike) -> Any:
    """A stored run's JSON (:func:`read_json`), checked against its seal when it has one
    (runs stored before session 43 have none and are read as they are); ``ValueError``
    naming the file when the content no longer matches the seal."""
    run = read_json(path)
    if isinstance(run, dict) and SEAL in run and run[SEAL] != _digest(run):
        raise ValueError(f"{path}: edited after it was stored (its {SEAL} checksum no "
                         "longer matches its content); delete it to recompute that run")
    return run


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file; a corrupt one raises ``ValueError`` naming the file."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); delete it to recompute "
                         "that run") from None


class FolderBusy(RuntimeError):
    """Another process holds the lock of an output folder."""


def missing_folders(path: str | os.PathLike) -> list[Path]:
    """``path`` and those of its ancestors that do not exist yet, deepest first: the folders a
    ``mkdir(parents=True)`` of it creates, for :func:`remove_empty_folders` to undo."""
    made, p = [], Path(path)
    while not p.exists():
        made.append(p)
        p = p.parent
    return made


def remove_empty_folders(made: list[Path]) -> None:
    """Undo the folders a refused command created (``made`` from :func:`missing_folders`,
    deepest first): each is removed, with any empty folders below it, if nothing was written
    into it; a folder holding a file is kept, and so are its ancestors."""
    for d in made:
        if not d.is_dir():
            continue
        for sub in sorted((q for q in d.rglob("*") if q.is_dir()), key=lambda q: -len(q.parts)):
            if not any(sub.iterdir()):
                sub.rmdir()
        if any(d.iterdir()):
            return
        d.rmdir()


@contextlib.contextmanager
def lock_folder(out: str | os.PathLike, who: str = "pycheck reproduce"):
    """Hold an exclusive lock on the folder ``out`` (created if needed) while writing into it.

    Two ``pycheck reproduce`` into one folder would otherwise both redo every run (two
    ``pycheck fit``: both train, and the second overwrites the first's fit); the second
    one is refused with :class:`FolderBusy` instead (``who`` names the command). The lock is an ``flock`` on the
    folder itself (no lock file left behind), so the kernel releases it when its holder
    dies, even by SIGKILL.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # the holder is not known (the lock is on the folder, no file names it): a
            # fit holding it was called "another pycheck reproduce" (session 44)
            # "this one" read as the current command (session 48, a cluster trial)
            raise FolderBusy(f"{out} is in use by another pycheck process writing into it, "
                             f"so this {who} cannot write there; wait for it or use another "
                             "--out") from None
        yield out
    finally:
        os.close(fd)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    # an empty cell, as the CSV has it: reacher's oracle row read "None" (session 47)
    return "" if v is None else str(v)


def write_table(out: str | os.PathLike, stem: str, rows: list[dict], title: str = "",
                note: str = "") -> list[Path]:
    """Write ``rows`` (list of flat dicts, same keys) as ``stem``.json, .csv and .md."""
    out = Path(out)
    if not rows:
        raise ValueError(f"write_table({stem!r}): no rows")
    cols = list(rows[0])
    s = io.StringIO()
    w = csv.DictWriter(s, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    w.writerows(_jsonable(rows))
    md = [f"## {title}\n" if title else "", "| " + " | ".join(cols) + " |",
          "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    if note:
        md += ["", note]
    return [write_json(out / f"{stem}.json", rows),
            atomic_write_text(out / f"{stem}.csv", s.getvalue()),
            atomic_write_text(out / f"{stem}.md", "\n".join(md).lstrip("\n") + "\n")]


class LineProgress:
    """Progress of a long loop for a log file: when stderr is not a terminal (a SLURM job,
    ``nohup``, CI), where a tqdm bar would be off or a stream of carriage returns, one line
    ``pycheck: DESC: i / total (p%), s`` at most every ``every`` seconds and one at the end,
    followed by the latest value of each quantity passed to :meth:`update` (a fit's batch
    loss and held-out objective, as its bar shows them). On a terminal it prints nothing
    (the caller's tqdm bar is shown instead).

    >>> progress = LineProgress(len(items), "render OU")
    >>> for i, item in enumerate(items): ...; progress.update(i + 1)
    >>> progress.close()
    """

    def __init__(self, total: int, desc: str, every: float = 60.0, enabled: bool = True):
        self.total, self.desc, self.every = total, desc, every
        self.on = enabled and not sys.stderr.isatty() and total > 0
        self.t0 = self._last = time.perf_counter()
        self.count = 0
        self.info: dict[str, float] = {}

    def update(self, count: int, info: dict[str, float] | None = None) -> None:
        self.count = count
        if info:
            self.info.update(info)
        now = time.perf_counter()
        if self.on and now - self._last >= self.every and count < self.total:
            self._last = now
            self._line(now)

    def close(self) -> None:
        if self.on and self.count:
            self._line(time.perf_counter())
            self.on = False

    def _line(self, now: float) -> None:
        values = "".join(f"; {k} {v:.4g}" for k, v in self.info.items())
        print(f"pycheck: {self.desc}: {self.count} / {self.total} "
              f"({100 * self.count / self.total:.0f}%), {now - self.t0:.0f} s{values}",
              file=sys.stderr, flush=True)


def locates(*names: str) -> Callable:
    """Mark keyword arguments of a task function as saying *where* it finds its inputs (a
    cache folder), not *what* it computes: :func:`task_record` leaves them out.

    So a run stored by a task that reads its inputs from the output folder (Reacher's
    rendered frames under ``OUT/cache``) is still reused when that folder is moved or
    renamed, which a record holding the path would refuse."""
    return lambda fn: _unrecorded(fn, names)


def shows(*names: str) -> Callable:
    """Mark keyword arguments of a task function that change only what a run shows while
    it runs (``progress``), not what it computes: :func:`task_record` leaves them out, so
    a profile that turns progress output on or off still reuses its stored runs."""
    return lambda fn: _unrecorded(fn, names)


def _unrecorded(fn: Callable, names: tuple[str, ...]) -> Callable:
    """``fn`` with keyword arguments ``names`` left out of its :func:`task_record`."""
    fn.unrecorded_kwargs = getattr(fn, "unrecorded_kwargs", ()) + tuple(names)
    return fn


def cpu_only(fn: Callable) -> Callable:
    """Mark a task function that uses no GPU (Reacher's software rendering): the SLURM
    executor submits its jobs without ``--gpus-per-run``, so that they neither hold a GPU
    they leave idle nor wait in the queue for one."""
    fn.cpu_only = True
    return fn


def task_record(fn: Callable[..., dict], kwargs: dict) -> dict:
    """What a :meth:`RunStore.run_many` task computes, as JSON: the function's qualified
    name and its arguments, less those marked with :func:`locates` or :func:`shows`. A
    stored run is reused only while its record equals this."""
    where = getattr(fn, "unrecorded_kwargs", ())
    return json.loads(json.dumps(_jsonable(dict(
        fn=f"{fn.__module__}.{fn.__qualname__}",
        kwargs={k: v for k, v in kwargs.items() if k not in where})), allow_nan=False))


def _warn_mixed_kernels(results: dict[str, dict]) -> None:
    """Say so when some of the folder's runs were made in a process where a kernel had
    failed to build (a read-only cache, no compiler) and others not: the former may have
    used a fallback (``kernel_failures`` and ``kernels`` in each run, since session 44)."""
    failed = {k: tuple(r["kernel_failures"]) for k, r in results.items()
              if isinstance(r.get("kernel_failures"), list)}
    if len(set(failed.values())) > 1:
        some = sorted(k for k, v in failed.items() if v)
        print(f"pycheck: warning: {len(some)} of the {len(failed)} runs here were made in a "
              f"process where a kernel had failed to build ({', '.join(some[:3])}"
              f"{' ...' if len(some) > 3 else ''}: `kernel_failures` in their files), so they "
              "may have used a fallback whose float32 results differ in the last bits; "
              "delete them and rerun, where the kernels build, to redo them",
              file=sys.stderr, flush=True)


class RunStore:
    """Resumable store of finished runs: one JSON file per run key under ``<out>/runs``.

    >>> store = RunStore(out)
    >>> res = store.run("sigreg-N64-seed0", lambda: train_and_measure(...))

    ``run`` returns the stored result if that key already finished (so an interrupted
    ``reproduce`` resumes), otherwise calls ``fn`` (which must return a JSON-able dict)
    and stores its result atomically.

    ``config`` (the experiment's profile) is stamped into ``runs/config.json`` when the
    first run is stored; opening a store whose stamp differs (other than in ``seeds``,
    which may grow, or ``profile`` or ``jobs``) while it holds runs raises ``ValueError``,
    so a changed config never silently reuses stale runs, and a config refused before any
    run finished does not lock the folder.

    With ``per_run=True`` (experiments whose every run is a :meth:`run_many` task) a changed
    config is not refused: each run stored by :meth:`run_many` records its task (function
    and arguments, :func:`task_record`), and a run is reused only if that record equals the
    new task's. Runs whose task changed, and runs stored without a record while the config
    changed, are moved to ``runs/replaced/`` (kept, never read) and recomputed; the stamp
    then becomes the new config. So changing one row of a profile recomputes that row only.
    """

    IGNORED = ("seeds", "profile", "jobs")
    TASK = "_task"      # the key of a run's task record in its JSON

    def __init__(self, out: str | os.PathLike, config: dict | None = None,
                 per_run: bool = False):
        self.out = Path(out)
        self.dir = self.out / "runs"
        self.config = config
        self.per_run = per_run
        self.changed: list[str] = []     # config keys that differ from the stamp (per_run)
        self.replaced = 0
        self.records: dict[str, dict] = {}  # the last run_many's task records, by key
        self.used: set[str] = set()          # every run_many's keys (the summary's runs)
        if config is not None:
            self._check_config(config, per_run)
        # a stamp left by a refused config (no runs) is replaced when the first run is stored
        self._stamped = config is None or ((self.dir / "config.json").is_file()
                                           and self._has_runs())
        self.dir.mkdir(parents=True, exist_ok=True)
        self.reused = 0
        self.computed = 0
        self._started = time.perf_counter()

    def accounting(self, summary: str | os.PathLike) -> dict:
        """``runs_computed``, ``runs_reused`` and ``runs_replaced`` of this invocation, and
        ``invocations``: those counts and the wall seconds of every invocation that wrote
        the summary file ``summary``, oldest first (the earlier ones read from it).

        Why a log: a ``reproduce`` that reuses every run (one more seed, a record added to
        old runs) rewrites the summary, and its counts alone would hide what the runs
        cost and when they were computed. A summary from before the log contributes its
        counts (and ``wall_seconds``, if it had one) as the first entry. The wall seconds
        count from this store's creation, which the experiments make first."""
        try:
            old = json.loads(Path(summary).read_text())
        except (OSError, ValueError):
            old = {}
        log = old.get("invocations") if isinstance(old, dict) else None
        if not isinstance(log, list):
            log = ([{k: old[k] for k in ("runs_computed", "runs_reused", "wall_seconds")
                     if k in old}] if isinstance(old, dict) and "runs_computed" in old else [])
        now = dict(finished=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   runs_computed=self.computed, runs_reused=self.reused,
                   runs_replaced=self.replaced,
                   wall_seconds=round(time.perf_counter() - self._started, 1),
                   # what made this invocation's numbers (absent before session 45)
                   provenance=self._provenance())
        return dict(runs_computed=self.computed, runs_reused=self.reused,
                    runs_replaced=self.replaced,
                    # which runs the tables were made from (each run file's seal): `pycheck
                    # status` calls the tables made only while these are the stored runs
                    run_seals={k: self.seal_of(k) for k in sorted(self.used)},
                    # what the runs cost where they ran (locally or in SLURM jobs), summed
                    # over the runs that recorded it (jobs/seconds/, since session 48)
                    **self._run_seconds(),
                    # the settings the runs are made with (the config stamp's content)
                    settings=self._stamp(self.config) if self.config is not None else None,
                    invocations=log + [now])

    def _provenance(self) -> dict:
        """:func:`provenance`, with ``torch_threads`` the count the runs train with (the
        experiments' ``threads`` setting, default 1: :func:`pycheck.experiments._common.
        torch_threads`), not this process's: a trial read 2 there for runs trained at 1
        (session 47)."""
        prov = provenance()
        if isinstance(self.config, dict):
            threads = self.config.get("threads", 1)
            if isinstance(threads, int) and not isinstance(threads, bool):
                prov["torch_threads"] = max(1, threads)
        return prov

    def stamp(self) -> None:
        """Write the config stamp if this store has not yet: at the first stored run, or
        before an executor whose runs other processes store (SLURM jobs) submits them."""
        if not self._stamped:
            write_json(self.dir / "config.json", self._stamp(self.config))
            self._stamped = True

    def _store(self, key: str, result: dict, task: dict | None = None) -> None:
        self.stamp()
        if task is not None:
            result = {**result, self.TASK: task}
        write_json(self.path(key), seal_run(result))

    def _stamp(self, config: dict) -> dict:
        return _jsonable({k: v for k, v in config.items() if k not in self.IGNORED})

    def _has_runs(self) -> bool:
        return self.dir.is_dir() and any(p.suffix == ".json" and p.name != "config.json"
                                         for p in self.dir.iterdir())

    def _check_config(self, config: dict, per_run: bool) -> None:
        stamp = self.dir / "config.json"
        if not self._has_runs():
            return
        try:
            old = read_json(stamp) if stamp.is_file() else None
        except ValueError:
            old = False                 # there, but not JSON
        if per_run and not isinstance(old, dict):
            # every run records its own task, so a missing or corrupt stamp costs nothing:
            # the runs whose task is asked for again are reused. Before session 42 a corrupt
            # stamp was "delete it to recompute that run", and after deleting it every
            # finished run had to be thrown away ("runs without a config stamp")
            self.changed = ["(the config stamp runs/config.json is missing or unreadable)"]
            return
        if old is None:
            raise ValueError(f"{self.dir} holds runs without a config stamp; use another "
                             "--out or delete that folder")
        if not isinstance(old, dict):
            raise ValueError(f"{stamp}: not a config stamp (not a JSON object); use another "
                             "--out or delete that folder")
        new = json.loads(json.dumps(self._stamp(config)))
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if diff and per_run:
            self.changed = diff
        elif diff:
            raise ValueError(
                f"{self.dir} holds runs made with a different config (differs in: "
                f"{', '.join(diff)}); use another --out or delete that folder")

    def path(self, key: str) -> Path:
        if key == "config":
            raise ValueError("'config' is reserved for the config stamp")
        safe = "".join(c if c.isalnum() or c in "-_.=" else "_" for c in key)
        return self.dir / f"{safe}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def run(self, key: str, fn: Callable[[], dict]) -> dict:
        """``fn()``'s result, stored under ``key``, or the stored one. ``fn`` runs with the
        run's checkpoint file set (:func:`pycheck.executors.with_checkpoint`), so a run
        killed mid-training resumes when it is run again."""
        from .executors import checkpoint_path, with_checkpoint
        if self.changed:
            raise ValueError(f"{self.dir} holds runs made with a different config (differs "
                             f"in: {', '.join(self.changed)}), and run {key!r} is not a "
                             "run_many task whose settings can be compared; use another "
                             "--out or delete that folder")
        p = self.path(key)
        if p.is_file():
            self.reused += 1
            return self._result(key)
        t0 = time.perf_counter()
        result = with_checkpoint(checkpoint_path(self.out, key), fn, {})
        self._store(key, result)
        self.computed += 1
        print(f"  {key} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        return self._result(key)

    def run_many(self, tasks: dict[str, tuple[Callable[..., dict], dict]], jobs: int = 1,
                 desc: str = "runs", needs: dict[str, list[str]] | None = None
                 ) -> dict[str, dict]:
        """Run every ``key: (fn, kwargs)`` not yet stored; return all results by key.

        The executor set with :func:`pycheck.executors.use` (``pycheck reproduce
        --executor``) runs them; without one, a local executor with ``jobs`` worker
        processes. Parallel and SLURM runs need a module-level ``fn`` and picklable
        ``kwargs``. Each result is stored the moment its run finishes, so an interrupted
        or failed batch keeps every finished run; an executor that leaves runs to a
        scheduler raises :class:`pycheck.executors.RunsPending` instead of returning. A
        progress bar (stderr, when it is a terminal) counts runs; otherwise one line per
        finished run is printed.

        ``needs`` maps a key to the keys whose runs must be stored before it starts (a run
        that makes a cache the others read: Reacher's rendering). Locally those run first;
        on SLURM the dependent jobs are submitted at once with ``--dependency=afterok`` on
        the jobs they need, so no run waits in the submitting process.
        """
        from tqdm.auto import tqdm

        from .executors import CollectExecutor, LocalExecutor, check_needs, current
        executor = current() or LocalExecutor(jobs)
        needs = {k: list(v) for k, v in (needs or {}).items() if v}
        check_needs(list(tasks), needs)     # unknown keys and cycles: before anything runs
        # every task's record, built once: the executors put them in the plan (`pycheck
        # status`, stale SLURM jobs); per_run stores also keep them with each run
        self.records = records = {k: task_record(*tasks[k]) for k in tasks}
        self.used.update(tasks)
        if self.per_run:
            self._replace_stale(records, collect=isinstance(executor, CollectExecutor))
        todo = [k for k in tasks if not self.has(k)]
        self.reused += len(tasks) - len(todo)
        tty = sys.stderr.isatty()
        bar = tqdm(total=len(tasks), initial=len(tasks) - len(todo), desc=desc, disable=not tty)
        t0 = time.perf_counter()
        finished = [len(tasks) - len(todo)]

        def done(key: str, result: dict) -> None:
            self._store(key, result, records[key] if self.per_run else None)
            self.computed += 1
            finished[0] += 1
            bar.update(1)
            if not tty:
                print(f"  [{finished[0]}/{len(tasks)}] {key} "
                      f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
        try:
            executor.execute(self, tasks, todo, done, needs=needs)
        finally:
            bar.close()
        results = {k: self._result(k) for k in tasks}
        _warn_mixed_kernels(results)
        return results

    def _result(self, key: str) -> dict:
        """A stored run without its task record; ``ValueError`` naming the file when it is
        not one (valid JSON that is not an object with results, e.g. ``[]`` or ``{}``: a
        TypeError or KeyError inside the experiment until session 36)."""
        r = read_run(self.path(key))
        if not isinstance(r, dict) or not set(r) - {self.TASK, SEAL}:
            raise ValueError(f"{self.path(key)}: not a stored run (valid JSON, but no "
                             "results in it); delete it to recompute that run")
        r.pop(self.TASK, None)
        r.pop(SEAL, None)
        return r

    def _run_seconds(self) -> dict:
        """``run_seconds`` (the compute seconds of this summary's runs, summed over those
        that recorded them) and ``run_seconds_recorded`` (how many did, of the
        ``len(run_seals)`` runs)."""
        from .executors import _read_seconds, checkpoint_path, seconds_path
        found = [seconds_path(checkpoint_path(self.out, k)) for k in sorted(self.used)]
        have = [p for p in found if p.is_file()]
        return dict(run_seconds=round(sum(map(_read_seconds, have)), 1),
                    run_seconds_recorded=len(have))

    def seal_of(self, key: str) -> str | None:
        """The stored run's ``_sha256`` (the SHA-256 of its bytes for a run stored before
        seals), or ``None`` if it is not stored."""
        p = self.path(key)
        try:
            raw = p.read_bytes()
        except OSError:
            return None
        try:
            seal = json.loads(raw).get(SEAL)
        except (ValueError, AttributeError):
            seal = None
        return seal if isinstance(seal, str) else hashlib.sha256(raw).hexdigest()

    def unreadable(self, key: str) -> str | None:
        """Why run ``key``'s stored file cannot be used, or ``None`` (for ``pycheck status``)."""
        try:
            self._result(key)
        except ValueError as err:
            return str(err).split(": ", 1)[-1]
        return None

    def _restore(self, records: dict[str, dict]) -> None:
        """Move back from ``runs/replaced/`` every run whose record equals its task's now
        and that is missing here: work moved aside by another invocation (a ``--collect``
        of the wrong profile, a seed list that changed a task) is reused, not retrained
        (session 36: such runs stayed in ``replaced/`` and were computed again)."""
        dest = self.dir / "replaced"
        if not dest.is_dir():
            return
        back = 0
        for key, record in records.items():
            p = self.path(key)
            if p.exists():
                continue
            for old in sorted(dest.glob(f"{glob.escape(p.stem)}*.json")):
                if old.stem != p.stem and not (old.stem.startswith(p.stem + ".")
                                               and old.stem[len(p.stem) + 1:].isdigit()):
                    continue                       # another key that merely starts alike
                try:
                    if read_run(old).get(self.TASK) != record:
                        continue
                except (ValueError, AttributeError):
                    continue
                os.replace(old, p)
                back += 1
                break
        if back:
            print(f"pycheck: {back} runs of these settings moved back from {dest}",
                  file=sys.stderr, flush=True)

    def _replace_stale(self, records: dict[str, dict], collect: bool = False) -> None:
        """Move aside every stored run of ``records`` whose task record differs from the
        new one, and (when the config changed) every stored run without a record, so that
        only runs of the current settings remain under the (then rewritten) stamp.

        ``collect`` (``reproduce --collect``, which runs nothing): refuse instead of moving
        (``ValueError``, nothing touched). A collect with another profile had moved the
        folder's runs aside (session 42; a collect with the right one moved them back)."""
        keys = {self.path(k).name: k for k in records}
        stale = []
        for p in sorted(self.dir.glob("*.json")):
            if p.name == "config.json":
                continue
            try:
                run = read_run(p)     # an edited run is not re-sealed here
                old = run.get(self.TASK)
            except (ValueError, AttributeError):
                continue      # unreadable: has() still sees it; read_json names it later
            key = keys.get(p.name)
            if (old is None and self.changed) or (
                    old is not None and key is not None and old != records[key]):
                stale.append(p)
            elif old is None and key is not None and not collect:
                # stored before runs recorded their task, under this very config stamp:
                # made with these settings, so it gets their record (once)
                write_json(p, seal_run({**run, self.TASK: records[key]}))
        if stale and collect:
            raise ValueError(f"--collect: {len(stale)} stored runs in {self.dir} were made with "
                             "other settings (another profile or config); --collect runs and "
                             "moves nothing: collect with the settings they were made with, "
                             "or run without --collect to recompute them")
        if stale:
            dest = self.dir / "replaced"
            dest.mkdir(exist_ok=True)
            for p in stale:
                # a run replaced before keeps its file: KEY.json, then KEY.1.json, ...
                target, i = dest / p.name, 0
                while target.exists():
                    i += 1
                    target = dest / f"{p.stem}.{i}.json"
                os.replace(p, target)
            self.replaced += len(stale)
            why = (f"the config changed (in: {', '.join(self.changed)})" if self.changed
                   else "their settings changed")
            print(f"pycheck: {len(stale)} stored runs moved to {dest} ({why}); they are "
                  "recomputed", file=sys.stderr, flush=True)
        self._restore(records)
        if self.changed:
            # every remaining run now carries a record equal to its task or is not one of
            # them (a record that says what it was made with): the new stamp is safe
            self._stamped = False
            self.stamp()
            self.changed = []


def check_writable(opt: str, path: Path, kind: str) -> None:
    """Refuse (``ValueError``) an output ``path`` that cannot be written, before any work;
    ``opt`` names it in the message (a CLI flag, or an argument of the Python API).

    ``kind`` is ``"file"`` or ``"folder"``. The nearest existing ancestor must be a
    writable folder; a file target must not be an existing folder.
    """
    if kind == "file" and path.is_dir():
        raise ValueError(f"{opt}: {path} is a folder")
    if kind == "file" and path.exists() and not path.is_file():
        # the atomic write renames a new file over it: as root, --json /dev/null replaced
        # the device with a regular file (session 42)
        raise ValueError(f"{opt}: {path} exists and is not a regular file")
    if kind == "folder" and path.exists() and not path.is_dir():
        raise ValueError(f"{opt}: {path} exists and is not a folder")
    if path.is_symlink() and not path.exists():      # it said "File exists" (session 44)
        raise ValueError(f"{opt}: {path} is a symbolic link to {os.readlink(path)}, which "
                         "does not exist")
    if kind == "file" and not path.parent.is_dir():
        raise ValueError(f"{opt}: folder {path.parent} does not exist")
    base = path if kind == "folder" else path.parent
    while not base.exists():
        base = base.parent
    if not base.is_dir() or not os.access(base, os.W_OK | os.X_OK):
        raise ValueError(f"{opt}: {base} is not a writable folder")
    # os.access says yes to root everywhere, /proc included, where the write then failed
    # after all the work (verify --json /proc/x.json, session 42): try a file there
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as err:
        raise ValueError(f"{opt}: cannot write in {base} ({err.strerror or err})") from None
