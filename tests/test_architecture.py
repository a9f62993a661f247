"""The shape of the tree (docs/architecture.md): every import points one way, down.

    dags/, benchmarks/                     (top: Airflow, figures)
      sverka/                              workflows: pipeline recipe, runner, CLI, review...
        extractors/  validators/  storage/ stages and storage, side by side
          primitives/                      names, check digits, numbers, the sandbox, imaging
            contracts/                     models, reasons, settings, errors, masking, schemas

A folder imports only from the folders listed for it (and from itself); so there is no
cycle between folders, and the three in the middle never lean on each other.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BELOW_STAGES = {"contracts", "primitives"}
ALLOWED: dict[str, set[str]] = {
    "contracts": set(),
    "primitives": {"contracts"},
    "extractors": BELOW_STAGES,
    "validators": BELOW_STAGES,
    "storage": BELOW_STAGES,
    "fixtures": BELOW_STAGES,  # test documents are drawn from the contracts alone
    "sverka": BELOW_STAGES | {"extractors", "validators", "storage"},
    "dags": BELOW_STAGES | {"storage", "sverka"},
    "benchmarks": BELOW_STAGES | {"extractors", "validators", "storage", "sverka", "fixtures"},
}
# A DAG file imports its neighbour ``_connections`` as a top-level module.
ALIASES = {"_connections": "dags"}
MAX_LINES = 450  # a module longer than this is several modules (DAG files excepted)


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def _imported_folders(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                 [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0
                 and node.module else [])
        for name in names:
            top = name.split(".")[0]
            top = ALIASES.get(top, top)
            if top in ALLOWED:
                found.add((top, node.lineno))
    return found


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_imports_point_down(folder: str) -> None:
    wrong = [f"{path.relative_to(ROOT)}:{line} imports {top}"
             for path in _modules(folder)
             for top, line in sorted(_imported_folders(path))
             if top != folder and top not in ALLOWED[folder]]
    assert not wrong, (f"{folder}/ may import only {sorted(ALLOWED[folder]) or 'nothing'} "
                       "of the project (docs/architecture.md):\n" + "\n".join(wrong))


def test_the_allowed_imports_have_no_cycle() -> None:
    done: set[str] = set()

    def visit(folder: str, path: tuple[str, ...]) -> None:
        assert folder not in path, " -> ".join((*path, folder))
        if folder not in done:
            for lower in ALLOWED[folder]:
                visit(lower, (*path, folder))
            done.add(folder)

    for folder in ALLOWED:
        visit(folder, ())


def test_every_top_level_package_has_its_rule() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages <= set(ALLOWED), sorted(packages - set(ALLOWED))


@pytest.mark.parametrize("folder", sorted(set(ALLOWED) - {"dags"}))
def test_no_module_is_several_modules(folder: str) -> None:
    long = [f"{path.relative_to(ROOT)}: {n} lines" for path in _modules(folder)
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, f"over {MAX_LINES} lines, split by what the parts do:\n" + "\n".join(long)


def test_a_wrong_import_is_caught(tmp_path: Path) -> None:
    module = tmp_path / "models.py"
    module.write_text("from extractors.ocr import Tesseract\n\n"
                      "def f():\n    import sverka.pipeline\n", encoding="utf-8")
    assert _imported_folders(module) == {("extractors", 1), ("sverka", 4)}
