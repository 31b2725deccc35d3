"""One direction through the code: the import graph of ``app/`` has no cycle, and only views import views.

The graph is read from the source (ast), so imports inside functions count too: a cycle hidden in a function
body still means infrastructure knows about a feature. The application factory (``app/__init__.py``) is the
composition root: it registers every blueprint, so it is the one non-view module allowed to import views.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
COMPOSITION_ROOT = "app"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in APP.rglob("*.py")}


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def import_graph() -> dict[str, set[str]]:
    """Module -> the app modules it imports (anywhere in its body)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                while target and target not in modules:  # "import app.x.y" style: the longest known module
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith("app"):
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), as sorted lists."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def is_view(module: str) -> bool:
    return module.rpartition(".")[2] == "views"


def test_no_import_cycle_in_app():
    graph = import_graph()
    # The reader sees imports inside functions and relative ones (else an empty graph would pass).
    assert "app.assessments.views" in graph["app"]  # imported inside create_app
    assert "app.db" in graph["app.assessments.views"]  # from ..db import db
    assert "app.assessments.services" in graph["app.assessments.views"]  # from . import services
    assert _cycles(graph) == []


def test_only_views_import_views():
    offenders = sorted(f"{m} imports {t}" for m, targets in import_graph().items() for t in targets
                       if is_view(t) and not is_view(m) and m != COMPOSITION_ROOT)
    assert offenders == []


INFRASTRUCTURE = ("app.security", "app.errors", "app.auth", "app.db", "app.extensions", "app.access", "app.audit",
                  "app.templating", "app.models", "app.config", "app.passwords", "app.password_policy")


def test_infrastructure_knows_no_questionnaire():
    """Keeping typed answers after an expiry is the assessments package's business, registered on its blueprint."""
    graph = import_graph()
    offenders = sorted(f"{m} imports {t}" for m in INFRASTRUCTURE for t in graph[m] if t.startswith("app.assessments"))
    assert offenders == []
