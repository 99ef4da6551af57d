"""Structural rules every tool and module keeps, whatever tools are registered.

The tool-schema snapshot lives in tests/snapshots/tools.json; after an intended change run
``DBX_DEVKIT_UPDATE_SNAPSHOT=1 pytest tests/test_structure.py`` and commit the file.
"""

from __future__ import annotations

import ast
import graphlib
import importlib
import json
import os
import pkgutil
import re
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import Tool

from bench import tools_list_size as bench_sizes
from server.app import build_server
from server.registry import reader, spec_of, specs_of
from server.runtime import Runtime
from server.settings import Settings
from server.specs import all_specs

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT = REPO / "tests" / "snapshots" / "tools.json"
# Read at import time: the autouse fixture clears DBX_DEVKIT_* before each test runs.
UPDATE_SNAPSHOT = os.environ.get("DBX_DEVKIT_UPDATE_SNAPSHOT") == "1"
# Compact JSON characters of tools/list, without output schemas: the walking skeleton's
# toolsets within bench_sizes.BUDGET, and every tool on average within AVERAGE_TOOL_BUDGET.
# The walking skeleton's 17 tools (issue 2) keep their budget; later tools in the same
# toolsets count against the average budget instead.
SKELETON_TOOLS = bench_sizes.SKELETON_TOOLS
SKELETON_BUDGET = bench_sizes.BUDGET
AVERAGE_TOOL_BUDGET = 500
NAME = re.compile(r"^[a-z0-9_]+$")

# Heavy packages that must not load before tools/list is answered (cold start).
HEAVY = ("databricks.sdk", "duckdb", "sqlglot", "pyarrow", "mlflow", "pandas", "local_workspace")
# The server modules allowed to import local_workspace (lazily): the ones that start it.
STARTS_LOCAL_WORKSPACE = {"server/runtime.py", "server/doctor.py", "server/cli.py"}


async def list_tools(**settings: Any) -> list[Tool]:
    """tools/list of a server built with ``settings``, through the in-memory MCP client."""
    config = Settings(**settings)
    async with Client(build_server(config, Runtime(config))) as client:
        result = await client.list_tools()
    return list(result.tools)


def compact_json(tools: list[Tool]) -> str:
    """tools/list as compact JSON, the way it costs context."""
    dumped = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return json.dumps(dumped, separators=(",", ":"))


# --- import rules -------------------------------------------------------------------


def python_files(package: str) -> Iterator[Path]:
    yield from sorted((REPO / package).rglob("*.py"))


def import_statements(path: Path) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement of ``path`` with whether it runs at module level (not inside a
    function); TYPE_CHECKING blocks are skipped (they never run)."""
    tree = ast.parse(path.read_text(), filename=str(path))

    def visit(node: ast.AST, top_level: bool) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                yield from (item for n in child.orelse for item in visit_one(n, top_level))
                continue
            yield from visit_one(child, top_level)

    def visit_one(
        node: ast.AST, top_level: bool
    ) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, top_level
        nested = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from visit(node, top_level and not nested)

    yield from visit(tree, True)


def imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(module, line, at_module_level) of every absolute import in ``path``."""
    for node, top_level in import_statements(path):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, top_level
        elif node.module and node.level == 0:
            yield node.module, node.lineno, top_level


def violations(package: str, forbidden: tuple[str, ...], module_level_only: bool) -> list[str]:
    found = []
    for path in python_files(package):
        for module, line, top_level in imports(path):
            if module_level_only and not top_level:
                continue
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return found


def test_tools_core_never_imports_mcp_server_or_local_workspace() -> None:
    assert violations("tools_core", ("mcp", "server", "local_workspace"), False) == []


def test_local_workspace_imports_neither_tools_core_nor_server() -> None:
    assert violations("local_workspace", ("tools_core", "server"), False) == []


def test_server_imports_local_workspace_only_where_it_starts_it_and_lazily() -> None:
    found = violations("server", ("local_workspace",), False)
    elsewhere = [v for v in found if v.split(":")[0] not in STARTS_LOCAL_WORKSPACE]
    assert elsewhere == [], "only runtime/doctor/cli may start the local workspace"
    assert violations("server", ("local_workspace",), True) == [], "import it inside functions"


