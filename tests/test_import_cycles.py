"""No import cycles (issue 14): between modules, and between the children of every package with
each subpackage counted as one node (``service.engines`` is one node of ``service``).

Edges are read from the source with ``ast``: ``import a.b`` and ``from a import b`` (``b`` a
module) import ``a.b``; ``from a import name`` imports ``a``. Imports under ``TYPE_CHECKING``
count too: a cycle of types is still a cycle a reader must untangle.
"""

from __future__ import annotations

import ast
import functools
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("service", "dicom_listener", "dicom_results", "fhir_adapter", "hl7_adapter")
Graph = dict[str, set[str]]


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _targets(module: str, path: Path, node: ast.AST, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in modules]
    assert isinstance(node, ast.ImportFrom)
    base = node.module or ""
    if node.level:
        here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        here = here[: len(here) - (node.level - 1)]
        base = ".".join([*here, *([node.module] if node.module else [])])
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in modules:
            out.append(sub)
        elif base in modules:
            out.append(base)
    return out


@functools.cache
def module_graph() -> Graph:
    modules = _modules()
    graph: Graph = defaultdict(set)
    for name, path in modules.items():
        graph[name]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                graph[name].update(t for t in _targets(name, path, node, modules) if t != name)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in list(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def package_graph(graph: Graph, package: str) -> Graph:
    """The children of ``package`` (modules and subpackages, each subpackage one node)."""

    def child(name: str) -> str | None:
        if not name.startswith(package + "."):
            return None
        return f"{package}.{name[len(package) + 1 :].split('.')[0]}"

    collapsed: Graph = defaultdict(set)
    for source, targets in graph.items():
        a = child(source)
        if a is None:
            continue
        collapsed[a]
        collapsed[a].update(b for b in map(child, targets) if b is not None and b != a)
    return collapsed


def _packages(graph: Iterable[str]) -> list[str]:
    return sorted({name for name in graph if (REPO / name.replace(".", "/")).is_dir()})


def test_no_cycle_between_modules() -> None:
    assert cycles(module_graph()) == []


@pytest.mark.parametrize("package", _packages(module_graph()))
def test_no_cycle_between_the_children_of_a_package(package: str) -> None:
    assert cycles(package_graph(module_graph(), package)) == []


def test_the_check_finds_a_cycle() -> None:
    graph: Graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    nested: Graph = {"p.x.one": {"p.y"}, "p.y": {"p.x.two"}, "p.x.two": set()}
    assert cycles(package_graph(nested, "p")) == [["p.x", "p.y"]]


# The composition root: the only core modules that may import an adapter (DESIGN §3).
COMPOSITION_ROOT = frozenset({"service.app", "service.cli"})
ADAPTERS = ("dicom_listener", "dicom_results", "fhir_adapter", "hl7_adapter")


def test_the_core_imports_no_adapter() -> None:
    offenders = sorted(
        f"{source} -> {target}"
        for source, targets in module_graph().items()
        if source.split(".")[0] == "service" and source not in COMPOSITION_ROOT
        for target in targets
        if target.split(".")[0] in ADAPTERS
    )
    assert offenders == []


def test_receiving_dicom_knows_no_wire() -> None:
    """What every image protocol shares (issue 12) imports neither DIMSE nor HTTP libraries."""
    wires = {"pynetdicom", "fastapi", "starlette", "httpx", "uvicorn"}
    found = set()
    for path in (REPO / "service" / "dicom_receive").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    assert found & wires == set()
