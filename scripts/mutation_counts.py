"""Per-module counts of the last ``mutmut run`` (issue #17), read from ``mutants/**/*.meta``.

Usage, from the repository root after ``mutmut run``::

    .venv/bin/python scripts/mutation_counts.py > results/mutation/counts.txt
    .venv/bin/python scripts/mutation_counts.py "pycheck.objectives.x__ecf*"   # a subset

Patterns (``fnmatch``, as ``mutmut run NAME...`` takes them) restrict the count to the
mutants whose names match one of them.

Prints one line per mutated module (killed, survived, timeout, no tests, other) and the
kill rate as mutmut scores it, (killed + timeout) / (all − no tests − not checked), with the
commit the mutants were made from (``git rev-parse HEAD``; a dirty tree is flagged).
"""
import fnmatch
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

COLUMNS = ("killed", "survived", "timeout", "no tests", "not checked")


def module_counts(root: Path = Path("mutants"), patterns: list[str] = ()) -> dict[str, Counter]:
    """``{module: Counter(status)}`` over every ``.meta`` file mutmut wrote under ``root``,
    only the mutants matching one of ``patterns`` if any are given."""
    counts = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        codes = [c for k, c in codes.items()
                 if not patterns or any(fnmatch.fnmatchcase(k, p) for p in patterns)]
        if codes:
            name = str(meta.relative_to(root)).removesuffix(".py.meta")
            counts[name] = Counter(status_by_exit_code[c] for c in codes)
    return counts


def score(c: Counter) -> float:
    """mutmut's score: timeouts count as kills; untested and unchecked mutants are left out."""
    tested = sum(c.values()) - c["no tests"] - c["not checked"]
    return (c["killed"] + c["timeout"]) / tested if tested else float("nan")


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return head + (" (uncommitted changes)" if dirty else "")


def main() -> None:
    counts = module_counts(patterns=sys.argv[1:])
    total = sum(counts.values(), Counter())
    print(f"mutants of commit {commit()}")
    print(f"{'module':<24}" + "".join(f"{c:>13}" for c in COLUMNS + ("other",)) + "   score")
    for name, c in [*counts.items(), ("all", total)]:
        other = sum(c.values()) - sum(c[k] for k in COLUMNS)
        cells = "".join(f"{c[k]:>13}" for k in COLUMNS) + f"{other:>13}"
        print(f"{name:<24}{cells}   {score(c):.1%}")


if __name__ == "__main__":
    main()
