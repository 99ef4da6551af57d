"""Fuzz every tool with bounded adversarial arguments: crashes, and the largest answers.

A fresh, seeded local workspace on 127.0.0.1 (its own temporary data directory) and an
in-memory ``mcp.Client`` of the full server (every toolset, read-write, the defaults of
``dbx-devkit serve``). For each tool, arguments are generated from its input schema: a
plausible value for each required argument, then one argument at a time replaced by an
adversarial one (a 1 MB string, ``../..``, ``%2e%2e/``, NUL and control characters,
unicode, 2^63, -1 and 0, wrong types, empty strings, SQL fragments, huge lists and
objects), plus calls with nothing and with unknown arguments. Writers are called with
``confirm=false`` only; waits are given their shortest timeout. Seeded, bounded in count
(``--per-tool``) and time (``--deadline`` per call, ``--budget`` overall). Local files a
tool writes land in a temporary folder (the working directory and HOME of the run).

    python bench/fuzz_tools.py [--seed 11] [--per-tool 24] [--tools sql_,uc_] [--check]

Prints one line per figure: calls tried; crashes (``INTERNAL_ERROR`` results, JSON-RPC
errors, exceptions in the client, an unhandled exception (500) in the workspace, a call
past its deadline); the largest result and the largest error, in characters; errors over
the 2,000-character bound. Then one line per distinct crash. Report only, unless
``--check``: then it exits 1 on any crash or oversized error (the CI smoke run).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp.types import Tool

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from tools_core.backend import Backend, local_backend

ERROR_MAX_CHARS = 2000
MB = 1_000_000
INT64 = 2**63

# Adversarial values by kind. Bounded: the largest is 1 MB. No absolute host path: a tool
# that writes local files must stay inside the run's temporary folder.
STRINGS: list[str] = [
    "x" * MB,
    "y" * 70_000,
    "n" * 256,
    "",
    " ",
    "..",
    "../../x",
    "../../../api/2.0/sql/warehouses",
    "%2e%2e/%2e%2e/x",
    "a/../../b",
    "?x=1#frag",
    "a%00b",
    "\x00",
    "a\x00b",
    "\r\n\t\x1b[31mred\x7f",
    "\u202egnp.exe",
    "𝕏🙂 ünïcødé 中文",
    "'; DROP TABLE samples.tpch.orders; --",
    "1 OR 1=1",
    "SELECT 1; SELECT 2",
    "SELECT repeat('x', 1000000) AS big",
    "`",
    '"',
    "${var.x}",
    "{{7*7}}",
    "$(id)",
    "9223372036854775808",
    "-1",
    "NaN",
]
INTEGERS: list[Any] = [INT64, INT64 - 1, -INT64 - 1, -1, 0, 10**30, 1.5]
WRONG_TYPES: list[Any] = [None, [], {}, True, "x", INT64, [[[[["deep"]]]]], 0.5]


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


LISTS: list[Any] = [
    ["../../x"],
    ["x" * MB],
    ["a"] * 10_000,
    [None],
    [INT64, -1],
    _deep(200),
]
OBJECTS: list[Any] = [
    {"../../x": 1},
    {"a": "x" * MB},
    {str(i): i for i in range(10_000)},
    {"k": _deep(200)},
    {"\x00": None},
]


def _kind(schema: dict[str, Any]) -> dict[str, Any]:
    """The non-null branch of an optional schema (``anyOf: [X, null]``)."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return {**schema, **option}
    return schema


def _is_wait(name: str) -> bool:
    return "timeout" in name or name.endswith("_wait_s")


def plausible(name: str, schema: dict[str, Any]) -> Any:
    """A value that fits ``schema``, so that a call gets past the arguments not under test."""
    schema = _kind(schema)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v), schema["enum"][0])
    kind = schema.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        low = schema.get("minimum")
        return low if _is_wait(name) or low is not None else 1
    if kind == "array":
        item = plausible(name, schema.get("items", {}))
        return [item] * int(schema.get("minItems", 0))
    if kind == "object":
        return {}
    for key, value in PLAUSIBLE.items():
        if key in name:
            return value
    return "fuzz"


PLAUSIBLE = {
    "statement": "SELECT 1",
    "path": "/Users/dev@dbx-devkit.local/fuzz",
    "full_name": "samples.tpch.orders",
    "table": "samples.tpch.orders",
    "index": "main.default.fuzz_index",
    "model": "main.default.fuzz_model",
    "catalog": "samples",
    "schema": "tpch",
}