# Modules whose one job is to adapt a heavy client: they import it at the top, and are
# themselves imported only inside functions (checked below).
HEAVY_ADAPTERS = {
    "tools_core/mlflow_rest.py": "tools_core.mlflow_rest",
    "tools_core/mlflow_uc.py": "tools_core.mlflow_uc",
}


def test_tools_core_and_tool_modules_import_no_heavy_package_at_module_level() -> None:
    heavy = ("databricks.sdk", "duckdb", "sqlglot", "pyarrow", "mlflow", "local_workspace")
    heavy += tuple(HEAVY_ADAPTERS.values())
    found = violations("tools_core", heavy, True) + violations("server", heavy, True)
    found = [v for v in found if v.split(":")[0] not in HEAVY_ADAPTERS]
    assert found == [], "import these inside the functions that need them (cold start)"


# --- tests keep MLflow's process-wide state alone -------------------------------------

# MLflow's fluent setters change the whole process (every later client, every test after).
MLFLOW_PROCESS_SETTERS = ("set_tracking_uri", "set_registry_uri", "set_experiment")


def _names_mlflow_variable(node: ast.AST) -> bool:
    """Whether ``node`` is a string (or an f-string whose start is) ``MLFLOW_...``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.startswith("MLFLOW_")
    if isinstance(node, ast.JoinedStr) and node.values:
        return _names_mlflow_variable(node.values[0])
    return False


def _is_environ(node: ast.AST) -> bool:
    """``os.environ`` (or ``environ`` imported from os): the test process's environment."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id == "environ"


def _mapping_sets_mlflow_variable(node: ast.AST) -> bool:
    """A dict literal or ``dict(...)`` call with an ``MLFLOW_...`` key."""
    if isinstance(node, ast.Dict):
        return any(k is not None and _names_mlflow_variable(k) for k in node.keys)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return any((k.arg or "").startswith("MLFLOW_") for k in node.keywords)
    return False


def _call_offence(call: ast.Call) -> str | None:
    """Why ``call`` changes MLflow's settings of the process it runs in, if it does."""
    func, args = call.func, call.args
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    on_environ = isinstance(func, ast.Attribute) and _is_environ(func.value)
    if name in MLFLOW_PROCESS_SETTERS:
        return f"calls {name} (MLflow's process-wide setting)"
    if name in ("setenv", "putenv") and args and _names_mlflow_variable(args[0]):
        return f"{name} of an MLflow variable in the test process"
    if name == "setitem" and args[1:] and _is_environ(args[0]) and _names_mlflow_variable(args[1]):
        return "setitem of an MLflow variable in os.environ"
    if on_environ and name == "setdefault" and args and _names_mlflow_variable(args[0]):
        return "os.environ.setdefault of an MLflow variable"
    if on_environ and name == "update":
        keywords = any((k.arg or "").startswith("MLFLOW_") for k in call.keywords)
        if keywords or any(_mapping_sets_mlflow_variable(a) for a in args):
            return "os.environ.update with an MLflow variable"
    return None


def process_mlflow_offences(source: str) -> list[tuple[int, str]]:
    """(line, what) of every place ``source`` sets MLflow's process-wide tracking/registry
    URI or experiment, or writes an ``MLFLOW_*`` variable into its own process's environment.

    A subprocess's environment (a dict of its own, ``env |= {...}``, ``env["MLFLOW_X"] = ...``)
    is not the process's; MLflow code inside a string (a script run in a subprocess) is not
    a call. Names only known at run time (``setenv(name, ...)``) cannot be judged here.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            why = _call_offence(node)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            why = _assignment_offence(node)
        else:
            continue
        if why is not None:
            found.append((node.lineno, why))
    return found


def _assignment_offence(node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> str | None:
    """Why an assignment writes an MLflow variable into ``os.environ``, if it does."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        if (
            isinstance(target, ast.Subscript)
            and _is_environ(target.value)
            and _names_mlflow_variable(target.slice)
        ):
            return "os.environ[...] = of an MLflow variable"
    if (
        isinstance(node, ast.AugAssign)
        and _is_environ(node.target)
        and _mapping_sets_mlflow_variable(node.value)
    ):
        return "os.environ |= with an MLflow variable"
    return None


