"""The house rules that used to hold by habit, checked on the source: who may import whom, who commits, and where
role sets are defined. A new domain is held to them the day it lands. The import rules themselves live in
tests/architecture/imports.py, and tests/architecture/test_rules_fail.py shows each one failing on a planted
violation."""

import ast
import subprocess
import sys

import pytest

from opscenter.identity import guards
from opscenter.identity.models import Role
from tests.architecture.imports import (
    CYCLE_RULE,
    LAYER_RULE,
    ROOM_RULE,
    ROOT,
    house_graph,
    module_cycles,
    package_cycles,
    room_violations,
    upward_imports,
)

GRAPH = house_graph()
MODULES = [(name, ROOT / path, ast.parse(text)) for name, (path, text) in sorted(GRAPH.sources.items())]


def _holds(rule: str, violations: list[str] | list[list[str]]) -> None:
    if violations:
        pytest.fail("\n".join([rule, *(str(violation) for violation in violations)]), pytrace=False)


def test_imports_point_down_the_layers() -> None:
    _holds(LAYER_RULE, upward_imports(GRAPH))


def test_no_module_imports_itself_around_a_circle() -> None:
    _holds(CYCLE_RULE, module_cycles(GRAPH))


def test_no_package_imports_itself_around_a_circle() -> None:
    _holds(CYCLE_RULE, package_cycles(GRAPH))


def test_a_domain_is_entered_through_its_service_and_models() -> None:
    _holds(ROOM_RULE, room_violations(GRAPH))


def test_the_graph_sees_every_kind_of_import() -> None:
    """A rule is only as good as the graph: imports inside functions and under TYPE_CHECKING are edges too."""
    edges = {(edge.importer, edge.imported) for edge in GRAPH.imports}
    assert len(GRAPH.modules) > 180
    assert ("opscenter.plugin", "billing.statements.controller") in edges
    assert len(edges) > 800


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


def test_a_serving_process_does_not_load_the_spreadsheet_library() -> None:
    """openpyxl is imported where a workbook is read or written (opscenter/sheets.py): loaded with the app it would
    cost every serving process 6 MiB for the few requests that exchange XLSX files."""
    probe = "import sys; import opscenter.app, opscenter.cli; print('openpyxl' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert answer.stdout.strip() == "False"
