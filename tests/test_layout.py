"""The import structure of src/packgraph (docs/architecture.md): no import circle anywhere, and no
import tucked inside a function to hide one.

``make test`` also runs the import-linter contracts of pyproject.toml (``make imports``), which
name the offending import when a lower layer reaches up; these tests say the same of the whole
graph, and of the imports import-linter cannot see.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[1] / "src" / "packgraph"

# Imports inside functions that are there for a reason other than a cycle: the command line
# imports what each command needs when it runs, so `packgraph --help` starts fast.
LAZY_IMPORTS_ALLOWED = {"cli.py"}


def import_cycles(package: str = "packgraph") -> list[list[str]]:
    """Every group of modules that import each other, directly or not (Tarjan), largest first."""
    graph = grimp.build_graph(package, cache_dir=None, exclude_type_checking_imports=True)
    edges = {module: graph.find_modules_directly_imported_by(module) for module in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(groups, key=len, reverse=True)


def function_local_imports() -> list[str]:
    # In a process of its own: CPython 3.11's AST builder keeps one recursion counter per
    # interpreter, so an ast.parse racing another thread's (a traceback being formatted by a
    # library's thread, after tests/live drops connections) fails with "AST constructor
    # recursion depth mismatch".
    result = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(result.stdout)


def _function_local_imports() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if relative in LAZY_IMPORTS_ALLOWED or relative.startswith("migrations/"):
            continue
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("packgraph"):
                    found.append(f"{relative}:{node.lineno} from {node.module}")
                elif isinstance(node, ast.Import) and any(
                    alias.name.startswith("packgraph") for alias in node.names
                ):
                    found.append(f"{relative}:{node.lineno} import packgraph")
    return found


def test_no_import_circle_anywhere_in_packgraph():
    assert import_cycles() == []


def test_no_function_local_import_of_packgraph():
    assert function_local_imports() == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    """The check above can fail: two modules that import each other are reported."""
    package = tmp_path / "circular"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("from circular import two\n")
    (package / "two.py").write_text("from circular import one\n")
    (package / "three.py").write_text("from circular import one\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("circular") == [["circular.one", "circular.two"]]


if __name__ == "__main__":
    print(json.dumps(_function_local_imports()))