def test_the_mlflow_check_tells_the_test_process_from_a_subprocess() -> None:
    offending = [
        "import mlflow\nmlflow.set_tracking_uri('http://x')",
        "mlflow.set_registry_uri(url)",
        "from mlflow import set_experiment\nset_experiment('/Shared/x')",
        "monkeypatch.setenv('MLFLOW_TRACKING_TOKEN', token)",
        "with pytest.MonkeyPatch.context() as patch:\n    patch.setenv('MLFLOW_TRACKING_URI', u)",
        "monkeypatch.setenv(f'MLFLOW_{name}', value)",
        "monkeypatch.setitem(os.environ, 'MLFLOW_TRACKING_URI', u)",
        "os.environ['MLFLOW_TRACKING_URI'] = url",
        "environ['MLFLOW_TRACKING_URI']: str = url",
        "os.environ.update({'MLFLOW_TRACKING_TOKEN': token})",
        "os.environ.update(MLFLOW_TRACKING_TOKEN=token)",
        "os.environ.update(dict(MLFLOW_TRACKING_TOKEN=token))",
        "os.environ.setdefault('MLFLOW_HTTP_REQUEST_TIMEOUT', '5')",
        "os.environ |= {'MLFLOW_TRACKING_URI': url}",
        "os.putenv('MLFLOW_TRACKING_URI', url)",
    ]
    for source in offending:
        assert len(process_mlflow_offences(source)) == 1, source
    allowed = [
        "env = dict(os.environ)\nenv |= {'MLFLOW_TRACKING_URI': url}",
        "env['MLFLOW_TRACKING_TOKEN'] = token",
        "subprocess.run(cmd, env={**os.environ, 'MLFLOW_TRACKING_URI': url})",
        "monkeypatch.delenv('MLFLOW_TRACKING_URI')",
        "monkeypatch.setenv('HOME', home)",
        "os.environ['HOME'] = home",
        "SCRIPT = 'import mlflow; mlflow.set_experiment(\"/Shared/x\")'",
        "client.set_experiment_tag(experiment_id, 'team', 'fraud')",
        "mlflow_script(local_ws, SCRIPT, '/Shared/x')",
    ]
    for source in allowed:
        assert process_mlflow_offences(source) == [], source


def test_no_test_sets_mlflow_state_in_the_test_process() -> None:
    """Tests run MLflow's fluent API in subprocesses (tests.conftest.mlflow_script) and use
    clients with their own token (mlflow_client_of); never the test process's settings."""
    offences = [
        f"{path.relative_to(REPO)}:{line}: {why}"
        for path in python_files("tests")
        for line, why in process_mlflow_offences(path.read_text())
    ]
    assert offences == [], "MLflow state set in the test process:\n" + "\n".join(offences)


