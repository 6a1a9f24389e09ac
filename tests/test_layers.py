"""The house rules, checked over the source (an AST pass over ``bot/``): who may import what.

The README's Layout section states them; each test names the rule it keeps. ``bot/fakeslack``
(the local Slack) and ``bot/playground`` (the dev playground) are tools beside the bot, not layers
of it: they are exempt, except from the cycle and size rules.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
TOOLS = ("fakeslack", "playground")
COMPOSITION_ROOT = "runtime"
SQL = re.compile(
    r"^\s*(select\s.+\sfrom\s|insert\s+(or\s+\w+\s+)?into\s|update\s+\w+\s+set\s|delete\s+from\s|"
    r"create\s+(unique\s+)?(table|index)\s|alter\s+table\s|pragma\s)",
    re.IGNORECASE | re.DOTALL,
)
CLOCK_READS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time"),
               ("time", "monotonic"), ("time", "perf_counter")}  # fmt: skip
WEB_API_CALL = re.compile(r"\bclient\.[a-z]+_[A-Za-z_]+\(")
MAX_LINES = 400


@dataclass(frozen=True)
class Module:
    path: Path
    name: str  # bot.usecases.declare
    tree: ast.Module

    @property
    def parts(self) -> tuple[str, ...]:
        return self.name.split(".")

    @property
    def package(self) -> str:
        """bot.usecases for bot.usecases.declare; bot.config for a top-level module."""
        return ".".join(self.parts[:2])

    def imports(self) -> Iterator[str]:
        """Every module this one imports, at any depth (function-level imports included)."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)

    def strings(self) -> Iterator[str]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield node.value
            elif isinstance(node, ast.JoinedStr):
                yield "".join(
                    v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
                )


