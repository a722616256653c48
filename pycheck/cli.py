"""The ``pycheck`` command line: list, show, cite, verify, audit, reproduce, status, fit,
bench."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

from . import __version__
from .manifest import Manifest, ManifestError, load
from .store import git_commit as _git_commit    # cite, verify --json

EXIT_FAIL, EXIT_USAGE = 1, 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2, nothing written."""


class _StoreOnce(argparse._StoreAction):
    """argparse's ``store``, refusing an option given twice: ``verify --seed 1 --seed 2``
    ran with seed 2 and said nothing (session 48, a user's trial), so a command line that
    says two things was run as if it said the last."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_options_given", set())
        if option_string is not None:
            if self.dest in given:
                parser.error(f"{'/'.join(self.option_strings)} given more than once")
            given.add(self.dest)
        super().__call__(parser, namespace, values, option_string)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register("action", None, _StoreOnce)
        self.register("action", "store", _StoreOnce)

    def error(self, message: str):  # one line, exit 2 (argparse prints usage + message)
        raise UsageError(message)


def _cache_file() -> Path | None:
    """The last-verify cache, or ``None`` where there is no place for it. An empty or
    relative ``XDG_CACHE_HOME`` is ignored (the XDG spec; an empty one wrote the cache into
    ./pycheck/, the package's source folder when run from a checkout), and without a home
    (``HOME`` unset, a user with no passwd entry: ``Path.home()`` raises) there is no
    cache: `verify` ended in a traceback with exit 1, the "a check failed" code (s44)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        try:
            base = Path.home() / ".cache"
        except (RuntimeError, KeyError, OSError):
            return None
    return base / "pycheck" / "last-verify.json"


def _source_digest(m: Manifest) -> str:
    """SHA-256 of what a verification ran: the manifest and the package's Python sources.
    ``pycheck list`` marks a result recorded under another digest as stale (session 44: a
    FAIL recorded while a check was broken on purpose stayed FAIL after the fix, and a pass
    recorded on an edited tree stayed pass after the edit)."""
    import hashlib
    h = hashlib.sha256(m.path.read_bytes())
    pkg = Path(__file__).resolve().parent
    for f in sorted(pkg.rglob("*.py")):
        h.update(str(f.relative_to(pkg)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _read_cache() -> dict[str, dict[str, dict]]:
    """``{manifest path: {ID: {"passed": bool, "digest": str | None}}}`` from the
    last-verify cache; ``{}`` if it is missing, unreadable or of another shape (it only
    feeds ``pycheck list``). A result of the format before session 44 (a bare bool) has no
    digest, so it reads as stale.

    Keyed by the manifest's resolved path, so two checkouts never see each other's results.
    """
    path = _cache_file()
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    by_manifest = data.get("manifests") if isinstance(data, dict) else None
    if not isinstance(by_manifest, dict):
        return {}
    def entry(v):
        if isinstance(v, bool):
            return dict(passed=v, digest=None)
        if isinstance(v, dict) and isinstance(v.get("passed"), bool):
            return dict(passed=v["passed"], digest=v.get("digest") if isinstance(
                v.get("digest"), str) else None)
        return None
    return {path: {i: e for i, v in ids.items() if (e := entry(v)) is not None}
            for path, ids in by_manifest.items() if isinstance(ids, dict)}


def _write_cache(m: Manifest, passed: dict[str, bool]) -> None:
    cache = _read_cache()
    key = str(m.path.resolve())
    digest = _source_digest(m)
    cache[key] = {**cache.get(key, {}),
                  **{i: dict(passed=ok, digest=digest) for i, ok in passed.items()}}
    path = _cache_file()
    if path is None:
        return
    try:
        from .store import write_json
        write_json(path, {"manifests": cache})
    except OSError:
        pass  # the cache only feeds `pycheck list`; never fail a verification over it


def _ids(m: Manifest, ids: list[str]) -> list[str]:
    for i in ids:
        m.get(i)  # raises ManifestError naming the valid IDs
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise UsageError(f"ID(s) given more than once: {', '.join(dup)}")
    return ids or m.ids


def path_arg(value: str) -> str:
    """argparse ``type`` of a path option: an empty string (``--out ''``, an unset shell
    variable) would otherwise mean the current folder or the default one."""
    if not value.strip():
        raise argparse.ArgumentTypeError("empty path")
    if value.startswith("~"):
        # `--out=~/fits` reaches us unexpanded (the shell expands ~ only at a word's
        # start) and made a folder named "~" here, which a later `rm -rf ~` would take
        # for the home folder (session 44)
        raise argparse.ArgumentTypeError(
            f"{value!r}: the shell did not expand '~' here (as in --out=~/x); write "
            "--out ~/x with a space, or $HOME/x")
    return value


def _writable_target(opt: str, path: Path, kind: str) -> None:
    """Refuse (UsageError) an output ``path`` that cannot be written, before any work
    (:func:`pycheck.store.check_writable`)."""
    from .store import check_writable
    try:
        check_writable(opt, path, kind)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------- list / show / cite
def cmd_list(m: Manifest, args) -> int:
    from .checks import load_all
    registry = load_all()
    last = _read_cache().get(str(m.path.resolve()), {})
    digest = _source_digest(m) if last else None
    rows = [("ID", "kind", "formal", "axioms", "lean_checked", "numeric", "last verify",
             "title")]
    for e in m.entries.values():
        have = sum(c in registry for c in e.checks)
        lv = last.get(e.id)
        verdict = "-" if lv is None else ("pass" if lv["passed"] else "FAIL") + (
            "" if lv["digest"] == digest else " (stale: code or manifest changed since)")
        rows.append((e.id, e.kind, e.status, ",".join(e.axioms) or "-",
                     str(e.lean_checked).lower(), f"{have}/{len(e.checks)} checks",
                     verdict, e.title))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1])
    unchecked = [e.id for e in m.entries.values()
                 if e.status in ("proved", "partial") and not e.lean_checked]
    if unchecked:
        print(f"\nformal: the status the manifest gives the Lean proof; lean_checked = false "
              f"({', '.join(unchecked)}): written, never compiled by `lake build`")
    return 0


def _show_entries(m: Manifest, key: str) -> list:
    """The entries ``pycheck show KEY`` means: an ID in any case (``t1``), a check name
    (``T1.lower_bound``, as ``verify`` takes it) or a Lean declaration (``LeJEPA.alignment_eq_iff``
    or without the namespace). Before session 50 only the exact ID was taken (a theory
    reviewer's trial)."""
    by_case = {i.lower(): i for i in m.ids}
    if key.lower() in by_case:
        return [m.entries[by_case[key.lower()]]]
    hits = [e for e in m.entries.values() if key in e.checks]
    hits += [e for e in m.entries.values() if e not in hits and any(
        n == key or n == f"LeJEPA.{key}" for n in e.lean)]
    if hits:
        return hits
    raise ManifestError(f"{key!r} is no theorem ID, check name or Lean declaration of the "
                        f"manifest; valid IDs: {', '.join(m.ids)} (each ID's checks and Lean "
                        f"declarations: pycheck show ID)")


def _lean_signature(root, d, limit: int = 30) -> str:
    """The source lines of declaration ``d`` from its keyword up to its ``:=`` (at most
    ``limit`` lines): what the Lean states, without the proof."""
    lines = (root / d.file).read_text(encoding="utf-8").splitlines()[d.line - 1:]
    out = []
    for line in lines[:limit]:
        cut = line.find(":=")
        out.append(line if cut < 0 else line[:cut + 2])
        if cut >= 0 or (len(out) > 1 and not line.strip()):
            break
    return "\n".join(out).rstrip()


def cmd_show(m: Manifest, args) -> int:
    entries = _show_entries(m, args.id)
    if len(entries) > 1 or entries[0].id.lower() != args.id.lower():
        print(f"{args.id}: in {', '.join(e.id for e in entries)}\n")
    from .audit import lean_declarations
    decls = ({d.name: d for d in lean_declarations(m.root)[0]}
             if (m.root / "LeJEPA").is_dir() else {})
    for k, e in enumerate(entries):
        if k:
            print()
        _show_entry(m, e, decls, args.lean)
    return 0


def _show_entry(m: Manifest, e, decls: dict, lean: bool) -> None:
    print(f"{e.id} ({e.kind}): {e.title}\n")
    print(f"  Statement: {e.statement}\n")
    print(f"  Lean:      {e.lean_file or '(no Lean file)'}  [status: {e.status}, lean_checked: {str(e.lean_checked).lower()}]")
    width = max((len(n) for n in e.lean), default=0)
    for name in e.lean or ["(none yet)"]:
        d = decls.get(name)
        where = f"  {d.file}:{d.line}" if d is not None else ""
        print(f"             {name.ljust(width)}{where}")
        if lean and d is not None:
            print("\n".join("               | " + x for x in
                            _lean_signature(m.root, d).splitlines()))
    print(f"  Uses:      {', '.join(e.uses) or '-'}")
    print(f"  Axioms:    {', '.join(e.axioms) or '-'}  (what the Lean proofs rest on)")
    print(f"  Checks:    {', '.join(e.checks) or '-'}")
    print(f"  Experiments: {', '.join(e.experiments) or '-'}")
    print(f"\n  Run:  pycheck verify {e.id}" +
          "".join(f"\n        pycheck reproduce {x}" for x in e.experiments))


def _formal(m: Manifest, e) -> str:
    """What an ID's Lean part is, in words: its status, the axioms a proof rests on, and
    whether the proof was compiled. A pasted citation said "status proved" and nothing of the
    Lean never having been compiled (session 48, a user's trial): that is now in the text."""
    if e.status not in ("proved", "partial"):
        return f"status {e.status}"
    compiled = ("" if e.lean_checked else
                "; the Lean proof is written but was not compiled (lean_checked = false)")
    if not e.axioms:
        return f"status {e.status}, using no axiom of this development{compiled}"
    names = ", ".join(f"{a} ({m.entries[a].title})" for a in e.axioms)
    return f"status {e.status}, from the axiom{'s' * (len(e.axioms) > 1)} {names}{compiled}"


def _kit_bibtex(m: Manifest, commit: str) -> str:
    """A BibTeX entry for this kit (the L-, A- and S-IDs are the kit's, not the paper's)."""
    year = m.paper.get("year", "")
    return (f"@misc{{pycheck_lejepa_kit,\n"
            f"  title  = {{pycheck: reference kit for ``{m.paper.get('title', '')}''}},\n"
            f"  author = {{{{pycheck contributors}}}},\n"
            + (f"  year   = {{{year}}},\n" if year else "")
            + f"  note   = {{version {__version__}, git commit {commit}}},\n}}")


def cmd_cite(m: Manifest, args) -> int:
    """The paper's and the kit's BibTeX once, then one paragraph per ID: `pycheck cite T1 T3
    >> refs.bib` used to need one call per ID, each repeating the paper's entry, which
    BibTeX refuses as a repeated entry (session 44)."""
    entries = [m.get(i) for i in _ids(m, args.ids)]
    commit = _git_commit(m.root)
    if not (m.root / "LeJEPA").is_dir():
        print(f"pycheck: no LeJEPA/ beside {m.path}: the Lean files named below are not in "
              "this folder (a copy of the manifest outside a checkout?)", file=sys.stderr)
    print(m.paper.get("bibtex", "").strip())
    print()
    print(_kit_bibtex(m, commit))
    for e in entries:
        print()
        print(f"{e.id} ({e.kind}; {_formal(m, e)}) — {e.title}. Statement, hypotheses and "
              f"scope: `pycheck show {e.id}`.")
        print(f"Numeric checks: pycheck {__version__}, git commit {commit}, "
              f"`pycheck verify {e.id}`.")
        print(f"Lean: {', '.join(e.lean) or '(none)'}{f' in {e.lean_file}' if e.lean_file else ''} "
              f"(status {e.status}; lean_checked = {str(e.lean_checked).lower()}"
              f"{'' if e.lean_checked or not e.lean else ': not compiled'}).")
    return 0


# ---------------------------------------------------------------- verify
def _fmt_fig(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def cmd_verify(m: Manifest, args) -> int:
    from .checks import CheckResult, load_all
    plan = _verify_plan(m, args.ids)
    ids = list(plan)
    if args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.json:
        _writable_target("--json", Path(args.json), "file")
    registry = load_all()
    missing = [(i, c) for i in ids for c in plan[i] if c not in registry]
    t_all = time.perf_counter()
    report = {"pycheck": __version__, "commit": _git_commit(m.root), "seed": args.seed, "ids": {}}
    print(f"pycheck verify: {len(ids)} IDs, seed {args.seed}\n")
    ran: dict = {}
    for i in ids:
        e = m.entries[i]
        t_id = time.perf_counter()
        results = []
        for name in plan[i]:
            t0 = time.perf_counter()
            if name in ran:           # a check two IDs list (L4's under T1 and T3): run once
                results.append((name, ran[name], 0.0))
                continue
            if name not in registry:
                r = CheckResult(False, "check is not registered in pycheck.checks")
            else:
                try:
                    r = registry[name](args.seed)
                except Exception as exc:  # a crashing check is a failing check, reported
                    tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
                    r = CheckResult(False, f"raised {tb}")
            ran[name] = r
            results.append((name, r, time.perf_counter() - t0))
        ok = bool(results) and all(r.passed for _, r, _ in results)
        dt = time.perf_counter() - t_id
        part = "" if len(plan[i]) == len(e.checks) else f" of {len(e.checks)}"
        print(f"{'PASS' if ok else 'FAIL'}  {i:<3} {e.title}  ({len(results)}{part} checks, "
              f"{dt:.1f} s)")
        for name, r, secs in results:
            print(f"   {'ok  ' if r.passed else 'FAIL'} {name}: {r.summary}  [{secs:.2f} s]")
            if r.figures:
                figs = ", ".join(f"{k}={_fmt_fig(v)}" for k, v in r.figures.items())
                print(f"          measured: {figs}")
            if r.tolerance:
                print(f"          tolerance: {r.tolerance}")
        if not results:
            print("   FAIL no checks listed for this ID")
        report["ids"][i] = {"passed": ok, "seconds": dt, "checks": [
            {"name": n, "passed": r.passed, "summary": r.summary, "figures": r.figures,
             "tolerance": r.tolerance, "seconds": s} for n, r, s in results]}
        print()
    total = time.perf_counter() - t_all
    n_fail = sum(not v["passed"] for v in report["ids"].values())
    report["seconds"] = total
    report["passed"] = n_fail == 0
    print(f"{len(ids) - n_fail} passed, {n_fail} failed  ({total:.1f} s)")
    if missing:
        print(f"unregistered checks: {', '.join(c for _, c in missing)}")
    from .store import write_json
    if args.json:
        # through a symbolic link to its target (an atomic replace swapped the link itself
        # for a file; session 36)
        write_json(os.path.realpath(args.json), report)
    # an ID's verdict is recorded only when all its checks ran (one check is not the ID)
    _write_cache(m, {k: v["passed"] for k, v in report["ids"].items()
                     if len(plan[k]) == len(m.entries[k].checks)})
    return 0 if n_fail == 0 else EXIT_FAIL


def _verify_plan(m: Manifest, args: list[str]) -> dict[str, list[str]]:
    """``{ID: checks to run}`` for ``verify``'s arguments, in the manifest's order: an ID
    runs all its checks, a check name (``T1.lower_bound``, as ``show`` lists them) only
    that one (session 44: `verify T1.lower_bound` was "unknown theorem ID")."""
    owner: dict[str, str] = {}
    for e in m.entries.values():      # a check two IDs list belongs to its own prefix's ID
        for c in e.checks:
            if c not in owner or c.split(".")[0] == e.id:
                owner[c] = e.id
    want: dict[str, set[str]] = {}
    for a in args:
        if a in m.entries:
            want.setdefault(a, set()).update(m.entries[a].checks)
        elif a in owner:
            want.setdefault(owner[a], set()).add(a)
        elif "." in a and a.split(".")[0] in m.entries:     # an ID's prefix, no such check
            prefix = a.split(".")[0]
            raise UsageError(f"unknown check {a!r}; {prefix}'s checks: "
                             f"{', '.join(m.entries[prefix].checks)}")
        else:
            m.get(a)        # raises ManifestError: unknown ID, with the valid ones
    dup = sorted({a for a in args if args.count(a) > 1})
    if dup:
        raise UsageError(f"ID(s) given more than once: {', '.join(dup)}")
    # a check beside an ID that runs it anyway (`verify T1 T1.lower_bound` ran all of T1 and
    # said nothing; session 48): the command line asks two different things
    within = sorted(a for a in args if a not in m.entries and a in owner and owner[a] in args)
    if within:
        raise UsageError(f"{', '.join(within)} given beside {owner[within[0]]}, which runs "
                         f"all its checks; give the ID or its checks")
    if not args:
        return {i: list(e.checks) for i, e in m.entries.items()}
    return {i: [c for c in m.entries[i].checks if c in want[i]]
            for i in m.entries if i in want}


# ---------------------------------------------------------------- audit
def cmd_audit(m: Manifest, args) -> int:
    from .audit import audit
    violations = audit(m)
    for msg in violations:
        print(f"audit: {msg}")
    if violations:
        print(f"audit: {len(violations)} violation(s)")
        return EXIT_FAIL
    print(f"audit: ok ({len(m.entries)} IDs; manifest {m.path}, LeJEPA/ and pycheck agree)")
    return 0


# ---------------------------------------------------------------- reproduce / bench
PARALLEL_EXPERIMENTS = ("twod", "scaling", "gennorm", "reacher", "anisotropic", "control")
PARALLEL_LIST = "twod, scaling, gennorm, reacher, anisotropic and control"  # for messages


def cmd_reproduce(m: Manifest, args) -> int:
    from . import experiments
    try:
        mod = experiments.get(args.name)
    except experiments.ExperimentError as exc:
        raise UsageError(str(exc)) from None
    try:
        cfg = experiments.load_config(args.name, args.profile, m.root)
    except experiments.ExperimentError as exc:
        raise UsageError(str(exc)) from None
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if args.name == "bound" and args.seeds is not None:
        # accepted and ignored before session 42: bound reads the runs the other
        # experiments stored, whatever their seeds
        raise UsageError("--seeds does not apply to bound: it reads the runs the other "
                         "experiments stored (choose their seeds there)")
    if args.jobs > 1 and args.name not in PARALLEL_EXPERIMENTS:
        raise UsageError(f"--jobs applies to {PARALLEL_LIST}; "
                         + ("bound trains nothing (it reads the other experiments' runs)"
                            if args.name == "bound" else
                            f"{args.name} trains its runs one after another"))
    executor = _executor(args)
    seeds = args.seeds if args.seeds is not None else cfg.get("seeds", [0])
    where = "--seeds" if args.seeds is not None else f"the {args.profile} profile's seeds"
    try:
        seeds = experiments.check_seeds(seeds, where)     # sorted, distinct, non-empty
    except experiments.ExperimentError as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.out) if args.out else (
        Path("results") / (args.name if args.profile == "quick" else f"{args.name}-{args.profile}"))
    _writable_target("--out", out, "folder")
    other, source = _folder_experiment(out, args.name)
    if other is not None:
        # twod --collect into a control folder rewrote its config stamp, gennorm trained in
        # it and replaced its plan (session 42); without a plan (bound writes none, a copy
        # without jobs/, results from before session 36) control trained into a gennorm
        # folder and bound then tabled control's runs as gennorm's (session 47)
        raise UsageError(f"--out {out} holds the results of `{other}` ({source}), not "
                         f"of `{args.name}`; use another --out")
    if (out / "fit.json").is_file() or (out / "fit.ckpt").is_file():
        raise UsageError(f"--out {out} holds a pycheck fit (fit.json or fit.ckpt); use "
                         "another --out")
    holds = _holds_output_folders(out)
    if holds:
        # `--out results` (the parent of the committed folders) wrote results/jobs and
        # results/runs beside them (session 48, a cluster trial)
        raise UsageError(f"--out {out} holds other output folders ({', '.join(holds[:3])}"
                         f"{' ...' if len(holds) > 3 else ''}), not one experiment's results; "
                         f"use a folder of its own, such as {out / args.name}")
    if args.collect and not (out / "runs").is_dir():
        raise UsageError(f"--collect: no runs in {out} to make tables from")
    from .store import (FolderBusy, TableStage, lock_folder, missing_folders,
                        remove_empty_folders)
    t0 = time.perf_counter()
    if executor.name == "local" and not args.collect and args.name != "bound":
        # the C++ kernels built (or loaded) here, not inside the first run, whose timings
        # had held a cold build (62.7 s against 6.4 s warm; session 50, a user's trial)
        from .sigreg_cpp import prebuild
        prebuild()
    from .executors import RunsPending, WorkerDied, refuse_live_jobs, use
    made = missing_folders(out)     # what the folder lock will create
    try:
        executor.check()
        with lock_folder(out), use(executor):
            if executor.name == "local":   # SLURM jobs still to write there (session 43)
                refuse_live_jobs(out)
            # the tables, figures and summaries are written together once the experiment
            # is done (or has failed its own test, which they explain); an interrupt or a
            # full disk leaves the previous ones whole (TableStage)
            stage = TableStage(out)
            try:
                with stage.buffering():
                    summary = mod.run(cfg, out, seeds)
            except experiments.ExperimentFailed:
                stage.commit()
                raise
            stage.commit()
    except FolderBusy as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:
        _remove_unused_folder(made, out)
        remove_empty_folders(made)     # refused input leaves nothing behind
        msg = str(exc)
        # the experiments name themselves in some messages ("control: control: ...")
        raise UsageError(msg if msg.startswith(f"{args.name}") else f"{args.name}: {msg}") \
            from None
    except experiments.ExperimentFailed as exc:
        print(f"pycheck: {args.name} FAILED: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except RunsPending as exc:
        # the experiments name themselves in some messages ("reacher: reacher: ...", s47)
        msg = str(exc)
        print(f"pycheck: {msg if msg.startswith(f'{args.name}:') else f'{args.name}: {msg}'}",
              file=sys.stderr)
        return EXIT_FAIL if args.collect else 0
    except WorkerDied as exc:
        print(f"pycheck: {args.name}: {exc}; finished runs are kept in {out}/runs; rerun the "
              "same command to do the rest", file=sys.stderr)
        return EXIT_FAIL
    counts = ""
    if isinstance(summary, dict) and "runs_computed" in summary:
        # a run into the committed results/NAME reuses its stored runs: say so up front, or
        # "done in 2.5 s" reads as a reproduction (session 37)
        k = summary["runs_computed"]
        counts = (f" ({k} run{'s' * (k != 1)} computed, "
                  f"{summary.get('runs_reused', 0)} reused from the folder)")
    inner = ""
    log = summary.get("invocations") if isinstance(summary, dict) else None
    if isinstance(log, list) and log and isinstance(log[-1], dict) \
            and isinstance(log[-1].get("wall_seconds"), (int, float)):
        # the summary's wall_seconds counts from the run store's creation, after the kernel
        # build and the folder lock: the two figures were not explained side by side (s48)
        from . import sigreg_cpp
        inner = (f", {log[-1]['wall_seconds']:.1f} s of it in the experiment (the summary's "
                 f"wall_seconds; the rest is set-up: {sigreg_cpp.BUILD_SECONDS:.1f} s to build "
                 "or load the C++ kernels, the folder lock)")
    print(f"reproduce {args.name} ({args.profile}): done in {time.perf_counter() - t0:.1f} s"
          f"{inner}{counts}; outputs in {out}/")
    if summary:
        _print_summary(summary, out)
    return 0


#: summary entries that record how the results were made, not what they are: not printed
_BOOKKEEPING = ("run_seals", "settings", "invocations", "provenance", "config")


def _print_summary(summary: dict, out: Path, width: int = 100) -> None:
    """The experiment's summary, one line per key; a value longer than ``width`` characters
    as a pointer to the summary file, which holds it whole. The whole summary had been
    printed as indented JSON, about 100 lines with the run seals and the settings (a user's
    trial, session 50)."""
    if not isinstance(summary, dict):
        print(json.dumps(summary, default=str))
        return
    files = sorted(out.glob("*summary.json"))
    where = files[0] if files else out
    print("summary:")
    for key, value in summary.items():
        text = json.dumps(value, default=str)
        if key in _BOOKKEEPING and len(text) > 20:
            print(f"  {key}: (in {where})")
            continue
        if len(text) > width and isinstance(value, dict) and len(value) <= 20 and all(
                len(json.dumps(v, default=str)) <= width for v in value.values()):
            print(f"  {key}:")               # a small table: a line per entry
            for k, v in value.items():
                print(f"    {k}: {json.dumps(v, default=str)}")
            continue
        if len(text) > width:
            size = f"{len(value)} entries" if isinstance(value, (dict, list)) else \
                f"{len(text)} characters"
            text = f"({size}; in {where})"
        print(f"  {key}: {text}")


def _remove_unused_folder(made: list, out: Path) -> None:
    """After a refusal: the output folder, if this command created it and no run finished in
    it, goes whole. The experiments refuse a bad setting when its first run starts, after
    the run plan (``jobs/plan.json``) and that run's task record were written, and those
    files had kept the folder (and `pycheck status` then reported every run failed; s36)."""
    import shutil
    if out.resolve() not in {Path(p).resolve() for p in made} or not out.is_dir():
        return
    runs = out / "runs"
    if runs.is_dir() and any(p.name != "config.json" for p in runs.rglob("*.json")):
        return
    from .executors import read_plan
    try:
        if (read_plan(out) or {}).get("jobs"):
            return                   # SLURM jobs were submitted before the refusal: they
    except ValueError:               # will write here, and status must find their plan
        return
    shutil.rmtree(out, ignore_errors=True)


SLURM_FLAGS = ("partition", "gpus_per_run", "cpus_per_run", "mem", "time",
               "array_parallelism", "slurm_option")


def _capped_jobs(jobs: int) -> int:
    """``--jobs`` capped at the CPUs this process may run on: each worker trains at the
    profile's thread count (default one; :func:`pycheck.executors.run_threads`), so more
    workers than CPUs only share cores, and each holds its own torch (a few hundred MB;
    ``--jobs 1000`` started one process per run). The runs' numbers do not depend on the
    number of workers (tested)."""
    cpus = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1)
    if jobs > cpus:
        print(f"pycheck: --jobs {jobs} is more than the {cpus} CPU(s) available here; "
              f"running {cpus} at a time", file=sys.stderr)
    return min(jobs, cpus)


def _absolute_manifest(argv: list[str]) -> list[str]:
    """``argv`` with ``--manifest``'s path made absolute, for the command the plan records:
    `status` prints it to rerun, and a relative manifest read from another folder was
    "manifest not found" (session 43, a user's trial; ``--out`` is set by status itself)."""
    out = list(argv)
    for i, a in enumerate(out):
        if a == "--manifest" and i + 1 < len(out):
            out[i + 1] = os.path.abspath(out[i + 1])
        elif a.startswith("--manifest="):
            out[i] = "--manifest=" + os.path.abspath(a.split("=", 1)[1])
        elif a == "reproduce":
            break                   # past the global options: the rest is reproduce's
    return out


def _executor(args):
    """The executor ``reproduce`` runs with: local processes, SLURM, or collect-only."""
    from . import executors
    given = [f"--{k.replace('_', '-')}" for k in SLURM_FLAGS if getattr(args, k) is not None]
    command = executors.shell_command(_absolute_manifest(args.argv))
    if args.executor == "local" and not args.collect:
        if given:
            raise UsageError(f"{', '.join(given)} appl{'ies' if len(given) == 1 else 'y'} "
                             "to --executor slurm")
        return executors.LocalExecutor(_capped_jobs(args.jobs), command)
    if args.name not in PARALLEL_EXPERIMENTS:
        what = "--collect" if args.collect else "--executor slurm"
        raise UsageError(f"{what} applies to {PARALLEL_LIST}; "
                         f"{args.name} runs on this machine only")
    if args.collect:  # appended to the submitting command, which may name a scheduler
        return executors.CollectExecutor(command)
    if args.jobs != 1:
        raise UsageError("--jobs applies to --executor local")
    chosen = {k: getattr(args, k) for k in SLURM_FLAGS[:-1] if getattr(args, k) is not None}
    try:
        opts = executors.SlurmOptions(
            **chosen, extra=executors.parse_slurm_options(args.slurm_option or []))
    except executors.SchedulerError as exc:
        raise UsageError(str(exc)) from None
    if opts.minutes * 60 < 2 * executors.WARNING_SECONDS:
        # accepted (a test of time limits uses it) but said: the job stops at the warning
        print(f"pycheck: note: each job stops {executors.WARNING_SECONDS} s before its "
              f"--time ({opts.minutes} min), at SLURM's warning signal, keeping its checkpoint; "
              f"this leaves it {max(0, opts.minutes * 60 - executors.WARNING_SECONDS)} s",
              file=sys.stderr, flush=True)
    return executors.SlurmExecutor(opts, command)


def _is_output_folder(folder: Path) -> bool:
    """A run plan, stored runs or a summary in ``folder``."""
    return ((folder / "jobs" / "plan.json").is_file() or
            (folder / "runs" / "config.json").is_file() or any(folder.glob("*summary.json")))


def _holds_output_folders(out: Path, depth: int = 2) -> list[str]:
    """The folders under ``out``, ``depth`` levels down at most, that are output folders
    themselves (a run plan, stored runs or a summary in them): ``out`` is then a parent of
    output folders, such as ``results/`` or the checkout's root (one level up was accepted:
    session 48, a user's trial)."""
    if not out.is_dir() or _is_output_folder(out):
        # an output folder's own subfolders (reacher's committed results/reacher/sweep_lam/
        # lam*, each with its summary) are its experiment's: `pycheck reproduce reacher`
        # into its default folder had been refused since session 48 (found in session 50)
        return []
    found: list[str] = []

    def walk(folder: Path, level: int) -> None:
        try:
            subs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()
                          and p.name not in ("jobs", "runs", ".git", ".venv"))
        except OSError:
            return
        for sub in subs:
            if _is_output_folder(sub):
                found.append(str(sub.relative_to(out)))
            elif level < depth:
                walk(sub, level + 1)
    walk(out, 1)
    return found