def test_starting_the_server_loads_no_heavy_package() -> None:
    """What `dbx-devkit serve` imports before answering tools/list, measured for real."""
    code = (
        "import sys\n"
        "import server.cli, server.transports, server.app, server.registry\n"
        "server.specs.all_specs()\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, check=True
    ).stdout.split()
    loaded = sorted(m for m in out if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert loaded == [], f"loaded at start-up (import them lazily): {loaded[:10]}"


# --- the project's import graph ---------------------------------------------------------

PROJECT_PACKAGES = ("tools_core", "server", "local_workspace")
# Modules (and packages, with everything under them) whose imports must form no cycle, not
# even through lazy imports inside functions.
ACYCLIC_SCOPES = ("tools_core", "local_workspace", "server")


def module_of(path: Path, root: Path = REPO) -> str:
    """The dotted module name of a file under ``root`` (a package is its ``__init__``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(
    root: Path = REPO, packages: tuple[str, ...] = PROJECT_PACKAGES
) -> dict[str, dict[str, int]]:
    """Module -> {project module it imports: line}, from every import statement that runs
    (module level or inside functions; relative imports resolved; TYPE_CHECKING skipped).
    ``from a.b import c`` is an edge to ``a.b.c`` when that is a module, else to ``a.b``."""
    files = {
        module_of(p, root): p
        for package in packages
        for p in sorted((root / package).rglob("*.py"))
    }
    graph: dict[str, dict[str, int]] = {}
    for name, path in files.items():
        edges = graph.setdefault(name, {})
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node, _ in import_statements(path):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parent = here[: len(here) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names
                ]
            for target in targets:
                if target in files and target != name:
                    edges.setdefault(target, node.lineno)
    return graph


def in_scope(module: str, scopes: tuple[str, ...] = ACYCLIC_SCOPES) -> bool:
    return any(module == s or module.startswith(s + ".") for s in scopes)


def import_cycles(graph: dict[str, dict[str, int]], scopes: tuple[str, ...]) -> list[list[str]]:
    """One shortest cycle (``[a, b, a]``) through each module in ``scopes`` that lies on
    one, each cycle once; a cycle counts if any of its modules is in scope."""
    cycles: dict[frozenset[str], list[str]] = {}
    for start in sorted(m for m in graph if in_scope(m, scopes)):
        came_from: dict[str, str] = {}
        queue = deque([start])
        while queue and start not in came_from:
            node = queue.popleft()
            for target in graph[node]:
                if target not in came_from:
                    came_from[target] = node
                    queue.append(target)
        if start in came_from:
            path = [start]
            while len(path) == 1 or path[-1] != start:
                path.append(came_from[path[-1]])
            cycle = path[::-1]
            cycles.setdefault(frozenset(cycle), cycle)
    return list(cycles.values())


def import_graph_report(scopes: tuple[str, ...] = ACYCLIC_SCOPES) -> str:
    """The import edges out of the scoped modules (``a -> b  (line)``), one per line, then
    the cycles through them (or that there are none): what ``python -m
    tests.test_structure`` prints."""
    graph = import_graph()
    lines = [
        f"{source} -> {target}  (line {line})"
        for source in sorted(graph)
        if in_scope(source, scopes)
        for target, line in sorted(graph[source].items())
    ]
    # graphlib orders the scoped modules (leaves first) when they form no cycle.
    scoped = {m: [t for t in graph[m] if in_scope(t, scopes)] for m in graph if in_scope(m, scopes)}
    try:
        order = list(graphlib.TopologicalSorter(scoped).static_order())
    except graphlib.CycleError:
        order = []
    cycles = import_cycles(graph, scopes)
    lines.append(f"{len(lines)} edges out of {len(scoped)} modules in {', '.join(scopes)}")
    if order:
        lines.append(f"import order (leaves first): {', '.join(order)}")
    lines += [f"cycle: {' -> '.join(c)}" for c in cycles] or ["no import cycle"]
    return "\n".join(lines)


def test_the_import_graph_has_no_cycle_in_the_acyclic_scopes() -> None:
    cycles = import_cycles(import_graph(), ACYCLIC_SCOPES)
    assert cycles == [], "modules import each other in a cycle (break it: move the shared "
    "part into its own module):\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_import_graph_sees_lazy_and_relative_imports_and_prints_a_cycle(
    tmp_path: Path,
) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("from . import b\n")
    (package / "a.py").write_text("import pkg.sub\n")
    (package / "sub" / "b.py").write_text("from ..c import value\n")
    (package / "c.py").write_text("def value():\n    from pkg import a\n    return a\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
    )
    graph = import_graph(tmp_path, ("pkg",))
    assert graph["pkg.sub"] == {"pkg.sub.b": 1}  # relative, from a package
    assert graph["pkg.sub.b"] == {"pkg.c": 1}  # relative, two levels up
    assert graph["pkg.c"] == {"pkg.a": 2}  # lazy, inside a function
    assert graph["pkg.d"] == {}  # TYPE_CHECKING never runs
    assert import_cycles(graph, ("pkg.c",)) == [["pkg.c", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg.c"]]
    assert import_cycles(graph, ("pkg.d",)) == []
    # The project's own lazy imports are edges too.
    project = import_graph()
    assert "server.project_cli" in project["server.cli"]
    assert "local_workspace.pipelines.cdc" in project["local_workspace.pipelines.runner"]


# --- tools --------------------------------------------------------------------------


def test_server_keeps_no_process_wide_state() -> None:
    """Each server hands its runtime to its tools through the MCP context, never a global:
    two servers in one process must not see each other's backend."""
    found = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in python_files("server")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Global)
    ]
    assert found == []


