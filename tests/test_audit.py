"""`pycheck audit` finds each kind of violation, and only real ones."""
import re
import textwrap

import pytest

from pycheck.audit import audit, lean_declarations, strip_comments
from pycheck.checks import CheckResult
from pycheck.manifest import load

ENTRY = """
[ids.{id}]
kind = "theorem"
title = "t"
statement = "s"
lean = {lean}
lean_file = "{file}"
status = "{status}"
lean_checked = {checked}
checks = ["{id}.c"]
experiments = []
uses = {uses}
axioms = {axioms}
"""


def make_project(tmp_path, files, entries, lean_meta='toolchain = "leanprover/lean4:v4.0.0"\nmathlib_commit = "abc123"'):
    (tmp_path / "LeJEPA").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    (tmp_path / "lean-toolchain").write_text("leanprover/lean4:v4.0.0\n")
    (tmp_path / "lakefile.lean").write_text('require mathlib from git "x" @ "abc123"\n')
    body = f"[lean]\n{lean_meta}\n" + "".join(
        ENTRY.format(**dict(dict(uses="[]", axioms="[]"), **e)) for e in entries)
    (tmp_path / "theorems.toml").write_text(body)
    m = load(tmp_path / "theorems.toml")
    registry = {f"{e['id']}.c": (lambda seed: CheckResult(True, "")) for e in entries}
    return m, registry


GOOD = {
    "LeJEPA.lean": "import LeJEPA.Axioms\nimport LeJEPA.Forward\n",
    "LeJEPA/Axioms.lean": """
        namespace LeJEPA
        /-- Mehler (Bogachev 1998). -/
        axiom mehler : True
        end LeJEPA
        """,
    "LeJEPA/Forward.lean": """
        namespace LeJEPA
        /-- no `sorry` here: comments are ignored -/
        theorem forward : True := by -- admit in a comment is fine
          trivial
        end LeJEPA
        """,
}


def entries(**over):
    base = [dict(id="T1", lean='["LeJEPA.forward"]', file="LeJEPA/Forward.lean", status="proved", checked="false"),
            dict(id="L2", lean='["LeJEPA.mehler"]', file="LeJEPA/Axioms.lean", status="axiom", checked="false")]
    for e in base:
        e.update(over.get(e["id"], {}))
    return base


def test_audit_passes_on_consistent_project(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries())
    assert audit(m, reg) == []


@pytest.mark.parametrize("mutate, expected", [
    (lambda f: f.update({"LeJEPA/Forward.lean": f["LeJEPA/Forward.lean"].replace("trivial", "sorry")}), "forbidden `sorry`"),
    (lambda f: f.update({"LeJEPA/Forward.lean": f["LeJEPA/Forward.lean"].replace("trivial", "native_decide")}), "forbidden `native_decide`"),
    (lambda f: f.update({"LeJEPA/Forward.lean": f["LeJEPA/Forward.lean"] + "\naxiom stray : False\n"}), "outside LeJEPA/Axioms.lean"),
    (lambda f: f.update({"LeJEPA/Axioms.lean": f["LeJEPA/Axioms.lean"] + "\naxiom unlisted : True\n"}), "`unlisted` has no manifest entry"),
    (lambda f: f.update({"LeJEPA/Forward.lean": f["LeJEPA/Forward.lean"].replace("forward", "forward'")}), "`LeJEPA.forward` is not declared"),
    (lambda f: f.update({"LeJEPA.lean": "import LeJEPA.Axioms\n"}), "does not import LeJEPA.Forward"),
    # session 42 (a user's trial): each of these passed the audit
    (lambda f: f.update({"LeJEPA/Forward.lean": f["LeJEPA/Forward.lean"].replace("trivial", "exact sorryAx _ false")}), "forbidden `sorryAx`"),
    (lambda f: f.update({"LeJEPA/Forward.lean": "set_option debug.skipKernelTC true\n" + f["LeJEPA/Forward.lean"]}), "forbidden `skipKernelTC`"),
    (lambda f: f.update({"LeJEPA/Forward.lean": f["LeJEPA/Forward.lean"].replace("theorem forward", "private theorem forward")}), "`LeJEPA.forward` is declared private"),
    (lambda f: f.update({"LeJEPA/Forward.lean": f["LeJEPA/Forward.lean"].replace("theorem forward", "unsafe theorem forward")}), "is declared unsafe"),
])
def test_audit_reports_each_lean_violation(tmp_path, mutate, expected):
    files = dict(GOOD)
    mutate(files)
    m, reg = make_project(tmp_path, files, entries())
    assert any(expected in v for v in audit(m, reg)), audit(m, reg)


def test_audit_lean_checked_needs_recorded_build(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries(T1={"checked": "true"}))
    assert any("lean_checked = true without" in v for v in audit(m, reg))