def modules() -> list[Module]:
    found = []
    for path in sorted(BOT.rglob("*.py")):
        rel = path.relative_to(BOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append(Module(path, ".".join(parts), ast.parse(path.read_text(), str(path))))
    return found


MODULES = modules()


def layer(*names: str) -> list[Module]:
    return [m for m in MODULES if len(m.parts) > 1 and m.parts[1] in names]


def outside(*names: str) -> list[Module]:
    return [m for m in MODULES if len(m.parts) < 2 or m.parts[1] not in (*names, *TOOLS)]


def importers(mods: list[Module], *prefixes: str) -> list[str]:
    return sorted(
        f"{m.name} imports {imp}"
        for m in mods
        for imp in set(m.imports())
        if any(imp == p or imp.startswith(p + ".") for p in prefixes)
    )


def test_only_the_slack_edge_and_the_composition_root_import_slack() -> None:
    assert importers(outside("slack", COMPOSITION_ROOT), "slack_sdk", "slack_bolt") == []


def test_only_the_integrations_and_the_slack_gateway_make_http_requests() -> None:
    """PagerDuty and Statuspage are reached through bot/integrations alone (from the outbox)."""
    mods = [m for m in outside("integrations", "fakeservices") if m.name != "bot.slack.web_api"]
    assert importers(mods, "urllib.request", "http.client", "requests", "httpx") == []


def test_only_the_store_imports_sqlite() -> None:
    assert importers(outside("store"), "sqlite_utils", "sqlite3") == []


def test_only_the_store_holds_sql() -> None:
    found = [f"{m.name}: {s[:60]!r}" for m in outside("store") for s in m.strings() if SQL.match(s)]
    assert found == []


def test_only_the_scheduler_adapter_imports_apscheduler() -> None:
    mods = [m for m in MODULES if m.name != "bot.runtime.scheduler"]
    assert importers(mods, "apscheduler") == []


def test_the_domain_imports_nothing_of_the_bot_outside_itself() -> None:
    found = [
        f"{m.name} imports {imp}"
        for m in layer("domain")
        for imp in m.imports()
        if imp.startswith("bot.") and not imp.startswith("bot.domain")
    ]
    assert found == []


def test_the_domain_never_reads_the_clock() -> None:
    found = []
    for m in layer("domain"):
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
                if (name, node.func.attr) in CLOCK_READS:
                    found.append(f"{m.name}:{node.lineno} {name}.{node.func.attr}()")
    assert found == []


def test_the_use_cases_see_only_the_domain_and_their_ports() -> None:
    """They reach Slack, storage, the clock and the scheduler only through bot.usecases.ports."""
    found = [
        f"{m.name} imports {imp}"
        for m in layer("usecases")
        for imp in m.imports()
        if imp.startswith("bot") and not imp.startswith(("bot.domain", "bot.usecases"))
    ]
    outside_world = ("slack_sdk", "slack_bolt", "sqlite_utils", "sqlite3", "apscheduler", "jinja2")
    assert found + importers(layer("usecases"), *outside_world) == []


def test_listeners_touch_no_store() -> None:
    listeners = [m for m in layer("slack") if "listeners" in m.parts]
    assert listeners, "no listeners found"
    touching = [
        f"{m.name}:{node.lineno} .{node.attr}"
        for m in listeners
        for node in ast.walk(m.tree)
        if isinstance(node, ast.Attribute) and node.attr in ("stores", "store", "database")
    ]
    assert importers(listeners, "bot.store") + touching == []


def test_the_slack_edge_never_imports_the_store_or_the_composition_root() -> None:
    assert importers(layer("slack"), "bot.store", "bot.runtime") == []


def test_every_web_api_call_goes_through_the_gateway() -> None:
    found = [
        f"{m.name}: {call}"
        for m in outside(COMPOSITION_ROOT)
        if m.name != "bot.slack.web_api"
        for call in WEB_API_CALL.findall(m.path.read_text())
    ]
    assert found == []


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for m in MODULES:
        if len(m.parts) < 2:
            continue
        for imp in m.imports():
            parts = imp.split(".")
            if parts[0] == "bot" and len(parts) > 1 and ".".join(parts[:2]) != m.package:
                target = ".".join(parts[:2])
                if any(t.name == target for t in MODULES):
                    graph.setdefault(m.package, set()).add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                found.append([*path[path.index(nxt) :], nxt])
            elif len(path) < len(graph) + 1:
                visit(nxt, [*path, nxt])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_no_import_cycles_between_packages() -> None:
    assert cycles(package_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}})


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_rooms_are_small(module: Module) -> None:
    lines = len(module.path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module.name} has {lines} lines; split it by concept"


def test_no_issue_numbers_in_the_code() -> None:
    pattern = re.compile(r"\bissue[ -]?#?\d+|§\s*\d", re.IGNORECASE)
    found = [f"{p}: {hit}" for p in BOT.rglob("*.py") for hit in pattern.findall(p.read_text())]
    assert found == []


def test_the_readme_layout_matches_the_tree() -> None:
    """Every module and package under bot/ is listed in the README's Layout tree, and nothing else
    (the tools' insides are listed as a whole)."""
    readme = (BOT.parent / "README.md").read_text()
    layout = readme[readme.index("## Layout") :]
    block = layout[layout.index("```\nbot/") + 4 : layout.index("\n```", layout.index("```\nbot/") + 4)]
    listed, stack = set(), []
    for line in block.splitlines():
        name = line.strip().split()[0] if line.strip() else ""
        depth = (len(line) - len(line.lstrip())) // 2
        if not name or (depth == 0 and not name.startswith("bot/")):
            continue
        stack = [*stack[:depth], name.rstrip("/")]
        listed.add("/".join(stack))
    actual = {"bot"}
    for path in BOT.rglob("*"):
        rel = path.relative_to(BOT.parent)
        if (
            "__pycache__" in rel.parts
            or (path.is_file() and path.suffix != ".py")
            or path.name == "__init__.py"
        ):
            continue
        if len(rel.parts) > 2 and rel.parts[1] in TOOLS:
            continue
        if path.is_dir() and not (path / "__init__.py").exists():
            continue
        actual.add(str(rel))
    assert listed == actual
