"""The domain's modules import each other without a circle, and every one of them imports.

The graph is read from the source (``ast``), counting imports inside functions too: a lazy
import hides a circle from Python but not from a reader.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = "medex"
# where the package is imported from (site/py here, the app wheel inside Pyodide)
SITE_PY = Path(importlib.import_module(PACKAGE).__file__).resolve().parents[1]


def module_names(package: str = PACKAGE) -> list[str]:
    root = SITE_PY / package
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(SITE_PY).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _source(module: str) -> Path:
    base = SITE_PY.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def imports_of(module: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``module`` imports (at any depth of its code)."""
    path = _source(module)
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            # ``from . import x`` / ``from .pkg import mod`` name modules; else the module itself
            targets = [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                out.add(target)
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path ``[a, b, …, a]``, or None."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = GREY
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == GREY:
                return [*stack[stack.index(nxt) :], nxt]
            if colour[nxt] == WHITE and (found := visit(nxt)):
                return found
        stack.pop()
        colour[node] = BLACK
        return None

    for node in sorted(graph):
        if colour[node] == WHITE and (found := visit(node)):
            return found
    return None


def import_graph(package: str = PACKAGE) -> dict[str, set[str]]:
    names = module_names(package)
    known = set(names)
    # a package's __init__ is imported with any of its modules: not an edge of its own
    return {
        name: imports_of(name, known) - {p for p in known if name.startswith(p + ".")}
        for name in names
    }


def test_the_domain_has_no_import_circle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "Import circle: " + " → ".join(cycle or [])


@pytest.mark.parametrize("module", module_names())
def test_every_domain_module_imports(module):
    importlib.import_module(module)


def test_the_detector_finds_a_circle_and_a_clean_graph():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_lazy_relative_imports():
    graph = import_graph()
    assert "medex.services.practice" in graph["medex.services.caseload"]
    assert "medex.records" in graph["medex.services.practice"]
