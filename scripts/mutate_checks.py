"""Mutation testing of the ``@check`` bodies, which mutmut 3 does not mutate (issue #17).

mutmut 3.8.1 skips every decorated function (``mutmut/mutation/file_mutation.py``: a
decorator runs at definition time, and its trampoline needs a plain function) and has no
setting to change that, so the bodies of the registered checks in ``pycheck/checks/*.py``
are mutated here instead, one single-node mutation at a time, with the operators mutmut
applies elsewhere: comparison flips (``<`` ↔ ``<=``, ``==`` ↔ ``!=``, ``in`` ↔ ``not in``,
...), ``and`` ↔ ``or``, a dropped ``not`` or unary minus, ``+`` ↔ ``-``, ``*`` ↔ ``/``,
``**`` → ``*``, numbers ``x`` → ``x + 1``, ``True`` ↔ ``False``, ``min`` ↔ ``max``,
``all`` ↔ ``any``, and the first two positional arguments of a call swapped. Strings and
the ``summary=``/``tolerance=`` text of a result are not mutated (they change no verdict).

How: the package is copied to a temporary folder that goes first on ``sys.path``; each
mutant rewrites one check function there (``ast.unparse`` of the mutated function, spliced
over its lines), and a worker forked from this process (numpy, scipy, sympy, torch and
hypothesis already imported, one torch thread) runs, with pytest, only the tests that call
that check, fastest first, stopping at the first failure. Which tests call which check is
measured once on the unmutated code (``sys.setprofile``). The working tree is never
written.

Usage, from the repository root (minutes per check module on 2 cores)::

    nice -n 10 .venv/bin/python scripts/mutate_checks.py [--modules t1 t3] \
        [--out results/mutation/checks.txt]

Prints one line per mutant (verdict, function, line, mutation) and a per-module table.
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECK_DIR = ROOT / "pycheck" / "checks"
MODULES = ("hermite", "t1", "t2", "t3", "t4", "anisotropic")
# the tests that exercise the checks: mutmut's own selection, one list for both tools
TEST_FILES = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text())
                   ["tool"]["mutmut"]["pytest_add_cli_args_test_selection"])
TEXT_KEYWORDS = {"summary", "tolerance"}
# a mutant's tests may take this many times their unmutated duration (plus a floor for
# pytest's own start-up) before it counts as a timeout (an endless loop, a huge sweep)
TIMEOUT_FACTOR, TIMEOUT_FLOOR_S = 10, 60

COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
           ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
           ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
         ast.Pow: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
SWAP_NAMES = {"min": "max", "max": "min", "all": "any", "any": "all"}


# ---------------------------------------------------------------- mutations
def _text_nodes(func: ast.FunctionDef) -> set[int]:
    """ids of the nodes that are only text: docstring, f-strings, summary=/tolerance=."""
    skip = set()
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        skip |= {id(n) for n in ast.walk(body[0])}
    for node in ast.walk(func):
        if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.keyword)
                                               and node.arg in TEXT_KEYWORDS):
            skip |= {id(n) for n in ast.walk(node)}
    return skip


def _mutation(node: ast.AST) -> tuple[str, callable] | None:
    """``(description, apply)`` for the one mutation of ``node``, or ``None``."""
    if isinstance(node, ast.Compare) and type(node.ops[0]) in COMPARE:
        new = COMPARE[type(node.ops[0])]
        return (f"{type(node.ops[0]).__name__} -> {new.__name__}",
                lambda n: n.ops.__setitem__(0, new()))
    if isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        return f"{type(node.op).__name__} -> {new.__name__}", lambda n: setattr(n, "op", new())
    if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOP:
        new = BINOP[type(node.op)]
        return (f"{type(node.op).__name__} -> {new.__name__}",
                lambda n: setattr(n, "op", new()))
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return f"{node.value} -> {not node.value}", lambda n: setattr(n, "value", not n.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return f"{node.value!r} -> {node.value + 1!r}", lambda n: setattr(n, "value", n.value + 1)
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in SWAP_NAMES:
            new = SWAP_NAMES[node.func.id]
            return f"{node.func.id} -> {new}", lambda n: setattr(n.func, "id", new)
        pos = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(pos) >= 2 and len(pos) == len(node.args) and \
                ast.dump(pos[0]) != ast.dump(pos[1]):
            return "swap the first two arguments", lambda n: n.args.__setitem__(
                slice(0, 2), [n.args[1], n.args[0]])
    return None


def _unary_drop(parent: ast.AST, field: str, index, node: ast.AST):
    """``not x`` -> ``x`` and ``-x`` -> ``x``: the parent's slot gets the operand."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
        what = "drop not" if isinstance(node.op, ast.Not) else "drop unary -"

        def apply(p):
            slot = getattr(p, field)
            if index is None:
                setattr(p, field, getattr(slot, "operand"))
            else:
                slot[index] = slot[index].operand
        return what, apply
    return None