def test_audit_status_must_match_declaration_kind(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries(L2={"status": "proved"}))
    msgs = audit(m, reg)
    assert any("is an axiom but the status" in v for v in msgs)


def test_audit_missing_and_orphan_checks(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries())
    del reg["T1.c"]
    reg["X.orphan"] = lambda seed: CheckResult(True, "")
    msgs = audit(m, reg)
    assert any("`T1.c` is not registered" in v for v in msgs)
    assert any("`X.orphan` is registered but no manifest ID" in v for v in msgs)


def test_audit_pins(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries(),
                          lean_meta='toolchain = "leanprover/lean4:v4.1.0"\nmathlib_commit = "zzz"')
    msgs = audit(m, reg)
    assert any("lean-toolchain says" in v for v in msgs)
    assert any("does not pin Mathlib" in v for v in msgs)


def test_declarations_track_namespaces_and_comments(tmp_path):
    src = textwrap.dedent("""
        /-! module doc mentioning theorem fake : True -/
        namespace A.B
        theorem x : True := trivial
        section
        private lemma y : True := trivial
        end
        end A.B
        theorem _root_.z : True := trivial
        noncomputable def w : Nat := 0
        """)
    (tmp_path / "LeJEPA").mkdir()
    (tmp_path / "LeJEPA" / "M.lean").write_text(src)
    decls, problems = lean_declarations(tmp_path)
    assert [d.name for d in decls] == ["A.B.x", "A.B.y", "z", "w"]
    assert problems == []
    assert "sorry" not in strip_comments("/- nested /- sorry -/ -/ x -- sorry\n")


def test_lean_file_may_list_several_files(tmp_path):
    """An ID whose declarations span files lists them all; a declaration in an unlisted
    file is still reported, and an empty list is a manifest error."""
    from pycheck.manifest import ManifestError
    m, reg = make_project(tmp_path, GOOD, entries())
    toml = tmp_path / "theorems.toml"
    text = toml.read_text()
    both = 'lean_file = ["LeJEPA/Extra.lean", "LeJEPA/Forward.lean"]'
    toml.write_text(text.replace('lean_file = "LeJEPA/Forward.lean"', both))
    m = load(toml)
    assert m.get("T1").lean_files == ("LeJEPA/Extra.lean", "LeJEPA/Forward.lean")
    assert audit(m, reg) == []
    toml.write_text(text.replace('lean_file = "LeJEPA/Forward.lean"', 'lean_file = ["LeJEPA/Extra.lean"]'))
    assert any("manifest says LeJEPA/Extra.lean" in v for v in audit(load(toml), reg))
    toml.write_text(text.replace('lean_file = "LeJEPA/Forward.lean"', "lean_file = []"))
    with pytest.raises(ManifestError, match="lean_file"):
        load(toml)


def test_audit_proved_needs_a_theorem(tmp_path):
    """An ID that claims `proved` while listing only definitions has no Lean proof."""
    files = dict(GOOD)
    files["LeJEPA/Forward.lean"] += "\nnamespace LeJEPA\ndef only_a_def : Nat := 0\nend LeJEPA\n"
    m, reg = make_project(tmp_path, files, entries(T1={"lean": '["LeJEPA.only_a_def"]'}))
    assert any("status is proved but no listed Lean declaration is a theorem" in v
               for v in audit(m, reg))
    (tmp_path / "partial").mkdir()
    m, reg = make_project(tmp_path / "partial", files,
                          entries(T1={"lean": '["LeJEPA.only_a_def"]', "status": "partial"}))
    assert any("status is partial but no listed Lean declaration is a theorem" in v
               for v in audit(m, reg))
    for status in ("statement", "conjecture"):
        (tmp_path / status).mkdir()
        m, reg = make_project(tmp_path / status, files,
                              entries(T1={"lean": '["LeJEPA.only_a_def"]', "status": status}))
        assert audit(m, reg) == []


def test_conjecture_without_lean_names_no_file(tmp_path, capsys):
    """An ID with no Lean declaration (a conjecture) may say `lean_file = []`; `show` and
    `cite` then name no file (A2 had to name one it has nothing in, session 42); an ID that
    lists declarations still needs its files."""
    from pycheck import cli
    m, reg = make_project(tmp_path, GOOD, entries(T1=dict(lean="[]", status="conjecture")))
    toml = tmp_path / "theorems.toml"
    text = toml.read_text()
    toml.write_text(text.replace('lean_file = "LeJEPA/Forward.lean"', "lean_file = []", 1))
    m = load(toml)
    assert m.get("T1").lean_files == () and m.get("T1").lean_file == ""
    assert audit(m, reg) == []
    assert cli.main(["--manifest", str(toml), "show", "T1"]) == 0
    assert "Lean:      (no Lean file)" in capsys.readouterr().out
    assert cli.main(["--manifest", str(toml), "cite", "T1"]) == 0
    assert "Lean: (none) (status conjecture" in capsys.readouterr().out
    assert m.get("L2").lean_files == ("LeJEPA/Axioms.lean",)


