"""Entry of a Python pipeline planning process: ``python -m local_workspace.pipelines.python_child
<workdir>``.

Reads ``<workdir>/plan_in.json`` (the Python sources, the SQL datasets of the pipeline, its
catalog, schema and configuration), runs each source with ``dlt`` and ``pyspark.pipelines``
bound to one :class:`PipelineGraph` and ``spark`` a local SparkSession (the workspace's SQL
warehouse over HTTP, for schema lookups), evaluates every dataset and writes
``<workdir>/plan_out.json``: the pipeline SQL, or the error with a bounded traceback of the
user's code. User code runs here, never in the workspace process.
"""

from __future__ import annotations

import contextlib
import json
import linecache
import os
import sys
import traceback
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_workspace.pipelines.python_api import PipelineGraph
from local_workspace.pipelines.python_sql import PythonPlanError

MAX_MESSAGE_CHARS = 1000
MAX_TRACE_FRAMES = 8
MAX_TRACE_CHARS = 3000


def main(workdir: Path) -> int:
    """Plan the sources of ``workdir/plan_in.json``; 0 when it wrote statements."""
    from local_workspace.jobs.child import die_with_parent

    die_with_parent()
    request = json.loads((workdir / "plan_in.json").read_text(encoding="utf-8"))
    sources = [str(s["path"]) for s in request["sources"]]
    out: dict[str, Any]
    try:
        out = {"statements": plan(request, workdir)}
    except PythonPlanError as exc:
        out = {"error": str(exc)[: MAX_MESSAGE_CHARS * 2], "class_name": "PythonPlanError"}
    except BaseException as exc:  # noqa: BLE001 - the user's code failed: report it, whatever it is
        frames = _user_frames(exc, sources, str(workdir / "modules"))
        error = _error_line(exc)
        if frames and not isinstance(exc, SyntaxError):
            last = frames[-1]  # where it failed, first: tools show a message's start
            error += f" ({last.filename}, line {last.lineno}, in {last.name})"
        out = {
            "error": error,
            "trace": "".join(traceback.format_list(frames))[-MAX_TRACE_CHARS:],
            "class_name": type(exc).__name__,
        }
    temporary = workdir / "plan_out.json.tmp"
    temporary.write_text(json.dumps(out), encoding="utf-8")
    os.replace(temporary, workdir / "plan_out.json")
    return 1 if "error" in out else 0


def plan(request: dict[str, Any], workdir: Path) -> list[dict[str, Any]]:
    """Run the sources and return their datasets and flows as pipeline SQL statements."""
    from local_workspace.jobs.dbutils import DBUtils, install_runtime_module
    from local_workspace.pipelines.python_session import PipelineSession
    from local_workspace.spark import install_modules

    catalog = str(request["catalog"]).lower()
    schema = str(request["schema"]).lower()
    session = PipelineSession()  # the active session: SparkSession.builder.getOrCreate() gives it
    graph = PipelineGraph(session, catalog, schema, dict(request.get("sql_datasets") or {}))
    install_modules(
        extra={
            "dlt": dlt_module(graph, "dlt"),
            "pyspark.pipelines": dlt_module(graph, "pyspark.pipelines"),
        }
    )
    graph.attach()
    _use(session, catalog, schema)
    for key, value in (request.get("configuration") or {}).items():
        session.conf.set(str(key), str(value))
    # A source's folder (copied from the workspace) is importable, as on Databricks.
    sys.path[:0] = [str(p) for p in request.get("sys_path") or []]
    dbutils = DBUtils({}, workdir)  # secrets in pipeline code, as on Databricks
    for source in request["sources"]:
        path, text = str(source["path"]), str(source["text"])
        # Tracebacks read source lines through linecache: give it the workspace file's text.
        linecache.cache[path] = (len(text), None, text.splitlines(True), path)
        namespace: dict[str, Any] = {
            "__name__": "__main__",
            "__file__": path,
            "spark": session,
            "dbutils": dbutils,
        }
        install_runtime_module(namespace)  # from databricks.sdk.runtime import spark, dbutils
        exec(compile(text, path, "exec", dont_inherit=True), namespace)
    return graph.evaluate_all()


def _use(session: Any, catalog: str, schema: str) -> None:
    """Unqualified table names resolve in the pipeline's catalog and schema, as on Databricks."""
    from local_workspace.spark.errors import AnalysisException

    session.sql(f"USE CATALOG `{catalog}`")
    # The runner creates the target schema after planning: it may not exist yet.
    with contextlib.suppress(AnalysisException):
        session.sql(f"USE SCHEMA `{schema}`")


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} ({exc.filename}, line {exc.lineno})"
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text[:MAX_MESSAGE_CHARS]


def _user_frames(
    exc: BaseException, sources: list[str], modules: str
) -> list[traceback.FrameSummary]:
    """The frames of the pipeline's own files (the last few): its sources, and the workspace
    modules they import (named by their workspace path, not their copy's)."""
    frames: list[traceback.FrameSummary] = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith(modules + os.sep):
            path = "/" + frame.filename[len(modules) + 1 :].replace(os.sep, "/")
            frame = traceback.FrameSummary(path, frame.lineno, frame.name, line=frame.line)
        elif frame.filename not in sources:
            continue
        frames.append(frame)
    return frames[-MAX_TRACE_FRAMES:]


def dlt_module(graph: PipelineGraph, name: str) -> types.ModuleType:
    """A ``dlt`` (or ``pyspark.pipelines``) module bound to ``graph``."""
    mod = types.ModuleType(name, "Lakeflow Declarative Pipelines (local workspace runner).")
    table = graph.dataset_decorator("table", "table")
    members: dict[str, Any] = {
        "table": table,
        "materialized_view": graph.dataset_decorator("materialized_view", "materialized_view"),
        "view": graph.dataset_decorator("view", "view"),
        "temporary_view": graph.dataset_decorator("view", "temporary_view"),
        "expect": graph.expectation("WARN", False),
        "expect_or_drop": graph.expectation("DROP", False),
        "expect_or_fail": graph.expectation("FAIL", False),
        "expect_all": graph.expectation("WARN", True),
        "expect_all_or_drop": graph.expectation("DROP", True),
        "expect_all_or_fail": graph.expectation("FAIL", True),
        "read": lambda name: graph.read(name, False),
        "read_stream": lambda name: graph.read(name, True),
        "create_streaming_table": graph.create_streaming_table,
        "create_streaming_live_table": graph.create_streaming_table,
        "create_target_table": graph.create_streaming_table,
        "apply_changes": graph.apply_changes,
        "create_auto_cdc_flow": graph.apply_changes,
        "append_flow": graph.append_flow,
    }
    for unsupported in (
        "apply_changes_from_snapshot",
        "create_auto_cdc_from_snapshot_flow",
        "create_sink",
        "foreach_batch_sink",
    ):
        members[unsupported] = _refusal(unsupported)
    mod.__dict__.update(members)
    mod.__all__ = sorted(members)  # type: ignore[attr-defined]
    return mod


def _refusal(name: str) -> Callable[..., Any]:
    def refuse(*_: Any, **__: Any) -> Any:
        raise PythonPlanError(
            f"{name} is not supported by the local pipeline runner (it needs a Databricks "
            "pipeline cluster): run this pipeline on Databricks, or express the flow with "
            "@dlt.table / create_auto_cdc_flow."
        )

    refuse.__name__ = name
    return refuse


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