def _sites(func: ast.FunctionDef) -> list[tuple[int, str]]:
    """Every mutation of ``func``'s body, as ``(line, description)`` in a fixed order."""
    return [(line, what) for line, what, _ in _walk_mutations(func)]


def _walk_mutations(func: ast.FunctionDef):
    """``(line, description, apply)`` for each site; ``apply()`` mutates ``func`` in place."""
    skip = _text_nodes(func)
    for stmt in func.body:
        for parent in ast.walk(stmt):
            if id(parent) in skip:
                continue
            own = _mutation(parent)
            if own is not None:
                yield parent.lineno, own[0], (lambda p=parent, f=own[1]: f(p))
            for field, value in ast.iter_fields(parent):
                children = value if isinstance(value, list) else [value]
                for i, child in enumerate(children):
                    if not isinstance(child, ast.AST) or id(child) in skip:
                        continue
                    drop = _unary_drop(parent, field, i if isinstance(value, list) else None,
                                       child)
                    if drop is not None:
                        yield child.lineno, drop[0], (lambda p=parent, f=drop[1]: f(p))


def check_functions(source: str) -> list[ast.FunctionDef]:
    """The module-level functions decorated with ``@check(...)``."""
    return [node for node in ast.parse(source).body
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", None) == "check"
                for d in node.decorator_list)]


def mutant_source(source: str, func_name: str, k: int) -> str:
    """``source`` with mutation ``k`` of function ``func_name`` applied."""
    func = copy.deepcopy(next(f for f in check_functions(source) if f.name == func_name))
    first = min(d.lineno for d in func.decorator_list)
    last = func.end_lineno
    _, _, apply = list(_walk_mutations(func))[k]
    apply()
    lines = source.splitlines(keepends=True)
    return "".join(lines[:first - 1]) + ast.unparse(func) + "\n" + "".join(lines[last:])


# ---------------------------------------------------------------- running tests
class _CallRecorder:
    """pytest plugin: which check functions each test calls, and how long it takes."""

    def __init__(self, codes: dict):
        self.codes, self.calls, self.seconds, self.failed = codes, {}, {}, []

    def pytest_runtest_call(self, item):
        seen = self.calls.setdefault(item.nodeid, set())
        codes = self.codes

        def prof(frame, event, arg):
            if event == "call" and frame.f_code in codes:
                seen.add(codes[frame.f_code])
        sys.setprofile(prof)

    def pytest_runtest_teardown(self, item):
        sys.setprofile(None)

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.seconds[report.nodeid] = report.duration
        if report.failed:
            self.failed.append(report.nodeid)


def _in_child(fn, timeout: float) -> int | None:
    """Run ``fn()`` (returning an exit code) in a forked child; ``None`` on timeout."""
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            code = fn()
        finally:
            os._exit(int(code))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None


def call_map(out: Path) -> dict:
    """``{"calls": {test: [module.function]}, "seconds": {test: s}}``, measured in a child."""
    def measure():
        import pytest

        import pycheck
        from pycheck.checks import load_all
        assert Path(pycheck.__file__).is_relative_to(out.parent), pycheck.__file__
        registry = load_all()
        codes = {fn.__code__: f"{fn.__module__.rsplit('.', 1)[-1]}.{fn.__name__}"
                 for fn in registry.values()}
        rec = _CallRecorder(codes)
        rc = pytest.main(["-q", "-p", "no:cacheprovider", *TEST_FILES], plugins=[rec])
        out.write_text(json.dumps({"calls": {k: sorted(v) for k, v in rec.calls.items()},
                                   "seconds": rec.seconds, "failed": rec.failed, "rc": int(rc)}))
        return 0
    code = _in_child(measure, timeout=3600)
    result = json.loads(out.read_text()) if code == 0 else None
    if result is None or result["rc"] != 0:
        sys.exit(f"mutate_checks: the unmutated tests do not pass ({result and result['failed']})")
    return result


