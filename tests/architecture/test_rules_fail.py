"""Each import rule fails on a planted violation: a rule that could not fail would hold the house to nothing.

The planted trees are sources in memory, read by the same graph builder as the house."""

from textwrap import dedent

from tests.architecture.imports import (
    Graph,
    module_cycles,
    package_cycles,
    room_violations,
    upward_imports,
)


def tree(modules: dict[str, str]) -> Graph:
    """A planted tree: module name → source. Every dotted prefix of a module is a package."""
    packages = {name.rsplit(".", depth)[0] for name in modules for depth in range(1, name.count(".") + 1)}
    for package in packages - modules.keys():
        modules = {**modules, package: ""}
    return Graph.of_sources(
        {name: (name.replace(".", "/") + ".py", dedent(text)) for name, text in modules.items()}, packages
    )


# --- layers --------------------------------------------------------------------------------------------------------


def test_the_core_importing_a_domain_points_up() -> None:
    graph = tree({"opscenter.db": "from contracts.terms import Terms", "contracts.terms": "Terms = 1"})
    assert upward_imports(graph) == [
        "opscenter/db.py:1: opscenter.db imports contracts.terms (core may not import contracts)"
    ]


def test_an_import_inside_a_function_counts() -> None:
    graph = tree(
        {
            "sla.reports.service": """
                def report():
                    import billing.formula
                    return billing.formula
            """,
            "billing.formula": "",
        }
    )
    assert [violation.split(" (")[1] for violation in upward_imports(graph)] == ["sla may not import billing)"]


def test_an_import_under_type_checking_counts() -> None:
    graph = tree(
        {
            "monitoring.metrics": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from opscenter.settings import Settings
            """,
            "opscenter.settings": "",
        }
    )
    assert len(upward_imports(graph)) == 1


def test_a_named_import_module_counts() -> None:
    graph = tree(
        {"contracts.catalog.service": "import importlib\nimportlib.import_module('operations.tickets.service')"}
        | {"operations.tickets.service": ""}
    )
    assert len(upward_imports(graph)) == 1


def test_the_wiring_may_import_everything_and_nothing_imports_the_wiring() -> None:
    graph = tree(
        {
            "opscenter.plugin": "import billing.statements.controller",
            "billing.statements.controller": "",
            "opscenter.web": "from opscenter.app import create_app",
            "opscenter.app": "",
        }
    )
    assert upward_imports(graph) == [
        "opscenter/web.py:1: opscenter.web imports opscenter.app (core may not import wiring)"
    ]


def test_the_escape_hatch_lets_one_named_pair_through() -> None:
    graph = tree({"opscenter.db": "import sla.reports.models", "sla.reports.models": ""})
    assert upward_imports(graph, {("opscenter.db", "sla.reports.models"): "why, in one line"}) == []


# --- circles -------------------------------------------------------------------------------------------------------


def test_two_modules_importing_each_other_are_a_circle() -> None:
    graph = tree(
        {
            "opscenter.db": "from opscenter.replica import ReadReplica",
            "opscenter.replica": "def route():\n    from opscenter.db import Database",
        }
    )
    assert module_cycles(graph) == [["opscenter.db", "opscenter.replica"]]


def test_packages_can_circle_without_any_module_circle() -> None:
    graph = tree(
        {
            "billing.statements.service": "import billing.disputes.models",
            "billing.disputes.service": "import billing.statements.models",
            "billing.statements.models": "",
            "billing.disputes.models": "",
        }
    )
    assert module_cycles(graph) == []
    assert package_cycles(graph) == [["billing.disputes", "billing.statements"]]


def test_a_package_and_its_parent_can_circle() -> None:
    graph = tree(
        {"opscenter.web": "import opscenter.auth.actor", "opscenter.auth.actor": "import opscenter.errors"}
        | {"opscenter.errors": ""}
    )
    assert package_cycles(graph) == [["opscenter", "opscenter.auth"]]


# --- rooms ---------------------------------------------------------------------------------------------------------


def test_models_may_not_use_their_service() -> None:
    graph = tree(
        {"contracts.purchasing.models": "import contracts.purchasing.service", "contracts.purchasing.service": ""}
    )
    assert room_violations(graph) == [
        "contracts/purchasing/models.py:1: contracts.purchasing.models imports contracts.purchasing.service"
        " (models may not use service)"
    ]


def test_a_service_may_not_use_its_flows_and_a_controller_not_its_jobs() -> None:
    graph = tree(
        {
            "sla.ratings.service": "from sla.ratings import flows",
            "sla.ratings.flows": "",
            "sla.ratings.controller": "from sla.ratings.jobs import JOBS",
            "sla.ratings.jobs": "JOBS = []",
        }
    )
    assert [violation.split(" (")[1] for violation in room_violations(graph)] == [
        "controller may not use jobs)",
        "service may not use flows)",
    ]


def test_another_package_enters_through_service_and_models_only() -> None:
    graph = tree(
        {
            "billing.statements.runs": "import sla.reports.service, sla.reports.models, sla.reports.flows",
            "sla.reports.service": "",
            "sla.reports.models": "",
            "sla.reports.flows": "",
        }
    )
    assert [violation.split(" (")[1] for violation in room_violations(graph)] == ["another package's flows)"]


def test_the_rooms_are_followed_in_order() -> None:
    graph = tree(
        {
            "contracts.purchasing.controller": "from contracts.purchasing import flows",
            "contracts.purchasing.flows": "from contracts.purchasing import service",
            "contracts.purchasing.service": "from contracts.purchasing import models",
            "contracts.purchasing.models": "",
            "billing.statements.service": "from contracts.purchasing import service, models",
        }
    )
    assert room_violations(graph) == []