@pytest.mark.parametrize("field, value, message", [
    ("checks", '["T1.c", "T1.c"]', "checks lists ['T1.c'] more than once"),
    ("uses", '["T1"]', "uses names the ID itself"),
    ("title", '" "', "title is empty"),
])
def test_manifest_refuses_repeats_self_use_and_empty_titles(tmp_path, field, value, message):
    """A repeated check ran twice in verify, and these loaded (session 42)."""
    from pycheck.manifest import ManifestError
    make_project(tmp_path, GOOD, entries())
    toml = tmp_path / "theorems.toml"
    text = toml.read_text()
    start = text.index("[ids.T1]")
    line_start = text.index(f"\n{field} = ", start) + 1
    line_end = text.index("\n", line_start)
    toml.write_text(text[:line_start] + f"{field} = {value}" + text[line_end:])
    with pytest.raises(ManifestError, match=re.escape(message)):
        load(toml)


def test_a_manifest_with_a_byte_order_mark_loads(tmp_path):
    """Saved with a BOM (some Windows editors), it read "Invalid statement" (session 42)."""
    make_project(tmp_path, GOOD, entries())
    toml = tmp_path / "theorems.toml"
    toml.write_bytes(b"\xef\xbb\xbf" + toml.read_bytes())
    assert load(toml).ids == ["T1", "L2"]


def test_audit_follows_the_lean_sources_to_the_axioms_an_entry_rests_on(tmp_path):
    """An entry's `axioms` must list every axiom its declarations reach by name (T1 would
    be cited as proved without Mehler otherwise), only axiom IDs among its uses, and none on
    an entry that proves nothing (session 44: `uses` was the only record, and unchecked)."""
    files = dict(GOOD)
    files["LeJEPA/Forward.lean"] = """
        namespace LeJEPA
        theorem helper : True := mehler
        theorem forward : True := helper
        end LeJEPA
        """
    cases = [
        (dict(uses='["L2"]', axioms="[]"),
         "`LeJEPA.forward` reaches the axiom `LeJEPA.mehler` (L2)"),
        (dict(uses="[]", axioms='["L2"]'), "axioms names L2, which is not among its uses"),
        (dict(uses='["L2"]', axioms='["L2"]'), None),
    ]
    for i, (over, message) in enumerate(cases):
        (tmp_path / str(i)).mkdir()
        m, reg = make_project(tmp_path / str(i), files, entries(T1=over))
        found = audit(m, reg)
        assert (found == []) if message is None else any(message in v for v in found), found
    (tmp_path / "nonaxiom").mkdir()
    m, reg = make_project(tmp_path / "nonaxiom", files,
                          entries(T1=dict(uses='["L2"]', axioms='["L2"]'),
                                  L2=dict(axioms='["T1"]', uses='["T1"]')))
    found = audit(m, reg)
    assert any("L2: axioms names T1, whose status is 'proved'" in v for v in found), found
    assert any("L2: status axiom proves nothing" in v for v in found), found


def test_a_conjecture_listing_a_lean_theorem_is_refused(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries(T1=dict(status="conjecture")))
    assert any("status is conjecture but it lists a Lean theorem" in v
               for v in audit(m, reg))


def test_audit_outside_a_checkout_is_one_message(tmp_path):
    m, reg = make_project(tmp_path, GOOD, entries())
    import shutil
    shutil.rmtree(tmp_path / "LeJEPA")
    found = audit(m, reg)
    assert len(found) == 1 and "no LeJEPA/ folder beside the manifest" in found[0]


@pytest.mark.parametrize("status, statement, needle", [
    # a partial result upgraded to proved (S1 passed the audit so, session 48)
    ("proved", "s. Lean proves only the monotone step.", "status is proved but its text says"),
    ("proved", "s. Status partial: the constant is numeric only.", "status is proved but"),
    # a partial result that does not say what is missing
    ("partial", "s", "status is partial but its title or statement does not say"),
])
def test_audit_status_agrees_with_what_the_statement_says(tmp_path, status, statement, needle):
    m, reg = make_project(tmp_path, GOOD, entries(T1=dict(status=status)))
    import dataclasses
    m.entries["T1"] = dataclasses.replace(m.entries["T1"], statement=statement)
    assert any(needle in v for v in audit(m, reg)), audit(m, reg)


def test_audit_accepts_a_partial_entry_that_says_which_part():
    from pycheck.manifest import load as load_manifest
    from pathlib import Path
    real = load_manifest(Path(__file__).resolve().parents[1] / "theorems.toml")
    assert {e.id for e in real.entries.values() if e.status == "partial"} >= {"T2", "S1", "A1"}
    assert not [v for v in audit(real) if "status is p" in v]