def adversarial(name: str, schema: dict[str, Any]) -> list[Any]:
    """Values to try for one argument: the kind's corpus, then wrong types."""
    kind = _kind(schema).get("type")
    if _is_wait(name):
        # In range, a wait may last its full timeout: only out-of-range values and types.
        return [-1, INT64, 10**30, "x", None, 1.5]
    by_kind: dict[Any, list[Any]] = {
        "string": STRINGS,
        "integer": INTEGERS,
        "number": [*INTEGERS, 1e308, -1e308],
        "boolean": ["true", 1, None],
        "array": LISTS,
        "object": OBJECTS,
    }
    return [*by_kind.get(kind, STRINGS), *WRONG_TYPES]


@dataclass(frozen=True)
class Case:
    """One call: the tool, its arguments, and which argument is under test."""

    tool: str
    arguments: dict[str, Any]
    mutated: str


def cases_for(tool: Tool, rng: random.Random, per_tool: int) -> list[Case]:
    """At most ``per_tool`` seeded cases for ``tool``: nothing, unknown arguments, then one
    argument at a time made adversarial (round-robin over the arguments)."""
    properties: dict[str, Any] = tool.input_schema.get("properties", {})
    required = set(tool.input_schema.get("required", []))
    base = {
        name: plausible(name, schema)
        for name, schema in properties.items()
        if name in required or _is_wait(name)
    }
    if "confirm" in properties:
        base["confirm"] = False
    cases = [
        Case(tool.name, {}, "(none)"),
        Case(tool.name, {**base, "../../x": 1}, "(unknown argument)"),
        Case(tool.name, {**base, "u" * 100_000: 1}, "(huge unknown argument)"),
    ]
    names = [n for n in properties if n != "confirm"]
    # Each argument walks its own shuffled corpus: no value repeats before all were tried.
    corpora = {
        n: rng.sample(adversarial(n, properties[n]), k=len(adversarial(n, properties[n])))
        for n in names
    }
    round_ = 0
    while names and len(cases) < per_tool:
        name = names[round_ % len(names)]
        corpus = corpora[name]
        value = corpus[(round_ // len(names)) % len(corpus)]
        cases.append(Case(tool.name, {**base, name: value}, name))
        round_ += 1
    return cases[:per_tool]


@dataclass
class Tally:
    """What the run found."""

    calls: int = 0
    crashes: list[tuple[str, str, str]] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    max_result: tuple[int, str] = (0, "")
    max_error: tuple[int, str] = (0, "")
    oversized_errors: int = 0
    unavailable: int = 0
    notes: list[str] = field(default_factory=list)
    stopped_early: bool = False

    def crash(self, kind: str, case: Case, detail: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.crashes.append((kind, f"{case.tool}({case.mutated}={_shown(case)})", detail))


def _shown(case: Case) -> str:
    if case.mutated not in case.arguments:
        return "…"
    text = repr(case.arguments[case.mutated])
    return text if len(text) <= 40 else f"{text[:40]}…({len(text):,} chars)"


class ServerErrors(logging.Handler):
    """Counts unhandled exceptions of the workspace's request handlers (answered 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Exception in ASGI application"):
            self.count += 1
            exc = record.exc_info[1] if record.exc_info else None
            self.last = f"{type(exc).__name__}: {exc}"[:200] if exc else ""


async def call(
    client: Client, case: Case, deadline: float, errors: ServerErrors, tally: Tally
) -> None:
    """One call, classified."""
    tally.calls += 1
    before = errors.count
    with anyio.move_on_after(deadline) as scope:
        try:
            result = await client.call_tool(case.tool, case.arguments)
        except MCPError as exc:
            tally.crash("protocol_error", case, f"{exc.error.code}: {exc.error.message[:200]}")
            return
        except Exception as exc:  # noqa: BLE001  (the harness counts every failure)
            tally.crash("exception", case, f"{type(exc).__name__}: {str(exc)[:200]}")
            return
    if scope.cancelled_caught:
        tally.crash("hang", case, f"no answer within {deadline:.0f} s")
        return
    if errors.count > before:
        tally.crash("workspace_500", case, errors.last)
    text = "\n".join(getattr(block, "text", "") for block in result.content)
    if not result.is_error:
        tally.max_result = max(tally.max_result, (len(text), case.tool))
        return
    tally.max_error = max(tally.max_error, (len(text), case.tool))
    if len(text) > ERROR_MAX_CHARS:
        tally.oversized_errors += 1
        tally.crash("oversized_error", case, f"{len(text):,} chars: {text[:120]}")
    if text.startswith("INTERNAL_ERROR"):
        tally.crash("internal_error", case, text[:200])
    if text.startswith("TEMPORARILY_UNAVAILABLE"):
        # Nothing is down here: a failure of local work named as the network is a bug.
        tally.unavailable += 1
        tally.notes.append(f"{case.tool}({case.mutated}={_shown(case)}): {text[:200]}")


async def fuzz(
    backend: Backend,
    *,
    seed: int,
    per_tool: int,
    deadline: float,
    budget: float,
    only: tuple[str, ...] = (),
    read_only: bool = False,
) -> Tally:
    """Fuzz the tools whose names start with one of ``only`` (all when empty)."""
    rng = random.Random(seed)
    tally = Tally()
    errors = ServerErrors()
    logging.getLogger("uvicorn.error").addHandler(errors)
    settings = Settings(read_only=read_only)
    start = time.monotonic()
    try:
        async with Client(build_server(settings, Runtime(settings, backend))) as client:
            tools = [
                t for t in (await client.list_tools()).tools if t.name.startswith(only or ("",))
            ]
            for tool in sorted(tools, key=lambda t: t.name):
                for case in cases_for(tool, rng, per_tool):
                    if time.monotonic() - start > budget:
                        tally.stopped_early = True
                        return tally
                    await call(client, case, deadline, errors, tally)
            # The server and its workspace must still answer after all that.
            alive = Case("sql_query", {"statement": "SELECT 1 AS alive"}, "(after the run)")
            await call(client, alive, deadline, errors, tally)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(errors)
    return tally


def report(tally: Tally, elapsed: float) -> None:
    """One line per figure, then one line per distinct crash."""
    print(f"fuzz.calls {tally.calls}")
    print(f"fuzz.crashes {len(tally.crashes)}")
    for kind in ("internal_error", "protocol_error", "exception", "workspace_500", "hang"):
        print(f"fuzz.crashes.{kind} {tally.kinds.get(kind, 0)}")
    print(f"fuzz.max_result_chars {tally.max_result[0]} ({tally.max_result[1]})")
    print(f"fuzz.max_error_chars {tally.max_error[0]} ({tally.max_error[1]})")
    print(f"fuzz.errors_over_{ERROR_MAX_CHARS}_chars {tally.oversized_errors}")
    print(f"fuzz.temporarily_unavailable {tally.unavailable}")
    print(
        f"fuzz.seconds {elapsed:.1f}" + (" (stopped at the budget)" if tally.stopped_early else "")
    )
    for note in tally.notes:
        print(f"fuzz.unavailable {note}")
    seen: set[tuple[str, str, str]] = set()
    for kind, where, detail in tally.crashes:
        key = (kind, where.split("(")[0], detail[:60])
        if key not in seen:
            seen.add(key)
            print(f"fuzz.crash {kind} {where}: {detail}")


@contextmanager
def sandbox() -> Iterator[Path]:
    """A temporary folder that is the working directory and HOME of the run, three levels
    deep so that ``../..`` stays inside it."""
    previous_cwd, previous_home = Path.cwd(), os.environ.get("HOME")
    with tempfile.TemporaryDirectory(prefix="dbx-devkit-fuzz-") as tmp:
        work = Path(tmp) / "home" / "work" / "project"
        work.mkdir(parents=True)
        os.chdir(work)
        os.environ["HOME"] = str(Path(tmp) / "home")
        try:
            yield Path(tmp)
        finally:
            os.chdir(previous_cwd)
            if previous_home is not None:
                os.environ["HOME"] = previous_home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--per-tool", type=int, default=24, help="calls per tool (default 24)")
    parser.add_argument("--deadline", type=float, default=60, help="seconds a call may take")
    parser.add_argument("--budget", type=float, default=1800, help="seconds for the whole run")
    parser.add_argument("--tools", default="", help="comma-separated tool name prefixes")
    parser.add_argument("--check", action="store_true", help="exit 1 on a crash or long error")
    args = parser.parse_args()
    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "MLFLOW_", "DBX_DEVKIT_")):
            del os.environ[name]
    only = tuple(p for p in args.tools.split(",") if p)
    started = time.monotonic()
    with sandbox() as tmp, LocalWorkspace(LocalConfig(data_dir=tmp / "ws")) as workspace:
        backend = local_backend(workspace.url, workspace.token)
        tally = anyio.run(
            lambda: fuzz(
                backend,
                seed=args.seed,
                per_tool=args.per_tool,
                deadline=args.deadline,
                budget=args.budget,
                only=only,
            )
        )
    report(tally, time.monotonic() - started)
    if args.check and (tally.crashes or tally.oversized_errors):
        sys.exit(1)


if __name__ == "__main__":
    main()
