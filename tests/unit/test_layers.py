"""The pure layers never import Odoo, and import cleanly without it."""

import ast
import importlib
from pathlib import Path

import pytest

from ..conftest import ADDONS, ADDONS_DIR

PURE_FILES = sorted(
    path
    for addon in ADDONS
    for layer in ("services", "adapters")
    for path in (ADDONS_DIR / addon / layer).rglob("*.py")
)


def _imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_there_are_pure_modules():
    assert PURE_FILES, "every addon has services/ and adapters/ packages"


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(ADDONS_DIR)))
def test_pure_module_does_not_import_odoo(path):
    offending = [m for m in _imported_modules(path) if m == "odoo" or m.startswith("odoo.")]
    assert not offending, f"{path} imports {offending}: services/adapters must stay pure"


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: str(p.relative_to(ADDONS_DIR)))
def test_pure_module_imports_without_odoo(path):
    relative = path.relative_to(ADDONS_DIR).with_suffix("")
    parts = [p for p in relative.parts if p != "__init__"]
    importlib.import_module("shopaddons." + ".".join(parts))


def test_the_purity_check_catches_an_odoo_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from odoo import fields\nimport odoo.tools\n")
    assert list(_imported_modules(bad)) == ["odoo", "odoo.tools"]
