"""The project's import graph, read from the source (never by importing it), and the house rules checked on it.

Every import counts wherever it is written: at module level, inside a function, under ``TYPE_CHECKING``, and as a
literal ``importlib.import_module("...")``. Each rule is a function from a graph to the list of its violations, so
the same function runs on the house (``test_architecture.py``) and on a small planted tree that breaks it on purpose
(``test_rules_fail.py``).
"""

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# The layers, lowest first: a module may import its own layer and those below it, never one above.
LAYERS = ("monitoring", "core", "contracts", "operations", "sla", "billing", "wiring")
# The wiring: the only modules that import every domain (besides bench/ and tests/, which sit above it).
WIRING = ("opscenter.app", "opscenter.plugin", "opscenter.cli", "opscenter.demo", "opscenter.console", "migrations")
PACKAGES = ("opscenter", "contracts", "operations", "sla", "billing", "monitoring", "migrations")
DOMAINS = ("contracts", "operations", "sla", "billing")

# The rooms of a domain package, by rank: a room imports only rooms of lower rank in its own package.
ROOMS = {"models": 0, "service": 1, "flows": 2, "controller": 3, "pages": 3, "cli": 3, "jobs": 3}
# Modules of a domain whose file name is not a room say which room they belong to. A module not named here and
# not named after a room is a part of its package's service (a service too long for one file, split by topic).
ROOM_OF = {
    "billing.statements.runs": "flows",  # the monthly billing run: a process over every contract's lines
    "sla.measurements.pull": "flows",  # the SLA pull: Prometheus asked, measurements written
}
# What another package may use of a domain package: its records and its services, never its steps or its doors.
OPEN_TO_OTHERS = ("models", "service")


def layer_of(module: str) -> str | None:
    """The layer of a project module; None for a module outside the project (the standard library, a library)."""
    if any(module == wiring or module.startswith(wiring + ".") for wiring in WIRING):
        return "wiring"
    top = module.split(".")[0]
    if top == "opscenter":
        return "core"
    return top if top in LAYERS else None


def package_of(module: str, packages: set[str]) -> str:
    """The package a module sits in (itself for a package's ``__init__``); each wiring module is a unit of its own,
    apart from the core it shares a folder with."""
    for wiring in WIRING:
        if module == wiring or module.startswith(wiring + "."):
            return wiring
    return module if module in packages else module.rpartition(".")[0]


def room_of(module: str) -> str | None:
    """The room of a module of a domain package (``contracts.purchasing.flows`` → flows); None outside a domain."""
    if layer_of(module) not in DOMAINS or module.count(".") < 2:
        return None
    if module in ROOM_OF:
        return ROOM_OF[module]
    name = module.rpartition(".")[2]
    return name if name in ROOMS else "service"


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}"


@dataclass
class Graph:
    """Project modules (dotted names), the packages among them, and every import between them."""

    modules: set[str]
    packages: set[str]
    sources: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    @classmethod
    def of_sources(cls, sources: Mapping[str, tuple[str, str]], packages: Iterable[str]) -> "Graph":
        """``sources``: module name → (path shown in messages, source text)."""
        graph = cls(set(sources), set(packages), sources)
        for module, (path, text) in sorted(sources.items()):
            found = {
                Import(module, target, path, line)
                for line, name in _imported_names(ast.parse(text, filename=path))
                if (target := graph._resolve(name)) is not None and target != module
            }
            graph.imports.extend(sorted(found, key=lambda edge: (edge.line, edge.imported)))
        return graph

    def _resolve(self, name: str) -> str | None:
        """The project module an imported name refers to: the longest dotted prefix that is a module."""
        while name:
            if name in self.modules:
                return name
            name = name.rpartition(".")[0]
        return None


def _imported_names(tree: ast.Module) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from contracts.agreements import service` imports the module contracts.agreements.service. Relative
            # imports are refused by ruff (TID252); should one slip through, it still counts as its absolute name.
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def house_graph(root: Path = ROOT) -> Graph:
    sources: dict[str, tuple[str, str]] = {}
    packages: set[str] = set()
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            name = ".".join(relative.with_suffix("").parts)
            if name.endswith(".__init__"):
                name = name.removesuffix(".__init__")
                packages.add(name)
            sources[name] = (str(relative), path.read_text(encoding="utf-8"))
    return Graph.of_sources(sources, packages)


# --- the rules -----------------------------------------------------------------------------------------------------

LAYER_RULE = "an import points down the layers: " + " < ".join(LAYERS)
# The one escape hatch of the layer rule: (importer, imported) pairs allowed to point up, each with its reason.
UPWARD_ALLOWED: dict[tuple[str, str], str] = {}


def upward_imports(graph: Graph, allowed: Mapping[tuple[str, str], str] = UPWARD_ALLOWED) -> list[str]:
    wrong = []
    for edge in graph.imports:
        own, target = layer_of(edge.importer), layer_of(edge.imported)
        if own is None or target is None or (edge.importer, edge.imported) in allowed:
            continue
        if LAYERS.index(target) > LAYERS.index(own):
            wrong.append(f"{edge} ({own} may not import {target})")
    return wrong


CYCLE_RULE = "no import circle, between modules or between packages"


def module_cycles(graph: Graph) -> list[list[str]]:
    return _cycles({(edge.importer, edge.imported) for edge in graph.imports}, graph.modules)


def package_cycles(graph: Graph) -> list[list[str]]:
    edges = {
        (package_of(edge.importer, graph.packages), package_of(edge.imported, graph.packages)) for edge in graph.imports
    }
    nodes = {package_of(module, graph.packages) for module in graph.modules}
    return _cycles({(a, b) for a, b in edges if a != b}, nodes)


def _cycles(edges: set[tuple[str, str]], nodes: set[str]) -> list[list[str]]:
    """Every strongly connected component of more than one node (Tarjan's algorithm, iterative)."""
    successors: dict[str, list[str]] = {node: [] for node in nodes}
    for a, b in sorted(edges):
        successors.setdefault(a, []).append(b)
        successors.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(successors):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if position < len(successors[node]):
                work.append((node, position + 1))
                following = successors[node][position]
                if following not in index:
                    work.append((following, 0))
                elif following in on_stack:
                    low[node] = min(low[node], index[following])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


ROOM_RULE = (
    "inside a domain, controller | pages | cli | jobs → flows → service → models; "
    "another package only through service and models"
)
# The one escape hatch of the room rule: (importer, imported) pairs it lets through, each with its reason.
ROOMS_ALLOWED: dict[tuple[str, str], str] = {}


def room_violations(graph: Graph, allowed: Mapping[tuple[str, str], str] = ROOMS_ALLOWED) -> list[str]:
    wrong = []
    for edge in graph.imports:
        target_room = room_of(edge.imported)
        if target_room is None or (edge.importer, edge.imported) in allowed or layer_of(edge.importer) == "wiring":
            continue
        own_room = room_of(edge.importer)
        if package_of(edge.importer, graph.packages) != package_of(edge.imported, graph.packages):
            if target_room not in OPEN_TO_OTHERS:
                wrong.append(f"{edge} (another package's {target_room})")
        elif own_room is not None and (
            ROOMS[target_room] > ROOMS[own_room] or ROOMS[target_room] == ROOMS[own_room] == 3
        ):
            wrong.append(f"{edge} ({own_room} may not use {target_room})")
    return wrong
