"""The chapters' exercises: every listed chapter has them, each is skeleton -> check -> solution, solutions are never
exported, and running a chapter as a test (nbdev-test) fails when a skeleton passes its own check or a solution fails."""
import ast, json, re
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
# the method chapters of the course page, and the video-text chapter when it exists
CHAPTERS = ["01_data", "03_echozoom", "04_mfl", "05_numclip_head", "05a_adapters", "06_prompts", "06a_model", "07_trainer",
            "08_pretrain"]
ROLES = ("exercise", "check", "solution")


def _cells(chapter):
    nb = json.loads((NBS / f"{chapter}.ipynb").read_text())
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _role(cell):
    return next((t for t in cell.get("metadata", {}).get("tags", []) if t in ROLES), None)


def _last_statement(src: str) -> str:
    return ast.unparse(ast.parse(src).body[-1])


def _output(cell) -> str:
    return "".join("".join(o.get("text", "")) or "".join(o.get("data", {}).get("text/plain", "")) for o in cell["outputs"])


def exercises(chapter):
    "The chapter's exercises as (skeleton, check, solution) cell triples; fails on any other order of tagged cells."
    tagged = [c for c in _cells(chapter) if _role(c)]
    roles = [_role(c) for c in tagged]
    assert roles == list(ROLES) * (len(roles) // 3), f"{chapter}: tagged cells out of order: {roles}"
    return [tuple(tagged[i:i + 3]) for i in range(0, len(tagged), 3)]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_checked_exercises(chapter):
    src = lambda c: "".join(c["source"])
    triples = exercises(chapter)
    assert 2 <= len(triples) <= 4, f"{chapter}: {len(triples)} exercises (want 2 to 4)"
    cells = _cells(chapter)
    first, last = cells.index(triples[0][0]), cells.index(triples[-1][2])
    assert any("Exercises(" in src(c) for c in cells[:first]), f"{chapter}: no `Exercises(...)` before the first exercise"
    assert any(src(c).strip() == "ex.summary()" for c in cells[last + 1:]), f"{chapter}: no `ex.summary()` after the last solution"
    for skeleton, check, solution in triples:
        s, k, sol = src(skeleton), src(check), src(solution)
        assert "raise NotImplementedError" in s or re.search(r"^answer = None\b", s, re.M), f"{chapter}: a skeleton that gives itself away:\n{s}"
        assert not re.search(r"^#\|\s*export", sol, re.M), f"{chapter}: an exported solution"
        assert _last_statement(sol) == _last_statement(k), f"{chapter}: the solution does not end with its check:\n{k}"
        # the committed outputs, which the site shows: the check judged the skeleton, the solution passed
        assert _output(check).startswith("✗"), f"{chapter}: committed check output is not the skeleton's failure: {_output(check)!r}"
        assert _output(solution).startswith("✓"), f"{chapter}: committed solution output is not a pass: {_output(solution)!r}"


def test_solutions_are_not_in_the_package():
    names = set()
    for ch in CHAPTERS:
        for _, _, sol in exercises(ch):
            names |= {n.name for n in ast.parse("".join(sol["source"])).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert names, "no solution defines a function"
    package = "\n".join(p.read_text() for p in (ROOT / "cardiacclip").glob("*.py"))
    assert not [n for n in names if re.search(rf"^\s*def {n}\b", package, re.M)]


def _mini_chapter(tmp_path, skeleton: str, solution: str) -> Path:
    "A chapter of one exercise (the library function: abs) in the chapters' layout."
    check = "ex.check(my_abs, torch.abs, [(torch.tensor([-1.0, 2.0]),)])"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import torch\nfrom cardiacclip.exercise import Exercises\nex = Exercises('mini')"),
        nbformat.v4.new_code_cell(skeleton, metadata={"tags": ["exercise"]}),
        nbformat.v4.new_code_cell(check, metadata={"tags": ["check"]}),
        nbformat.v4.new_code_cell(solution + "\n" + check, metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("ex.summary()")])
    path = tmp_path / "mini.ipynb"
    nbformat.write(nb, path)
    return path


def test_nbdev_test_fails_a_broken_exercise(tmp_path, monkeypatch):
    "What CI runs on every chapter: a sound exercise passes, a too-easy skeleton or a wrong solution fails the notebook."
    from nbdev.test import test_nb
    monkeypatch.chdir(tmp_path)
    good = _mini_chapter(tmp_path, "def my_abs(x): raise NotImplementedError", "def my_abs(x): return x.abs()")
    assert test_nb(good, showerr=False)[0]
    too_easy = _mini_chapter(tmp_path, "def my_abs(x): return torch.abs(x)", "def my_abs(x): return x.abs()")
    assert not test_nb(too_easy, showerr=False)[0]
    rotted = _mini_chapter(tmp_path, "def my_abs(x): raise NotImplementedError", "def my_abs(x): return x")
    assert not test_nb(rotted, showerr=False)[0]
