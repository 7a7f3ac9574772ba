"""No import circles: not between modules, not between contexts (ARCHITECTURE.md's floors)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src"
PACKAGE = "intraday_rl"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in (SRC / PACKAGE).rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _imports(name: str, path: Path, known: Iterable[str]) -> set[str]:
    # Every project module a file imports, at any depth (lazy imports and TYPE_CHECKING too).
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        found |= {target for target in targets if target in known and target != name}
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's strongly connected components, iterative; components of 2+ nodes are circles.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for root in graph:
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
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles


@pytest.fixture(scope="module")
def module_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def test_no_module_imports_itself_through_others(module_graph):
    assert _cycles(module_graph) == []


def test_no_context_imports_itself_through_others(module_graph):
    def context(name: str) -> str:
        return ".".join(name.split(".")[:2])

    graph: dict[str, set[str]] = {}
    for name, targets in module_graph.items():
        edges = graph.setdefault(context(name), set())
        edges |= {context(target) for target in targets} - {context(name)}
        for target in targets:
            graph.setdefault(context(target), set())
    assert _cycles(graph) == []


def test_the_checker_finds_a_planted_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


# What each context may import (ARCHITECTURE.md's table); top-level apps (cli, demo, bench ...)
# may import anything. evaluation/ is the lower layer training may use; walk_forward (and the
# reports and backtests to come) the upper one, which may use training.
ALLOWED: dict[str, set[str]] = {
    "shared": set(),
    "data": {"shared"},
    "features": {"shared"},
    "market": {"shared"},
    "risk": {"shared"},
    "env": {"shared", "data", "features", "market"},
    "bundle": {"shared", "features"},
    "evaluation": {"shared", "data", "features", "market", "env"},
    "training": {"shared", "data", "features", "market", "env", "risk", "bundle", "evaluation"},
    "walk_forward": {"shared", "data", "features", "market", "env", "evaluation", "training"},
    "execution": {"shared", "features", "market", "risk", "bundle"},
    "agents": {"training"},
}


def test_each_context_imports_only_the_floors_below_it(module_graph):
    breaches = []
    for name, targets in module_graph.items():
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in ALLOWED:
            continue
        for target in targets:
            floor = target.split(".")[1] if "." in target else ""
            if floor != parts[1] and floor not in ALLOWED[parts[1]]:
                breaches.append(f"{name} imports {target}")
    assert breaches == []