def _folder_experiment(out: Path, name: str) -> tuple[str | None, str]:
    """Another experiment than ``name`` whose results ``out`` holds, and where that was read:
    the command in its run plan (``OUT/jobs/plan.json``) or, where no plan names an
    experiment, a table another experiment writes (``OUT/OTHER.json``). ``(None, "")`` if
    neither names another experiment."""
    import shlex

    from .executors import read_plan
    from .experiments import NAMES
    planned = None
    try:
        plan = read_plan(out)
        argv = shlex.split(plan["command"]) if plan and isinstance(plan.get("command"),
                                                                     str) else []
    except (ValueError, OSError):
        argv = []                      # status and the store say what is wrong with it
    if len(argv) >= 2 and argv[0] == "pycheck":
        try:
            ns, _ = build_parser().parse_known_args(argv[1:])
            if getattr(ns, "verb", None) == "reproduce":
                planned = getattr(ns, "name", None)
        except (UsageError, SystemExit):   # a command this version cannot parse
            pass
    if planned is not None:
        return (planned, "its jobs/plan.json") if planned != name else (None, "")
    tables = [n for n in NAMES if n != name and (out / f"{n}.json").is_file()]
    return (tables[0], f"its {tables[0]}.json") if tables else (None, "")


def _rerun_command(command: str, out: str) -> str:
    """The plan's command line with ``--out`` set to the folder as the caller named it: the
    plan keeps the command as typed, so a relative ``--out`` (or none) pointed, from another
    folder or after a rename, at a new folder where every run would start again (session
    36)."""
    import shlex
    try:
        argv = shlex.split(command)
    except ValueError:
        return command
    for i, a in enumerate(argv):
        if a == "--out" and i + 1 < len(argv):
            argv[i + 1] = str(out)
            break
        if a.startswith("--out="):
            argv[i] = f"--out={out}"
            break
    else:
        argv += ["--out", str(out)]
    return shlex.join(argv)


