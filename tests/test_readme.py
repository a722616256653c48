"""The README's table of theorem IDs against the manifest and `pycheck list`; the relative
links of README.md and docs/*.md.

The README's "What is proved, and what is not" holds one row per ID (ID, kind, formal status,
axioms, scope). Written by hand, it would go stale the first time an entry's status or axioms
changed; these tests read the table and compare every row with ``theorems.toml`` (through
:mod:`pycheck.manifest`) and with what ``pycheck list`` prints.
"""
from pathlib import Path

import pytest

from pycheck.cli import main
from pycheck.manifest import load

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## What is proved, and what is not"


def readme_id_table() -> list[list[str]]:
    """The rows of the section's first Markdown table, each a list of stripped cells, without
    the header and the separator row."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows, started = [], False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif started:
            break                                   # the first table only
    assert len(rows) >= 2, "no table in the README's theorem-ID section"
    header, sep, *body = rows
    assert header[:4] == ["ID", "kind", "formal", "axioms"], header
    assert all(set(c) <= set("-: ") for c in sep), sep
    return body


def list_columns() -> dict[str, tuple[str, str, str, str]]:
    """ID -> (ID, kind, formal, axioms) as `pycheck list` builds its rows (pycheck.cli.cmd_list)."""
    m = load(ROOT / "theorems.toml")
    return {e.id: (e.id, e.kind, e.status, ",".join(e.axioms) or "-")
            for e in m.entries.values()}


def test_the_readme_id_table_matches_the_manifest():
    rows = readme_id_table()
    want = list_columns()
    assert [r[0] for r in rows] == list(want), \
        "the README's theorem-ID table must list the manifest's IDs, in its order"
    for r in rows:
        assert tuple(r[:4]) == want[r[0]], (
            f"README row {r[0]}: {tuple(r[:4])} but the manifest gives {want[r[0]]} "
            "(ID, kind, formal, axioms)")
        assert len(r) >= 5 and r[4], f"README row {r[0]} has no scope phrase"


def test_the_readme_id_table_matches_pycheck_list(capsys, monkeypatch, tmp_path):
    # list's last-verify column reads a per-user cache; an empty home keeps it out of the way
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["--manifest", str(ROOT / "theorems.toml"), "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    header = out[0].split()
    assert header[:4] == ["ID", "kind", "formal", "axioms"], header
    listed = []
    for line in out[1:]:
        if not line.strip():
            break                                   # the footnote follows a blank line
        listed.append(tuple(line.split()[:4]))
    assert [tuple(r[:4]) for r in readme_id_table()] == listed


def test_the_readme_says_what_lean_checked_says():
    """The README states plainly that no Lean proof was compiled; that must stay true of the
    manifest, or the sentence must change with it."""
    m = load(ROOT / "theorems.toml")
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    checked = [e.id for e in m.entries.values() if e.lean_checked]
    if checked:
        pytest.fail(f"lean_checked is true for {', '.join(checked)}: the README's statement "
                    "that no Lean proof has been compiled is out of date")
    assert "No Lean proof in this kit has been compiled" in text
    assert "`lean_checked = false`" in text


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to '-'."""
    import unicodedata
    h = heading.strip().lower()
    return "".join(c for c in h if c in " -_" or unicodedata.category(c)[0] in "LNM") \
        .replace(" ", "-")


def _prose(path: Path) -> str:
    """The file without fenced code blocks and inline code spans."""
    import re
    out, fence = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            out.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(out)


def test_relative_links_in_the_readme_and_docs_resolve():
    """Every relative link of README.md and docs/*.md names an existing file and, with a
    '#fragment', a heading of that file (the README's history moved to docs/ in pieces, with
    links between them)."""
    import re
    bad = []
    for f in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", _prose(f)):
            if re.match(r"[a-z]+:", target):
                continue                            # http:, mailto:
            path, _, frag = target.partition("#")
            dest = (f.parent / path) if path else f
            if not dest.exists():
                bad.append(f"{f.relative_to(ROOT)}: {target}: no such file")
            elif frag and dest.suffix == ".md":
                heads = {_slug(re.sub(r"^#+ ", "", line)) for line in _prose(dest).splitlines()
                         if re.match(r"#{1,6} ", line)}
                if frag not in heads:
                    bad.append(f"{f.relative_to(ROOT)}: {target}: no such heading")
    assert not bad, "\n".join(bad)
