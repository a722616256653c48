"""``pycheck audit``: consistency of manifest, Lean sources and Python checks.

This is the kit's ``checkdecls`` (cf. the blueprint projects): it reads the Lean files as
text — no Lean toolchain is needed — and reports one message per violation:

* every Lean name listed in the manifest is declared under ``LeJEPA/`` (in one of its ``lean_file``);
* an ID of status ``proved`` or ``partial`` lists at least one ``theorem`` (definitions alone
  prove nothing);
* no ``sorry``, ``sorryAx``, ``admit``, ``native_decide`` or ``skipKernelTC`` in the Lean
  sources, and no manifest declaration ``private``, ``unsafe`` or ``partial``;
* every ``axiom`` sits in ``LeJEPA/Axioms.lean`` and is listed by a manifest entry of status
  ``axiom``; entries of status ``axiom`` list only axioms;
* ``LeJEPA.lean`` imports every module under ``LeJEPA/``;
* ``lean-toolchain`` matches the manifest's ``[lean].toolchain``, and ``lakefile`` pins
  ``[lean].mathlib_commit``;
* every named check is registered, every ID has a check, and no registered check is orphaned;
* every named experiment exists (module and config) and names the ID among its ``THEOREMS``;
* ``lean_checked = true`` only with a recorded toolchain and Mathlib commit;
* ``axioms`` names only IDs of status ``axiom`` that are among ``uses``, only on entries
  that prove something, and every axiom that an entry's listed declarations reach by name
  through the Lean sources (:func:`axiom_dependencies`; an over-approximation of the name
  references, blind only to lemmas used implicitly by ``simp`` or as instances);
* a ``conjecture`` lists no Lean theorem (it claims nothing formal).

Without ``LeJEPA/`` beside the manifest (not a checkout) it says so in one message.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from . import experiments
from .checks import load_all
from .manifest import Manifest

_DECL = re.compile(
    r"^\s*(?:@\[[^\]]*\]\s*)?((?:(?:private|protected|noncomputable|partial|unsafe|nonrec)\s+)*)"
    r"(theorem|lemma|def|axiom|structure|class|abbrev|instance|inductive|opaque)\s+"
    r"([^\s:(){}\[\]]+)")
# sorryAx is what `sorry` elaborates to, and `set_option debug.skipKernelTC true` skips the
# kernel's check of every proof after it: both passed the audit before session 42
_FORBIDDEN = re.compile(r"\b(sorry|sorryAx|admit|native_decide|skipKernelTC)\b")


@dataclass(frozen=True)
class Decl:
    name: str      # fully qualified
    kind: str      # theorem, def, axiom, ...
    file: str      # path relative to the project root
    line: int
    modifiers: tuple[str, ...] = ()    # private, unsafe, ...


#: phrases by which an entry's title or statement says that part of it is not proved in Lean
#: (numeric only, or only a named part formalized): with one of them the status must be
#: "partial", and a "partial" entry must use one
PARTIAL_MARKERS = ("Status partial", "numeric only", "Lean proves only", "core only")


def strip_comments(src: str) -> str:
    """Blank out Lean comments (``--`` and nested ``/- -/``, docstrings included) and
    string literals, keeping line numbers."""
    out, i, depth, n = [], 0, 0, len(src)
    while i < n:
        two = src[i:i + 2]
        if depth == 0 and two == "--":
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif two == "/-":
            depth += 1
            out.append("  ")
            i += 2
        elif depth and two == "-/":
            depth -= 1
            out.append("  ")
            i += 2
        elif depth:
            out.append("\n" if src[i] == "\n" else " ")
            i += 1
        elif src[i] == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            out.append('""' + "\n" * src[i:j + 1].count("\n"))
            i = j + 1
        else:
            out.append(src[i])
            i += 1
    return "".join(out)


def lean_declarations(root: Path) -> tuple[list[Decl], list[str]]:
    """Declarations (fully qualified) and forbidden-token violations in LeJEPA/ sources."""
    decls, problems = [], []
    files = sorted((root / "LeJEPA").rglob("*.lean"))
    if (root / "LeJEPA.lean").is_file():
        files.append(root / "LeJEPA.lean")
    for f in files:
        rel = str(f.relative_to(root))
        code = strip_comments(f.read_text(encoding="utf-8"))
        ns: list[list[str]] = []  # stack of namespace/section segment lists
        for lineno, line in enumerate(code.splitlines(), 1):
            for m in _FORBIDDEN.finditer(line):
                problems.append(f"{rel}:{lineno}: forbidden `{m.group(1)}`")
            s = line.strip()
            if m := re.match(r"namespace\s+(\S+)", s):
                ns.append(m.group(1).split("."))
            elif re.match(r"(noncomputable\s+)?section\b", s):
                ns.append([])
            elif re.match(r"end\b", s) and ns:
                ns.pop()
            elif m := _DECL.match(line):
                mods, kind, name = m.groups()
                if name.startswith("_root_."):
                    fq = name[len("_root_."):]
                else:
                    fq = ".".join([seg for part in ns for seg in part] + [name])
                decls.append(Decl(fq, kind, rel, lineno, tuple(mods.split())))
    return decls, problems


_TOKEN = re.compile(r"[\w.'!?]+")


def axiom_dependencies(root: Path, decls: list[Decl]) -> dict[str, set[str]]:
    """For each declaration, the ``axiom`` declarations it reaches by name, transitively.

    Read as text: a declaration's body runs to the next declaration of its file, and each
    identifier there (or any dotted suffix of it: ``hS.value_conj`` may be generalized field
    notation for ``value_conj``) refers to every declaration whose fully qualified name ends
    with it. That over-approximates what a name in Lean resolves to, so an axiom that a
    proof names, directly or through our lemmas, is always reached; a lemma used without
    being named (a ``simp`` set, an instance) is not seen, and only ``lake build`` (the
    ``#print axioms`` of LeJEPA/Check.lean) settles those."""
    by_file: dict[str, list[Decl]] = {}
    for d in decls:
        by_file.setdefault(d.file, []).append(d)
    suffix: dict[str, set[str]] = {}
    for d in decls:
        parts = d.name.split(".")
        for k in range(len(parts)):
            suffix.setdefault(".".join(parts[k:]), set()).add(d.name)
    refs: dict[str, set[str]] = {}
    for f, ds in by_file.items():
        lines = strip_comments((root / f).read_text(encoding="utf-8")).splitlines()
        ds = sorted(ds, key=lambda d: d.line)
        for i, d in enumerate(ds):
            end = ds[i + 1].line - 1 if i + 1 < len(ds) else len(lines)
            found: set[str] = set()
            for tok in _TOKEN.findall("\n".join(lines[d.line - 1:end])):
                parts = [p for p in tok.split(".") if p]
                for k in range(len(parts)):
                    found |= suffix.get(".".join(parts[k:]), set())
            refs.setdefault(d.name, set()).update(found - {d.name})
    axioms = {d.name for d in decls if d.kind == "axiom"}
    out = {}
    for name in refs:
        seen, stack = set(), [name]
        while stack:
            x = stack.pop()
            if x not in seen:
                seen.add(x)
                stack.extend(refs.get(x, ()))
        out[name] = seen & axioms
    return out


def _experiment_theorems(root: Path, name: str) -> list[str] | None:
    """THEOREMS of an experiment module, read without importing it (no torch import)."""
    path = Path(experiments.__file__).parent / f"{name}.py"
    if not path.is_file():
        return None
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "THEOREMS" for t in node.targets):
            try:
                return list(ast.literal_eval(node.value))
            except ValueError:
                return None
    return []


