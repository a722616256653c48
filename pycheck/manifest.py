"""Read and validate ``theorems.toml``, the theorem-ID manifest.

The manifest is the single source of truth for which Lean declarations, numeric checks and
experiments back each theorem ID. This module only parses and validates its *shape*; the
cross-checks against ``LeJEPA/`` and the check registry live in :mod:`pycheck.audit`.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

STATUSES = ("proved", "partial", "axiom", "statement", "conjecture")
KINDS = ("theorem", "lemma")
_REQUIRED = {
    "kind": str, "title": str, "statement": str, "lean": list, "lean_file": (str, list),
    "status": str, "lean_checked": bool, "checks": list, "experiments": list, "uses": list,
    "axioms": list,
}


class ManifestError(ValueError):
    """The manifest is missing or malformed; the message names the problem."""


@dataclass(frozen=True)
class Entry:
    """One theorem or lemma ID of the manifest."""

    id: str
    kind: str
    title: str
    statement: str
    lean: tuple[str, ...]
    lean_file: str            # the files, comma-separated (``lean_files`` as a tuple); "" if none
    status: str
    lean_checked: bool
    checks: tuple[str, ...]
    experiments: tuple[str, ...]
    uses: tuple[str, ...]
    #: the axiom IDs (status ``axiom``) the listed Lean proofs depend on, what ``#print
    #: axioms`` in LeJEPA/Check.lean shows beyond the kernel's three; a subset of ``uses``
    axioms: tuple[str, ...] = ()

    @property
    def lean_files(self) -> tuple[str, ...]:
        return tuple(f.strip() for f in self.lean_file.split(",")) if self.lean_file else ()


@dataclass(frozen=True)
class Manifest:
    path: Path
    paper: dict
    lean: dict
    entries: dict[str, Entry] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The project root: the folder that holds the manifest (and ``LeJEPA/``)."""
        return self.path.parent

    @property
    def ids(self) -> list[str]:
        return list(self.entries)

    def get(self, id_: str) -> Entry:
        try:
            return self.entries[id_]
        except KeyError:
            raise ManifestError(
                f"unknown theorem ID {id_!r}; valid IDs: {', '.join(self.ids)}") from None


def find_manifest(explicit: str | os.PathLike | None = None) -> Path:
    """Locate ``theorems.toml``: explicit path, ``$PYCHECK_MANIFEST``, then the current
    directory and its parents, then the folders above this package (editable install)."""
    if explicit is None:
        explicit = os.environ.get("PYCHECK_MANIFEST")
    if explicit:
        p = Path(explicit)
        if not p.is_file():
            raise ManifestError(f"manifest not found: {p}")
        return p
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for d in (start, *start.parents):
            if (d / "theorems.toml").is_file():
                return d / "theorems.toml"
    raise ManifestError("theorems.toml not found (pass --manifest or set PYCHECK_MANIFEST)")


def load(path: str | os.PathLike | None = None) -> Manifest:
    """Parse and shape-check the manifest; raise :class:`ManifestError` on any problem."""
    p = find_manifest(path)
    try:
        # utf-8-sig: a byte-order mark (as some Windows editors save) read "Invalid
        # statement (at line 1, column 1)" (session 42)
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ManifestError(f"{p}: not valid TOML: {e}") from None
    ids = data.get("ids")
    if not isinstance(ids, dict) or not ids:
        raise ManifestError(f"{p}: no [ids.*] tables")
    entries = {}
    for id_, raw in ids.items():
        if not isinstance(raw, dict):
            raise ManifestError(f"{p}: ids.{id_} is not a table")
        for key, typ in _REQUIRED.items():
            if key not in raw:
                raise ManifestError(f"{p}: ids.{id_} lacks field {key!r}")
            if not isinstance(raw[key], typ):
                kind = " or ".join(t.__name__ for t in typ) if isinstance(typ, tuple) else typ.__name__
                raise ManifestError(f"{p}: ids.{id_}.{key} must be a {kind}")
        if raw["status"] not in STATUSES:
            raise ManifestError(f"{p}: ids.{id_}.status must be one of {STATUSES}")
        if raw["kind"] not in KINDS:
            raise ManifestError(f"{p}: ids.{id_}.kind must be one of {KINDS}")
        files = [raw["lean_file"]] if isinstance(raw["lean_file"], str) else raw["lean_file"]
        # an ID with no Lean declaration (a conjecture: numeric evidence only) names no file,
        # `lean_file = []`; before session 42 A2 had to name one it has nothing in
        if not all(isinstance(f, str) and f and "," not in f for f in files) or (
                not files and raw["lean"]):
            raise ManifestError(f"{p}: ids.{id_}.lean_file must be a file path or a non-empty "
                                "list of file paths (`[]` only where `lean = []`)")
        for key in ("lean", "checks", "experiments", "uses", "axioms"):
            if not all(isinstance(v, str) for v in raw[key]):
                raise ManifestError(f"{p}: ids.{id_}.{key} must be a list of strings")
        # session 42: a repeated check ran twice, an ID could use itself, a title be empty
        for key in ("lean", "checks", "experiments", "uses", "axioms"):
            dup = sorted({v for v in raw[key] if raw[key].count(v) > 1})
            if dup:
                raise ManifestError(f"{p}: ids.{id_}.{key} lists {dup} more than once")
        if id_ in raw["uses"]:
            raise ManifestError(f"{p}: ids.{id_}.uses names the ID itself")
        for key in ("title", "statement"):
            if not raw[key].strip():
                raise ManifestError(f"{p}: ids.{id_}.{key} is empty")
        for key in ("uses", "axioms"):
            unknown = [u for u in raw[key] if u not in ids]
            if unknown:
                raise ManifestError(f"{p}: ids.{id_}.{key} names unknown IDs {unknown}")
        entries[id_] = Entry(
            id=id_, kind=raw["kind"], title=raw["title"], statement=raw["statement"],
            lean=tuple(raw["lean"]), lean_file=", ".join(files), status=raw["status"],
            lean_checked=raw["lean_checked"], checks=tuple(raw["checks"]),
            experiments=tuple(raw["experiments"]), uses=tuple(raw["uses"]),
            axioms=tuple(raw["axioms"]))
    # [paper] and [lean] are read by cite and audit: not tables, or a bibtex that is not
    # a string, raised AttributeError tracebacks (session 36)
    for table in ("paper", "lean"):
        if not isinstance(data.get(table, {}), dict):
            raise ManifestError(f"{p}: [{table}] must be a table")
    if not isinstance(data.get("paper", {}).get("bibtex", ""), str):
        raise ManifestError(f"{p}: paper.bibtex must be a string")
    return Manifest(path=p, paper=data.get("paper", {}), lean=data.get("lean", {}),
                    entries=entries)
