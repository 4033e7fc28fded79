"""The house rules that used to hold by habit, checked on the source: who may import whom, who commits, and where
role sets are defined. A new domain is held to them the day it lands."""

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opscenter.identity import guards
from opscenter.identity.models import Role

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("opscenter", "contracts", "operations", "sla", "billing", "monitoring")

# The wiring knows every domain; nothing else may import it. The demo builds a province through every domain.
WIRING = {"opscenter.plugin", "opscenter.app", "opscenter.cli", "opscenter.demo"}
# The operations floor is a domain above contracts.
FLOOR = ("operations.tickets", "operations.assets")

# Which layers each layer may import (besides itself and the standard library / third parties).
ALLOWED: dict[str, set[str]] = {
    "core": {"core", "monitoring"},
    "monitoring": {"core", "monitoring"},
    "contracts": {"core", "monitoring", "contracts"},
    "operations.assets": {"core", "monitoring", "contracts", "operations.assets"},
    "operations.tickets": {"core", "monitoring", "contracts", "operations.assets", "operations.tickets"},
    # the ratings summary shows the tickets' satisfaction beside the ratings, read through the tickets' service
    "sla": {"core", "monitoring", "contracts", "operations.tickets", "sla"},
    "billing": {"core", "monitoring", "contracts", "sla", "operations.tickets", "billing"},
}


def layer_of(module: str) -> str | None:
    """The layer a project module belongs to; None for the wiring and for modules outside the project."""
    if module in WIRING or module.startswith(tuple(f"{wiring}." for wiring in WIRING)):
        return None
    for floor in FLOOR:
        if module == floor or module.startswith(floor + "."):
            return floor
    top = module.split(".")[0]
    if top == "opscenter":
        return "core"
    return top if top in PACKAGES else None


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            yield name, path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


MODULES = list(_modules())


def _imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from contracts.agreements import service` names a module too
                yield node.lineno, f"{node.module}.{alias.name}"


def test_imports_point_one_way() -> None:
    wrong = []
    for name, path, tree in MODULES:
        own = layer_of(name)
        for line, imported in _imports(tree):
            target = layer_of(imported)
            if imported.split(".")[0] not in PACKAGES:
                continue
            if target is None and imported.split(".")[0] in PACKAGES and own is not None:
                if any(imported == w or imported.startswith(w + ".") for w in WIRING):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports the wiring ({imported})")
                continue
            if own is not None and target is not None and target not in ALLOWED[own]:
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {own} may not import {target} ({imported})")
    assert wrong == []


def test_no_domain_imports_another_packages_controller() -> None:
    wrong = []
    for name, path, tree in MODULES:
        if layer_of(name) is None:
            continue
        package = name.rsplit(".", 1)[0]
        for line, imported in _imports(tree):
            if imported.endswith(".controller") and not imported.startswith(package):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert wrong == []


def test_only_the_database_module_commits() -> None:
    """Services flush; the request, job or command that owns the transaction commits, through opscenter.db."""
    committing = sorted(
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for name, path, tree in MODULES
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
        and name != "opscenter.db"
    )
    assert committing == []


def _role_literals(node: ast.AST) -> set[str] | None:
    """The roles a literal tuple/list/set of ``Role.X`` names, or None when ``node`` is not one."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        names = [
            element.attr
            for element in node.elts
            if isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name) and element.value.id == "Role"
        ]
        return set(names) if len(names) == len(node.elts) >= 2 else None
    return None


NAMED_SETS = {name: {role.name for role in value} for name, value in vars(guards).items() if isinstance(value, tuple)}


@pytest.mark.parametrize("name", sorted(NAMED_SETS))
def test_named_role_sets_hold_roles(name: str) -> None:
    assert NAMED_SETS[name] <= {role.name for role in Role}


def test_role_sets_are_defined_once_in_the_guards() -> None:
    """Controllers say ``allow(*BUSINESS_ROLES)``: a set of roles spelled out again drifts from its twin."""
    wrong = []
    for name, path, tree in MODULES:
        if name == "opscenter.identity.guards":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and _role_literals(node.value) is not None and name.endswith("controller"):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} defines a role set; put it in guards")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "allow":
                spelled = _role_literals(ast.Tuple(elts=list(node.args)))
                for set_name, roles in NAMED_SETS.items():
                    if spelled == roles:
                        wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} spells out {set_name}")
    assert wrong == []


def test_load_all_models_imports_every_models_module() -> None:
    """Alembic and the tests see every table because load_all_models names every models module itself."""
    plugin = next(tree for name, _, tree in MODULES if name == "opscenter.plugin")
    loader = next(
        node for node in ast.walk(plugin) if isinstance(node, ast.FunctionDef) and node.name == "load_all_models"
    )
    imported = {alias.name for node in ast.walk(loader) if isinstance(node, ast.Import) for alias in node.names}
    models = {name for name, _, _ in MODULES if name.endswith(".models") or name.endswith(".models.__init__")}
    assert sorted(models - imported) == []


def test_a_serving_process_does_not_load_the_spreadsheet_library() -> None:
    """openpyxl is imported where a workbook is read or written (opscenter/sheets.py): loaded with the app it would
    cost every serving process 6 MiB for the few requests that exchange XLSX files."""
    probe = "import sys; import opscenter.app, opscenter.cli; print('openpyxl' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert answer.stdout.strip() == "False"