def test_every_declared_tool_is_in_the_one_list() -> None:
    """Marking a function @reader/@writer registers nothing: a tool missing from
    server.tools.TOOLS would silently not be offered."""
    import server.tools as package

    declared = set()
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"server.tools.{info.name}")
        declared |= {
            fn
            for fn in vars(module).values()
            if spec_of(fn) is not None and fn.__module__ == module.__name__
        }
    assert declared, "no tool declared: this test would prove nothing"
    assert declared == set(package.TOOLS)
    assert len(package.TOOLS) == len(all_specs())


def test_two_tools_of_one_name_are_refused() -> None:
    first = all_specs()["sql_query"].fn

    @reader("sql")
    def sql_query() -> None:
        """A second tool of an existing name."""

    with pytest.raises(ValueError, match="duplicate tool name sql_query"):
        specs_of([first, sql_query])
    with pytest.raises(ValueError, match="not declared"):
        specs_of([first, compact_json])


async def test_every_tool_is_annotated_on_purpose() -> None:
    specs = all_specs()
    for tool in await list_tools():
        hints = tool.annotations
        assert hints is not None, f"{tool.name} has no annotations"
        assert hints.read_only_hint is not None, f"{tool.name}: readOnlyHint unset"
        assert hints.read_only_hint == specs[tool.name].read_only, tool.name
        if not hints.read_only_hint:
            assert hints.destructive_hint is not None, f"{tool.name}: destructiveHint unset"
            assert hints.idempotent_hint is not None, f"{tool.name}: idempotentHint unset"


async def test_read_only_mode_lists_no_writer() -> None:
    everything = await list_tools()
    writers = {t.name for t in everything if t.annotations and not t.annotations.read_only_hint}
    assert writers, "no writer registered: this test would prove nothing"
    read_only = await list_tools(read_only=True)
    assert read_only, "read-only mode lists no tool at all"
    assert all(t.annotations and t.annotations.read_only_hint for t in read_only)
    assert {t.name for t in read_only} == {t.name for t in everything} - writers


async def test_toolset_filter_lists_only_that_toolset() -> None:
    specs = all_specs()
    for toolset in sorted({spec.toolset for spec in specs.values()}):
        names = {t.name for t in await list_tools(toolsets=(toolset,))}
        assert names == {n for n, s in specs.items() if s.toolset == toolset}, toolset
    sql_only = await list_tools(toolsets=("sql",))
    assert all(specs[t.name].toolset == "sql" for t in sql_only)


async def test_read_only_wins_over_the_toolset_filter() -> None:
    specs = all_specs()
    for toolset in sorted({spec.toolset for spec in specs.values()}):
        listed = await list_tools(toolsets=(toolset,), read_only=True)
        expected = {n for n, s in specs.items() if s.toolset == toolset and s.read_only}
        assert {t.name for t in listed} == expected, toolset


async def test_every_tool_is_named_area_verb_and_described() -> None:
    specs = all_specs()
    for tool in await list_tools():
        assert NAME.match(tool.name), f"{tool.name}: use [a-z0-9_] only"
        # A toolset's singular also prefixes its tools (toolset bundles: bundle_validate).
        prefixes = (specs[tool.name].toolset + "_", specs[tool.name].toolset.rstrip("s") + "_")
        # A long toolset may use its initials (vector_search: vs_query).
        prefixes += ("".join(w[0] for w in specs[tool.name].toolset.split("_")) + "_",)
        assert tool.name.startswith(prefixes), (
            f"{tool.name}: name must start with its toolset '{specs[tool.name].toolset}_'"
        )
        assert tool.description and tool.description.strip(), f"{tool.name}: no docstring"


