"""The house rule: imports point down only, with no cycle, counting imports inside functions.

L0  config
L1  app core: clock, localtime, database, errors, jobs, extensions, workcal, text_numbers, models, bot
L2  shared handlers: audit, messaging/, alerts, uploads
L3  domain handlers: org, sla, events, proxy, requests (cross-domain edges listed in L3_EDGES)
L4  app.handlers.conversation, app.handlers.inbox, app.handlers.demo
L5  entry points: app.api, app.channels, app.cli, app.web, workers, the app factory

Read from the source with ``ast`` (nothing is imported), like tests/bot/test_purity.py.
See docs/architecture.md.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "workers", "config")
SKIP = ("app.migrations",)

LAYERS: list[tuple[int, tuple[str, ...]]] = [
    # most specific prefixes first
    (2, ("app.handlers.audit", "app.handlers.messaging", "app.handlers.alerts", "app.handlers.uploads")),
    (3, ("app.handlers.org", "app.handlers.sla", "app.handlers.events", "app.handlers.proxy",
         "app.handlers.requests", "app.handlers.calendar", "app.handlers.governance")),
    (4, ("app.handlers.conversation", "app.handlers.inbox", "app.handlers.demo", "app.handlers.intake",
         "app.handlers")),
    (5, ("app.api", "app.channels", "app.cli", "app.web", "workers", "app.gunicorn_conf", "app.gunicorn_worker")),
    (1, ("app.clock", "app.localtime", "app.database", "app.driver_sql", "app.errors", "app.jobs", "app.extensions",
         "app.workcal", "app.text_numbers", "app.models", "app.bot", "app.logging_setup", "app.embedded_redis",
         "app.db_setup", "app.data", "app.holidays", "app.calendar_notice", "app.status")),
    (0, ("config",)),
]
APP_FACTORY = "app"  # app/__init__.py wires every blueprint: it sits with the entry points
# The only edges allowed between two domains of L3 (importer -> imported).
L3_EDGES = {("requests", "sla"), ("proxy", "sla"), ("events", "sla")}
L3_SHARED = {"org"}  # every domain may use the organisation (staff, communities)
LAZY_SHARE_LIMIT = 0.10


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@lru_cache(maxsize=1)
def sources() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = module_name(path)
            if name.startswith(SKIP):
                continue
            found[name] = (path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def layer_of(name: str) -> int | None:
    if name == APP_FACTORY:
        return 5
    for rank, prefixes in LAYERS:
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return rank
    return None


def domain_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[2] if len(parts) > 2 and parts[:2] == ["app", "handlers"] and layer_of(name) == 3 else None


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            named = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
                    (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
            if named:
                for child in node.body:
                    hidden.update(id(n) for n in ast.walk(child))
    return hidden


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _internal(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def imports() -> list[tuple[str, str, list[str], bool, int]]:
    """(importer, imported module, names, inside a function, line) for every internal import."""
    known = sources()
    edges = []
    for importer, (path, tree) in known.items():
        hidden = _type_checking_nodes(tree)
        is_package = path.name == "__init__.py"
        lazy_nodes = {id(n) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                      for n in ast.walk(fn)}
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            lazy = id(node) in lazy_nodes
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if _internal(alias.name):
                        edges.append((importer, alias.name, [], lazy, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(importer, is_package, node)
                if not _internal(target):
                    continue
                names = [a.name for a in node.names]
                submodules = [n for n in names if f"{target}.{n}" in known]
                if submodules:
                    for sub in submodules:
                        edges.append((importer, f"{target}.{sub}", [], lazy, node.lineno))
                rest = [n for n in names if n not in submodules]
                if rest:
                    edges.append((importer, target, rest, lazy, node.lineno))
    return edges


def _where(importer: str, line: int) -> str:
    return f"{sources()[importer][0].relative_to(ROOT)}:{line}"


def test_every_module_has_a_layer():
    assert [m for m in sources() if layer_of(m) is None] == []


def test_handlers_never_import_entry_points():
    entry = ("app.api", "app.channels", "app.cli", "app.web", "workers")
    bad = [f"{_where(a, line)} imports {b}" for a, b, _, _, line in imports()
           if a.startswith("app.handlers") and (b.split(".")[0] == "workers" or b.startswith(entry))]
    assert bad == []


def test_imports_point_down_only():
    bad = []
    for importer, imported, _, _, line in imports():
        if imported not in sources():
            continue
        low, high = layer_of(imported), layer_of(importer)
        if low is None or high is None:
            continue
        if low > high:
            bad.append(f"{_where(importer, line)}: L{high} {importer} imports L{low} {imported}")
        elif low == high == 3:
            mine, theirs = domain_of(importer), domain_of(imported)
            if mine != theirs and theirs not in L3_SHARED and (mine, theirs) not in L3_EDGES:
                bad.append(f"{_where(importer, line)}: domain {mine} imports domain {theirs} ({imported})")
    assert bad == []


def test_no_module_imports_another_modules_private_name():
    bad = [f"{_where(a, line)} imports {b}.{n}" for a, b, names, _, line in imports()
           for n in names if n.startswith("_") and not n.startswith("__") and b != a]
    assert bad == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_counting_imports_inside_functions():
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported, _, _, _ in imports():
        if imported in sources() and imported != importer:
            graph[importer].add(imported)
    assert _strongly_connected(graph) == []


def test_few_imports_inside_functions():
    edges = imports()
    lazy = [f"{_where(a, line)} imports {b}" for a, b, _, is_lazy, line in edges if is_lazy]
    assert len(lazy) <= LAZY_SHARE_LIMIT * len(edges), "\n".join(lazy)


def test_the_layer_checks_see_real_edges():
    # Guards the checks above against passing vacuously (a walker that finds nothing).
    edges = {(a, b) for a, b, _, _, _ in imports()}
    assert ("workers.sla", "app.handlers.sla.alerting") in edges or any(a == "workers.sla" for a, _ in edges)
    assert len(edges) > 200