def cmd_status(m: Manifest | None, args) -> int:
    from .executors import CORRUPT_RUN, SchedulerError, status
    try:
        st = status(args.out)
    except (ValueError, SchedulerError) as exc:
        holds = _holds_output_folders(Path(args.out)) if "holds no run plan" in str(exc) else []
        if holds:       # a parent of output folders: name them (session 48, a user's trial)
            raise UsageError(f"{exc.args[0].split(';')[0]}; it holds the output folders "
                             f"{', '.join(holds[:5])}{' ...' if len(holds) > 5 else ''}: ask "
                             "status about one of them") from None
        raise UsageError(str(exc)) from None
    total = len(st.done) + len(st.queued) + len(st.running) + len(st.failed) + len(st.stopped)
    print(f"{args.out} ({st.executor}): {len(st.done)}/{total} done, {len(st.queued)} queued, "
          f"{len(st.running)} running, {len(st.failed)} failed"
          + (f", {len(st.stopped)} not done" + (
              " (the invocation stopped)" if any("interrupted" in r for _, r, _ in st.stopped)
              else " (not stored)") if st.stopped else ""))
    # which runs are running and queued, and in which job (only counts until session 50,
    # a cluster trial); --all lists every run, done ones too
    shown = {"running": st.running, "queued": st.queued} | (
        {"done": st.done} if args.all else {})
    for state, keys in shown.items():
        cap = len(keys) if args.all else 10
        for key in keys[:cap]:
            print(f"  {state:<7} {key}" + (f" ({st.ids[key]})" if key in st.ids else ""))
        if len(keys) > cap:
            print(f"  ... and {len(keys) - cap} more {state} (--all lists them)")
    for key, reason, log in st.failed:
        # a job cancelled while queued never wrote its log: the line named a file that
        # does not exist (session 48, a cluster trial)
        print(f"  failed  {key}: {reason}" + (f"\n          log: {log}"
                                                if log and Path(log).is_file() else ""))
    for key, reason, _ in st.stopped:
        print(f"  stopped {key}: {reason}")
    # a plan made through the Python API (a script calling an experiment's run) has no
    # command line to repeat: say so instead of printing an empty command
    how = _rerun_command(st.command, args.out) if st.command else (
        "no command recorded (the runs were planned through the Python API): run the same "
        "program again")
    # a corrupt run file stops the rerun ("delete it to recompute that run"): the advice
    # was the bare command, which then exited 2 (session 47, a user's trial)
    corrupt = [log for _, reason, log in st.failed if reason.startswith(CORRUPT_RUN)]
    if corrupt:
        print(f"delete the corrupt run file{'s' if len(corrupt) > 1 else ''} first "
              f"({' '.join(corrupt)}), then resubmit the failed runs (finished ones are "
              f"kept): {how}")
    elif st.failed:
        print(f"resubmit the failed runs (finished ones are kept): {how}")
    elif st.stopped:
        print(f"run it again to finish them (finished ones are kept): {how}")
    elif total and len(st.done) == total:
        made = _tables_made(Path(args.out), st.done)
        if made:   # it asked to make tables that were already there (session 37)
            print(f"all runs are in and the tables are made ({made[0]}); to remake them: {how}")
        else:
            print(f"all runs are in; make the tables: {how}")
    return EXIT_FAIL if st.failed or st.stopped else 0