def audit(m: Manifest, registry: dict | None = None) -> list[str]:
    """All violations, one message each; empty list means the audit passes.

    ``registry`` defaults to every check registered by :mod:`pycheck.checks`."""
    root = m.root
    v: list[str] = []
    if not (root / "LeJEPA").is_dir():
        # one message, not one per listed declaration (102 of them, session 44's trial)
        return [f"{root}: no LeJEPA/ folder beside the manifest, so this is not a checkout "
                "of the kit: audit compares the manifest with the Lean sources and needs both"]
    decls, problems = lean_declarations(root)
    v += problems
    by_name = {d.name: d for d in decls}

    # Lean <-> manifest
    listed: dict[str, str] = {}
    for e in m.entries.values():
        if not e.lean and e.status != "conjecture":   # a conjecture has only numeric evidence
            v.append(f"{e.id}: no Lean declaration listed")
        for name in e.lean:
            listed[name] = e.id
            d = by_name.get(name)
            if d is None:
                v.append(f"{e.id}: Lean declaration `{name}` is not declared under LeJEPA/")
                continue
            if d.file not in e.lean_files:
                v.append(f"{e.id}: `{name}` is declared in {d.file}, manifest says {e.lean_file}")
            odd = sorted(set(d.modifiers) & {"private", "unsafe", "partial"})
            if odd:
                # a private declaration is not the name the manifest cites (Lean mangles it),
                # and unsafe / partial ones are not checked as proofs (session 42)
                v.append(f"{e.id}: `{name}` is declared {' '.join(odd)} ({d.file}:{d.line})")
            if e.status == "axiom" and d.kind != "axiom":
                v.append(f"{e.id}: status is axiom but `{name}` is a {d.kind}")
            if e.status != "axiom" and d.kind == "axiom":
                v.append(f"{e.id}: `{name}` is an axiom but the status is {e.status!r}")
        kinds = {by_name[name].kind for name in e.lean if name in by_name}
        if e.status in ("proved", "partial") and not kinds & {"theorem", "lemma"}:
            v.append(f"{e.id}: status is {e.status} but no listed Lean declaration is a theorem "
                     f"(a statement with no Lean proof cannot be '{e.status}')")
        # what an entry says of itself must agree with its status: S1's status changed from
        # "partial" to "proved" passed the audit (session 48, a user's trial), and `list` and
        # `cite` would then call the whole result proved
        said = [w for w in PARTIAL_MARKERS if w.lower() in f"{e.title} {e.statement}".lower()]
        if e.status == "proved" and said:
            v.append(f"{e.id}: status is proved but its text says {said[0]!r} (a part is not "
                     "in Lean): 'partial'")
        if e.status == "partial" and not said:
            v.append(f"{e.id}: status is partial but its title or statement does not say which "
                     f"part is not in Lean (one of: {', '.join(PARTIAL_MARKERS)})")
        if e.status == "conjecture" and kinds & {"theorem", "lemma"}:
            v.append(f"{e.id}: status is conjecture but it lists a Lean theorem (a conjecture "
                     "claims nothing formal: 'partial' says which part the Lean proves)")
        if e.lean_checked and not (m.lean.get("checked_toolchain") and m.lean.get("checked_mathlib")):
            v.append(f"{e.id}: lean_checked = true without [lean].checked_toolchain and "
                     "checked_mathlib (only a real `lake build` may set it)")
    for d in decls:
        if d.kind == "axiom":
            if d.file != "LeJEPA/Axioms.lean":
                v.append(f"{d.file}:{d.line}: axiom `{d.name}` outside LeJEPA/Axioms.lean")
            owner = listed.get(d.name)
            if owner is None:
                v.append(f"{d.file}:{d.line}: axiom `{d.name}` has no manifest entry")
            elif m.entries[owner].status != "axiom":
                v.append(f"{d.file}:{d.line}: axiom `{d.name}` is listed under {owner}, "
                         "whose status is not 'axiom'")

    # axioms: what each entry's Lean proofs rest on, as the manifest says and as the
    # sources' name references reach (a missing one would be cited as proved without it)
    owner = {n: e.id for e in m.entries.values() if e.status == "axiom" for n in e.lean}
    reached = axiom_dependencies(root, decls)
    for e in m.entries.values():
        for a in e.axioms:
            if m.entries[a].status != "axiom":
                v.append(f"{e.id}: axioms names {a}, whose status is {m.entries[a].status!r}, "
                         "not 'axiom'")
            if a not in e.uses:
                v.append(f"{e.id}: axioms names {a}, which is not among its uses")
        if e.axioms and e.status in ("axiom", "statement", "conjecture"):
            v.append(f"{e.id}: status {e.status} proves nothing, so it depends on no axiom "
                     f"(axioms = {list(e.axioms)})")
        if e.status in ("axiom", "statement", "conjecture"):
            continue
        for name in e.lean:
            for ax in sorted(reached.get(name, ())):
                if owner.get(ax) not in e.axioms:
                    v.append(f"{e.id}: `{name}` reaches the axiom `{ax}` "
                             f"({owner.get(ax, 'no manifest entry')}) through the Lean "
                             "sources, but the entry's axioms do not list it")

    # module imports and pins
    modules = sorted(p.relative_to(root).with_suffix("").as_posix().replace("/", ".")
                     for p in (root / "LeJEPA").rglob("*.lean")) if (root / "LeJEPA").is_dir() else []
    top = root / "LeJEPA.lean"
    imported = set(re.findall(r"^\s*(?:public\s+)?import\s+(\S+)", top.read_text(encoding="utf-8"),
                              re.M)) if top.is_file() else set()
    if not top.is_file():
        v.append("LeJEPA.lean: missing (it must import every module)")
    for mod in modules:
        if top.is_file() and mod not in imported:
            v.append(f"LeJEPA.lean: does not import {mod}")
    tc = root / "lean-toolchain"
    want_tc = m.lean.get("toolchain", "")
    if not tc.is_file():
        v.append("lean-toolchain: missing")
    elif tc.read_text(encoding="utf-8").strip() != want_tc:
        v.append(f"lean-toolchain says {tc.read_text(encoding='utf-8').strip()!r}, "
                 f"manifest [lean].toolchain says {want_tc!r}")
    commit = m.lean.get("mathlib_commit", "")
    lakefiles = [p for p in (root / "lakefile.lean", root / "lakefile.toml") if p.is_file()]
    if not lakefiles:
        v.append("lakefile.lean: missing")
    elif not commit:
        v.append("[lean].mathlib_commit is empty")
    elif not any(commit in p.read_text(encoding="utf-8") for p in lakefiles):
        v.append(f"{lakefiles[0].name}: does not pin Mathlib at {commit!r}")

    # checks
    registry = load_all() if registry is None else registry
    named = set()
    for e in m.entries.values():
        if not e.checks:
            v.append(f"{e.id}: no numeric check")
        for c in e.checks:
            named.add(c)
            if c not in registry:
                v.append(f"{e.id}: check `{c}` is not registered in pycheck.checks")
    for c in sorted(set(registry) - named):
        v.append(f"check `{c}` is registered but no manifest ID names it")

    # experiments
    for e in m.entries.values():
        for x in e.experiments:
            if x not in experiments.NAMES:
                v.append(f"{e.id}: unknown experiment {x!r}")
                continue
            if not (root / "experiments" / f"{x}.toml").is_file():
                v.append(f"{e.id}: experiment {x!r} has no config experiments/{x}.toml")
            th = _experiment_theorems(root, x)
            if th is None:
                v.append(f"{e.id}: experiment {x!r} has no module pycheck/experiments/{x}.py "
                         "(or unreadable THEOREMS)")
            elif e.id not in th:
                v.append(f"{e.id}: experiment {x!r} does not list {e.id} in its THEOREMS")
    for x in experiments.NAMES:
        if not (root / "experiments" / f"{x}.toml").is_file():
            continue  # not configured in this project
        for id_ in _experiment_theorems(root, x) or []:
            if id_ not in m.entries:
                v.append(f"experiment {x!r} names unknown ID {id_!r} in its THEOREMS")
            elif x not in m.entries[id_].experiments:
                v.append(f"{id_}: experiment {x!r} lists {id_} in its THEOREMS, but the "
                         "manifest's experiments for it do not name it")
    return v
