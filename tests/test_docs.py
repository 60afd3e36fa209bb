"""The manual is the code's own help, and the imports run one way."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# cli -> eval -> chat -> index / ingest -> question / convert -> records / config: a module may
# import its own stage and the stages below it, never one beside or above it.
LAYERS = {
    "iqtibas": 0, "iqtibas.records": 0,
    "iqtibas.config": 1, "iqtibas.folders": 1,
    "iqtibas.question": 2, "iqtibas.convert": 2,
    "iqtibas.ingest": 3, "iqtibas.index": 3,
    "iqtibas.chat": 4,
    "iqtibas.eval": 5,
    "iqtibas.cli": 6,
}
FOLDERS = {"question": "iqtibas.question", "convert": "iqtibas.convert", "ingest": "iqtibas.ingest",
           "index": "iqtibas.index", "chat": "iqtibas.chat", "eval": "iqtibas.eval"}


def stage_of(module: str) -> str:
    """The stage a dotted module name belongs to: its longest prefix in LAYERS."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in LAYERS:
            return ".".join(parts[:end])
    raise AssertionError(f"{module} belongs to no stage")


def runtime_modules():
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).glob("*.py")):
            yield path, f"{package}.{path.stem}" if path.stem != "__init__" else package
    for path in sorted((ROOT / "iqtibas").glob("*.py")):
        yield path, f"iqtibas.{path.stem}" if path.stem != "__init__" else "iqtibas"


def imported(path: Path, module: str) -> set[str]:
    names = set()
    package = module if path.stem == "__init__" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from within the module's own package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
    return {name for name in names if name == "iqtibas" or name.startswith("iqtibas.")}


@pytest.mark.parametrize(("path", "module"), list(runtime_modules()), ids=lambda value: str(value))
def test_imports_run_one_way(path, module):
    own = stage_of(module)
    wrong = sorted(name for name in imported(path, module)
                   if stage_of(name) != own and LAYERS[stage_of(name)] >= LAYERS[own])
    assert not wrong, f"{module} imports {wrong}: stages import only the stages below them"


def test_the_layer_check_fails_on_an_import_that_runs_back(tmp_path):
    backwards = tmp_path / "analyse.py"
    backwards.write_text("from iqtibas.chat import answer\n", encoding="utf-8")
    names = imported(backwards, "iqtibas.question.analyse")
    assert [n for n in names if LAYERS[stage_of(n)] >= LAYERS["iqtibas.question"]] == ["iqtibas.chat"]


def test_the_workshop_is_not_installed():
    import iqtibas

    installed = Path(iqtibas.__file__).parent
    assert not (installed / "bench.py").exists()
    assert importlib.util.find_spec("benchmarks") is None or "site-packages" not in str(
        importlib.util.find_spec("benchmarks").origin)


def test_docs_cli_md_is_the_commands_own_help():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "docs" / "cli_reference.py")
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == reference.cli_markdown(), \
        "docs/cli.md is out of date: run `make docs`"