def _tables_made(out: Path, expected: list[str]) -> list[str]:
    """The summary files in ``out`` made from the runs now stored: every expected run's
    seal equals the one the summary recorded (``run_seals``, since session 48). A summary
    from before has only its counts: made if they add up to the expected runs. Session 48,
    a cluster trial: a run deleted and recomputed (or another seed of the same count) left
    the old tables called "made"."""
    from .store import RunStore
    store = RunStore(out)
    made = []
    for p in sorted(out.glob("*summary.json")):
        try:
            d = json.loads(p.read_text())
            seals = d.get("run_seals")
            if isinstance(seals, dict):
                if all(seals.get(k) == store.seal_of(k) for k in expected):
                    made.append(p.name)
            elif d.get("runs_computed", 0) + d.get("runs_reused", 0) == len(expected):
                made.append(p.name)
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return made


def cmd_fit(m: Manifest | None, args) -> int:
    from . import fitcmd
    return fitcmd.run(args)


def cmd_bench(m: Manifest | None, args) -> int:
    from . import bench
    return bench.main(args.rest)


# ---------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pycheck", description=(
        "Checks and experiments for 'When Does LeJEPA Learn a World Model?'. Theorem IDs "
        "(the paper's T1-T4, lemmas L1-L7, and A1, A2, S1 beyond the paper) are defined in "
        "theorems.toml; `pycheck list` shows them."))
    p.add_argument("--version", action="version", version=f"pycheck {__version__}")
    p.add_argument("--manifest", metavar="FILE", type=path_arg,
                   help="path to theorems.toml (default: found from the current folder)")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.add_parser("list", help="one row per ID with its formal and numeric status")
    s = sub.add_parser("show", help="statement, Lean declarations, checks and experiments of an ID")
    s.add_argument("id", metavar="ID", help="a theorem ID (T1, any case), a check name "
                   "(T1.lower_bound) or a Lean declaration (LeJEPA.alignment_eq_iff)")
    s.add_argument("--lean", action="store_true",
                   help="also print each Lean declaration's statement (up to its :=)")
    s = sub.add_parser("cite", help="BibTeX of the paper and of this kit (once), then per ID its "
                                    "formal status, axioms, package version and commit")
    s.add_argument("ids", nargs="+", metavar="ID")
    s = sub.add_parser("verify", help="run the numeric checks of the given IDs (default: all)")
    s.add_argument("ids", nargs="*", metavar="ID_OR_CHECK",
                   help="theorem IDs (all their checks) or check names such as "
                        "T1.lower_bound, as `pycheck show ID` lists them")
    s.add_argument("--json", metavar="FILE", type=path_arg, help="also write the full report as JSON")
    s.add_argument("--seed", type=int, default=0, help="random seed for every check (default 0)")
    sub.add_parser("audit", help="consistency of theorems.toml, LeJEPA/ and pycheck.checks")
    s = sub.add_parser("reproduce", help="run one of the paper's experiments")
    s.add_argument("name", help="twod, scaling, gennorm, bound, control, reacher or "
                                "anisotropic (bound trains nothing: it checks T3 on the runs "
                                "in the folders twod, scaling, gennorm and control beside "
                                "--out, so run those first into the same parent folder)")
    s.add_argument("--profile", choices=("quick", "full"), default="quick",
                   help="quick: minutes to hours on a CPU (default); full: the paper's "
                        "sizes where it gives them (none for twod or reacher: larger "
                        "settings of this kit), meant for a GPU; experiments/NAME.toml")
    s.add_argument("--out", metavar="DIR", type=path_arg,
                   help="output folder (default results/NAME[-full]: the committed results, "
                        "whose stored runs are reused and whose tracked tables are "
                        "rewritten; pass a new folder to reproduce from scratch)")
    s.add_argument("--seeds", type=int, nargs="+", metavar="S",
                   help="seeds to run (default: the profile's)")
    s.add_argument("--jobs", type=int, default=1, metavar="J",
                   help=f"parallel training processes ({PARALLEL_LIST}; default 1)")
    s.add_argument("--executor", choices=("local", "slurm"), default="local",
                   help="local: this machine (default); slurm: one SLURM job per run "
                        f"({PARALLEL_LIST}; needs pip install -e '.[cluster]')")
    s.add_argument("--collect", action="store_true",
                   help="submit nothing; make the tables once every run is in (exit 1 "
                        "while some are missing, 2 for a folder without runs); append it "
                        "to the submitting command: its --jobs and SLURM options are "
                        "accepted and unused")
    g = s.add_argument_group("SLURM (--executor slurm; each option is per run)")
    g.add_argument("--partition", help="SLURM partition (default: the cluster's)")
    g.add_argument("--gpus-per-run", type=int, metavar="G", help="GPUs per run (default 0)")
    g.add_argument("--cpus-per-run", type=int, metavar="C", help="CPUs per run (default 1); runs train at their profile's `threads` "
                   "(default 1) whatever this is, so that their numbers equal local runs'")
    g.add_argument("--mem", help="memory per run, e.g. 8G (default: the cluster's)")
    g.add_argument("--time", help="time limit per run: minutes, M:S, H:M:S, D-H, D-H:M or "
                                  "D-H:M:S, as sbatch reads them (default 240 minutes); a "
                                  "job stops 90 s before it, keeping its checkpoint")
    g.add_argument("--array-parallelism", type=int, metavar="P",
                   help="at most P runs at once (default 256)")
    g.add_argument("--slurm-option", action="append", metavar="KEY=VALUE",
                   help="any other sbatch option, e.g. qos=high (repeatable; not one that "
                        "pycheck sets itself, such as array, time or output)")
    s = sub.add_parser("status", help="runs of an output folder: done, queued, running, failed "
                                      "or not done (exit 1 while any failed or is not done)")
    s.add_argument("out", metavar="OUT", type=path_arg, help="the folder `pycheck reproduce` writes")
    s.add_argument("--all", action="store_true",
                   help="list every run with its state (default: running and queued runs, "
                        "10 of each, with their job ids; failed ones always)")
    s = sub.add_parser("fit", help="train an encoder on your own pairs or sequence (.npz/.npy)",
                       description=(
        "Train an encoder with pycheck.fit_encoder (its defaults) on your own positive "
        "pairs (an .npz with arrays x and x_next) or on a sequence whose consecutive rows "
        "are the pairs. Writes DIR/encoder.pt, embedding.npy, history.png, slowness.png "
        "and fit.json; "
        "an interrupted fit resumes when the same command is run again (DIR/fit.ckpt). "
        "Exit code 2 on bad input, with nothing written."))
    from .fitcmd import add_arguments
    add_arguments(s, path_arg)
    s = sub.add_parser("bench", add_help=False,  # --help goes to pycheck.bench's own parser
                       help="training throughput and SIGReg speed (pycheck bench --help)")
    s.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def _note_fallback_manifest(m: Manifest, explicit: str | None) -> None:
    """Say on stderr which manifest is used when it is not the current folder's own (the
    installed package's tree is the last fallback): otherwise ``audit`` could report on
    another checkout without saying so."""
    if explicit or os.environ.get("PYCHECK_MANIFEST"):
        return
    cwd, root = Path.cwd().resolve(), m.root.resolve()
    if root != cwd and root not in cwd.parents:
        print(f"pycheck: no theorems.toml in {cwd} or its parents; using {m.path}",
              file=sys.stderr)


