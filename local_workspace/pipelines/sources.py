"""Library sources of a pipeline: SQL text from workspace files, notebooks and globs.

Python sources (``import dlt``, ``pyspark.pipelines``, Python notebooks or ``%python`` cells)
fail the update with a clear "needs a Databricks cluster" error: they need Spark.
"""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING, Any

from local_workspace import notebook_format
from local_workspace.workspace_store import canonical

if TYPE_CHECKING:
    from local_workspace.workspace_store import WorkspaceStore

PYTHON_MARKERS = re.compile(
    r"^\s*(import\s+dlt\b|from\s+pyspark\s+import\s+pipelines\b|import\s+pyspark\.pipelines\b|"
    r"from\s+pyspark\.pipelines\b|from\s+dlt\b)",
    re.MULTILINE,
)


class UpdateFailed(Exception):
    """The update fails with this message (and an ERROR event)."""

    def __init__(self, message: str, class_name: str = "PipelineError") -> None:
        super().__init__(message)
        self.class_name = class_name


def python_error(path: str) -> UpdateFailed:
    """The refusal of a Python pipeline source."""
    return UpdateFailed(
        f"'{path}' is a Python pipeline source (dlt / pyspark.pipelines): Python pipelines "
        "need a Databricks cluster (Spark), which the local workspace does not have. Run "
        "this pipeline on a Databricks workspace, or write its datasets in SQL "
        "(CREATE OR REFRESH MATERIALIZED VIEW / STREAMING TABLE).",
        "PythonPipelineNotSupported",
    )


def library_sources(spec: dict[str, Any], workspace: WorkspaceStore) -> list[tuple[str, str]]:
    """(path, SQL text) of each library source, in order; Python sources fail the update."""
    out: list[tuple[str, str]] = []
    for library in spec.get("libraries") or []:
        if "notebook" in library:
            path = str((library["notebook"] or {}).get("path") or "")
            out.append((path, _read(path, workspace, "Notebook")))
        elif "file" in library:
            path = str((library["file"] or {}).get("path") or "")
            out.append((path, _read(path, workspace, "File")))
        elif "glob" in library:
            pattern = canonical(str((library["glob"] or {}).get("include") or ""))
            root = pattern.split("*", 1)[0].rstrip("/") or "/"
            found = [
                o
                for o in workspace.descendants(root)
                if o.object_type in ("FILE", "NOTEBOOK") and _glob(pattern, o.path)
            ]
            if not found:
                raise UpdateFailed(f"The glob '{pattern}' matches no workspace file.")
            out.extend((o.path, _read(o.path, workspace, "File")) for o in found)
        else:
            kind = next(iter(library), "?")
            raise UpdateFailed(
                f"A '{kind}' library cannot run in the local workspace: use notebook, file or "
                "glob libraries holding SQL.",
                "UnsupportedLibrary",
            )
    if not out:
        raise UpdateFailed("The pipeline has no libraries: add a SQL notebook or file.")
    return out


def _glob(pattern: str, path: str) -> bool:
    if pattern.endswith("/**"):
        return path.startswith(pattern[:-3] + "/")
    return fnmatch.fnmatchcase(path, pattern)


def _notebook_sql(text: str, path: str) -> str:
    """A SQL notebook's source with cell breaks as ``;`` (line numbers kept as exported)."""
    separator = notebook_format.separator("SQL")
    lines = []
    for number, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if re.match(r"^--\s*MAGIC\s+%python", stripped):
            raise python_error(path)
        if number == 0 and stripped == notebook_format.header("SQL"):
            lines.append("")
        elif stripped == separator:
            lines.append(";")  # a cell ends its last statement
        else:
            lines.append(line)
    return "\n".join(lines)


def _read(path: str, workspace: WorkspaceStore, what: str) -> str:
    # Databricks takes library paths with or without the /Workspace prefix.
    obj = workspace.get(canonical(path).rstrip("/")) if path else None
    if obj is None or obj.object_type not in ("FILE", "NOTEBOOK"):
        raise UpdateFailed(
            f"{what} '{path}' does not exist in the workspace: upload it "
            "(workspace_write) or fix the library path.",
            "NotebookNotFound" if what == "Notebook" else "FileNotFound",
        )
    text = workspace.read(obj).decode("utf-8", errors="replace")
    if obj.object_type == "NOTEBOOK":
        language = obj.language or "PYTHON"
        if language != "SQL":
            if language == "PYTHON":
                raise python_error(path)
            raise UpdateFailed(f"Notebook '{path}' is {language}: pipelines run SQL or Python.")
        return _notebook_sql(text, path)
    lower = path.lower()
    if lower.endswith(".py") or (PYTHON_MARKERS.search(text) and not lower.endswith(".sql")):
        raise python_error(path)
    if not lower.endswith(".sql"):
        raise UpdateFailed(f"File '{path}' is not a .sql or .py pipeline source.")
    return text
