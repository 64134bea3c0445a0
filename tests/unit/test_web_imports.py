"""`web/` reads top down: no module imports one that imports it back, not even from inside a
function (the usual way a circle is hidden). Imports only for type checkers do not count."""

from __future__ import annotations

import ast
from pathlib import Path

import meetguard.web

WEB = Path(meetguard.web.__file__).parent


def web_imports(path: Path) -> set[str]:
    """The `web/` modules `path` imports, wherever in the module (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(), str(path))
    hidden = {id(node) for stmt in ast.walk(tree) if isinstance(stmt, ast.If)
              and ast.unparse(stmt.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
              for inner in stmt.body for node in ast.walk(inner)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or id(node) in hidden:
            continue
        if node.level == 1 and node.module:  # from .x import ...
            found.add(node.module.split(".")[0])
        elif node.level == 1:  # from . import x, y
            found.update(alias.name for alias in node.names)
        elif node.level == 0 and (node.module or "").startswith("meetguard.web."):
            found.add(node.module.split(".")[2])
    return found


def test_no_module_of_web_imports_itself_back() -> None:
    graph = {p.stem: web_imports(p) for p in WEB.glob("*.py")}
    assert len(graph) > 20 and "keys" in graph["app"] and "service" in graph["api"]
    circles: list[list[str]] = []

    def walk(module: str, path: list[str]) -> None:
        for imported in sorted(graph.get(module, ())):
            if imported in path:
                circles.append([*path[path.index(imported):], imported])
            elif imported not in done:
                walk(imported, [*path, imported])
        done.add(module)

    done: set[str] = set()
    for module in sorted(graph):
        walk(module, [module])
    assert circles == []


def test_the_keys_module_imports_nothing_of_web_at_run_time() -> None:
    assert web_imports(WEB / "keys.py") == set()