def run_tests(tests: list[str], timeout: float) -> str:
    """``killed``, ``survived`` or ``timeout`` for the current (mutated) package copy."""
    def body():
        import pytest
        return int(pytest.main(["-q", "-x", "-p", "no:cacheprovider", *tests]))
    code = _in_child(body, timeout)
    return "timeout" if code is None else "survived" if code == 0 else "killed"


# ---------------------------------------------------------------- main
def _prepare(tmp: Path) -> None:
    """Copy the package to ``tmp`` and import the heavy libraries once, before any fork."""
    shutil.copytree(ROOT / "pycheck", tmp / "pycheck",
                    ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(tmp))
    sys.dont_write_bytecode = True      # a same-size rewrite within a second reuses a .pyc
    os.environ["MUTANT_UNDER_TEST"] = "checks"  # tests/conftest.py: one torch thread, no caches
    os.chdir(ROOT)
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import scipy.stats  # noqa: F401
    import sympy  # noqa: F401
    import torch
    torch.set_num_threads(1)            # a forked OpenMP pool hangs (tests/conftest.py)
    assert "pycheck" not in sys.modules


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--modules", nargs="+", choices=MODULES)
    ap.add_argument("--sample", type=int, default=0,
                    help="run this many mutants per module, drawn at random (0: all)")
    ap.add_argument("--seed", type=int, default=0, help="seed of --sample's draw")
    ap.add_argument("--mutants", nargs="+", default=[], metavar="MODULE.FUNCTION#K",
                    help="run only these mutants (names as in the report, e.g. "
                         "t4.dp_nonorthogonal_counterexample#12)")
    ap.add_argument("--out", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    if args.modules is None:
        args.modules = sorted({m.split(".")[0] for m in args.mutants}) or list(MODULES)
    lines = []

    def emit(line):
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory(prefix="mutate_checks_") as tmp:
        tmp = Path(tmp)
        _prepare(tmp)
        tmap = call_map(tmp / "map.json")
        totals = {}
        for mod in args.modules:
            path = tmp / "pycheck" / "checks" / f"{mod}.py"
            source = path.read_text()
            counts = totals.setdefault(mod, Counter())
            mutants = [(func, k, line, what) for func in check_functions(source)
                       for k, (line, what) in enumerate(_sites(func))]
            if args.mutants:
                mutants = [m for m in mutants if f"{mod}.{m[0].name}#{m[1]}" in args.mutants]
            elif args.sample:
                rng = random.Random(f"{args.seed}-{mod}")
                mutants = sorted(rng.sample(mutants, min(args.sample, len(mutants))),
                                 key=lambda m: (m[0].lineno, m[1]))
            for func, k, line, what in mutants:
                name = f"{mod}.{func.name}"
                tests = sorted((t for t, called in tmap["calls"].items() if name in called),
                               key=lambda t: tmap["seconds"].get(t, 0.0))
                budget = TIMEOUT_FLOOR_S + TIMEOUT_FACTOR * sum(
                    tmap["seconds"].get(t, 0.0) for t in tests)
                path.write_text(mutant_source(source, func.name, k))
                verdict = run_tests(tests, budget) if tests else "no tests"
                counts[verdict] += 1
                emit(f"{verdict:<9} {name}:{line} #{k}  {what}")
            path.write_text(source)
        emit("")
        emit(f"{'module':<14}{'mutants':>9}{'killed':>8}{'timeout':>9}{'survived':>10}"
             f"{'no tests':>10}   score")
        for mod, c in [*totals.items(), ("all", sum(totals.values(), Counter()))]:
            n = sum(c.values())
            score = (c["killed"] + c["timeout"]) / n if n else float("nan")
            emit(f"{mod:<14}{n:>9}{c['killed']:>8}{c['timeout']:>9}{c['survived']:>10}"
                 f"{c['no tests']:>10}   {score:.1%}")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