COMMANDS = {"list": cmd_list, "show": cmd_show, "cite": cmd_cite, "verify": cmd_verify,
            "audit": cmd_audit, "reproduce": cmd_reproduce, "status": cmd_status,
            "fit": cmd_fit, "bench": cmd_bench}


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``) turned into an interrupt: it had ended the process
    with no word (session 50, a user's trial), where Ctrl-C said what was kept."""


def _raise_terminated(signum, frame):
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading
    previous = (signal.signal(signal.SIGTERM, _raise_terminated)
                if threading.current_thread() is threading.main_thread() else None)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # an ASCII or Latin-1 terminal (PYTHONIOENCODING=ascii, a C locale without UTF-8
        # coercion): the statements' Greek letters and dashes raised UnicodeEncodeError
        # (session 36); written as escapes instead
        if (getattr(stream, "encoding", "") or "").lower().replace("-", "") != "utf8" \
                and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = None
    try:
        # bench forwards its arguments (options included) to pycheck.bench's own parser
        args, unknown = parser.parse_known_args(argv)
        if args.verb == "bench":
            args.rest = unknown + args.rest
        elif unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        if args.verb is None:
            parser.print_help()
            return EXIT_USAGE
        args.argv = list(sys.argv[1:] if argv is None else argv)
        m = None
        if args.verb != "fit":           # fit reads the user's data, not the manifest
            m = load(args.manifest)
            _note_fallback_manifest(m, args.manifest)
        return COMMANDS[args.verb](m, args)
    except (UsageError, ManifestError) as exc:
        print(f"pycheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # the reader went away (`pycheck show T1 | head`): not an error of ours. Caught
        # before OSError, its base class (it was caught there: "pycheck: error: Broken
        # pipe", exit 2), and stdout pointed at /dev/null so that the interpreter's final
        # flush does not raise again (Python's documented recipe, `signal` module notes)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:  # read-only or full disk, a folder where a file should be, ...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"pycheck: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        verb = getattr(args, "verb", None)
        # only reproduce and fit keep finished work and resume (verify said so too; s36)
        said = " (finished results are kept; rerun to resume)" if verb == "reproduce" else ""
        if verb == "fit" and getattr(args, "out", None):
            # a fit stopped before its first checkpoint save keeps nothing (its folder is
            # removed); it said "finished results are kept" all the same (session 47)
            ckpt = Path(args.out) / "fit.ckpt"
            said = (f" (the training state is kept in {ckpt}; rerun the same command to "
                    "resume)" if ckpt.is_file() else
                    " (before the first checkpoint save: nothing was kept)")
        if isinstance(exc, _Terminated):
            print("pycheck: terminated (SIGTERM)" + said, file=sys.stderr)
            return 128 + 15
        print("pycheck: interrupted" + said, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