async def test_every_parameter_has_a_description() -> None:
    missing = []
    for tool in await list_tools():
        for name, schema in tool.input_schema.get("properties", {}).items():
            if not str(schema.get("description", "")).strip():
                missing.append(f"{tool.name}.{name}")
    assert missing == [], "describe with Annotated[T, Field(description='2-6 words')]"


def biggest(tools: list[Tool]) -> str:
    top = sorted(tools, key=lambda t: -len(compact_json([t])))[:5]
    return ", ".join(f"{t.name}={len(compact_json([t]))}" for t in top)


async def test_the_skeleton_tools_list_stays_within_its_budget() -> None:
    tools = [tool for tool in await list_tools() if tool.name in SKELETON_TOOLS]
    assert len(tools) == len(SKELETON_TOOLS)
    size = len(compact_json(tools))
    assert size <= SKELETON_BUDGET, f"{size} chars (budget {SKELETON_BUDGET}): {biggest(tools)}"


async def test_the_whole_tools_list_stays_within_its_average_budget() -> None:
    tools = await list_tools()
    average = len(compact_json(tools)) / len(tools)
    assert average <= AVERAGE_TOOL_BUDGET, f"{average:.0f} chars a tool: {biggest(tools)}"


# --- snapshot -----------------------------------------------------------------------


def snapshot_of(tools: list[Tool]) -> list[dict[str, Any]]:
    """What reviewers should see change: name, description, input schema, annotations."""
    rows = []
    for tool in sorted(tools, key=lambda t: t.name):
        dumped = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
        rows.append({key: dumped.get(key) for key in ("name", "description", "inputSchema")})
        rows[-1]["annotations"] = dumped.get("annotations")
    return rows


async def test_tool_schemas_match_the_committed_snapshot() -> None:
    current = snapshot_of(await list_tools())
    if UPDATE_SNAPSHOT:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        return
    assert SNAPSHOT.exists(), (
        "no snapshot: run DBX_DEVKIT_UPDATE_SNAPSHOT=1 pytest tests/test_structure.py"
    )
    committed = {row["name"]: row for row in json.loads(SNAPSHOT.read_text())}
    now = {row["name"]: row for row in current}
    differences = [f"new tool {n}" for n in sorted(now.keys() - committed.keys())]
    differences += [f"removed tool {n}" for n in sorted(committed.keys() - now.keys())]
    for name in sorted(now.keys() & committed.keys()):
        changed = [k for k in now[name] if now[name][k] != committed[name].get(k)]
        if changed:
            differences.append(f"{name}: {', '.join(changed)} changed")
    assert differences == [], (
        "tool schemas differ from tests/snapshots/tools.json: "
        + "; ".join(differences)
        + ". If intended, run DBX_DEVKIT_UPDATE_SNAPSHOT=1 pytest tests/test_structure.py "
        "and commit the snapshot."
    )


README = REPO / "README.md"
TABLE_BEGIN, TABLE_END = "<!-- tools:begin -->", "<!-- tools:end -->"


def test_readme_tools_table_matches_the_registry() -> None:
    from server.cli import tools_markdown

    readme = README.read_text()
    assert TABLE_BEGIN in readme and TABLE_END in readme, "README lost its tools table markers"
    head, rest = readme.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    table = tools_markdown(list(all_specs().values()))
    expected = f"{head}{TABLE_BEGIN}\n{table}\n{TABLE_END}{tail}"
    if UPDATE_SNAPSHOT:
        README.write_text(expected)
        return
    assert readme == expected, (
        "README's tools table is out of date: run "
        "DBX_DEVKIT_UPDATE_SNAPSHOT=1 pytest tests/test_structure.py and commit README.md."
    )


if __name__ == "__main__":
    # uv run python -m tests.test_structure: the import graph of the acyclic scopes.
    print(import_graph_report())
