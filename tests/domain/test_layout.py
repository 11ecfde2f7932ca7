"""The domain package imports one way (issue 13): no module reaches back up to a module that
imports it, whether at the top or from inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

import packgraph.domain

DOMAIN = "packgraph.domain"


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted for the message."""
    edges = {
        module: sorted(graph.find_modules_directly_imported_by(module) & modules)
        for module in sorted(modules)
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for module in edges:
        if module not in index:
            visit(module)
    return sorted(components)


def test_no_import_cycle_among_domain_modules():
    # grimp counts imports inside functions too: a cycle cannot hide in a function body
    graph = grimp.build_graph("packgraph", cache_dir=None)
    domain = {m for m in graph.modules if m == DOMAIN or m.startswith(DOMAIN + ".")}
    assert _cycles(graph, domain) == []


def test_domain_modules_import_packgraph_only_at_the_top():
    local_imports = []
    root = Path(packgraph.domain.__file__).parent
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                if any(name.split(".")[0] == "packgraph" for name in names):
                    local_imports.append(f"{path.relative_to(root)}:{node.lineno}")
    assert local_imports == []
