"""The import graph of `harvester/` (every import, at module level, in a function or for type
checking only): no circle, nothing inside imports the package face (`harvester/__init__`), and
the core never imports a built-in plugin (`harvester_plugins`): data and imports flow one way."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from .conftest import ROOT

CORE = ROOT / "harvester"


def module_names() -> dict[str, Path]:
    found = {}
    for path in CORE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of `modules` that module `name` imports (a name imported from a package is
    the submodule when there is one, else the package)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            targets = [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imported(name, path, modules) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_core_import_graph_has_no_circle():
    assert cycles(graph()) == []


def test_nothing_inside_imports_the_package_face_or_a_plugin():
    edges = graph()
    for name, path in module_names().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        plugins = [
            n for n in ast.walk(tree)
            if (isinstance(n, ast.ImportFrom) and (n.module or "").startswith("harvester_plugins"))
            or (isinstance(n, ast.Import) and any(a.name.startswith("harvester_plugins")
                                                 for a in n.names))
        ]  # fmt: skip
        assert not plugins, f"{name} imports a built-in plugin"
        if name != "harvester":
            assert "harvester" not in edges[name], f"{name} imports the package face"


def test_the_graph_sees_what_it_should():
    """The checks above can fail: the graph finds a known edge and a made-up circle."""
    edges = graph()
    assert "harvester.errors" in edges["harvester.run"]
    assert "harvester.outcomes" in edges["harvester.run"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
