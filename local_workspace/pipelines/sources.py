"""Library sources of a pipeline: SQL and Python text from workspace files, notebooks and globs.

A source is SQL (``.sql`` files, SQL notebooks) or Python (``.py`` files, Python notebooks,
files with ``import dlt`` / ``from pyspark import pipelines``). Python sources are planned in
a child process (local_workspace/pipelines/python_plan.py) into the same SQL the runner reads.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
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


@dataclass
class Source:
    """One library source: its workspace path, text and language (SQL or PYTHON)."""

    path: str
    text: str
    language: str = "SQL"


def library_sources(spec: dict[str, Any], workspace: WorkspaceStore) -> list[Source]:
    """Each library source, in order (a glob's files in path order)."""
    out: list[Source] = []
    for library in spec.get("libraries") or []:
        if "notebook" in library:
            path = str((library["notebook"] or {}).get("path") or "")
            out.append(_read(path, workspace, "Notebook"))
        elif "file" in library:
            path = str((library["file"] or {}).get("path") or "")
            out.append(_read(path, workspace, "File"))
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
            out.extend(_read(o.path, workspace, "File") for o in found)
        else:
            kind = next(iter(library), "?")
            raise UpdateFailed(
                f"A '{kind}' library cannot run in the local workspace: use notebook, file or "
                "glob libraries holding SQL or Python.",
                "UnsupportedLibrary",
            )
    if not out:
        raise UpdateFailed("The pipeline has no libraries: add a SQL or Python notebook or file.")
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
            # Databricks reads a pipeline notebook in its own language only.
            raise UpdateFailed(
                f"Notebook '{path}' mixes languages (a %python cell in a SQL notebook): a "
                "pipeline source file is all SQL or all Python; move the Python code into a "
                "Python notebook or file of the pipeline."
            )
        if number == 0 and stripped == notebook_format.header("SQL"):
            lines.append("")
        elif stripped == separator:
            lines.append(";")  # a cell ends its last statement
        else:
            lines.append(line)
    return "\n".join(lines)


def _read(path: str, workspace: WorkspaceStore, what: str) -> Source:
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
        if language == "PYTHON":
            return Source(path, text, "PYTHON")
        if language != "SQL":
            raise UpdateFailed(f"Notebook '{path}' is {language}: pipelines run SQL or Python.")
        return Source(path, _notebook_sql(text, path), "SQL")
    lower = path.lower()
    if lower.endswith(".py") or (PYTHON_MARKERS.search(text) and not lower.endswith(".sql")):
        return Source(path, text, "PYTHON")
    if not lower.endswith(".sql"):
        raise UpdateFailed(f"File '{path}' is not a .sql or .py pipeline source.")
    return Source(path, text, "SQL")
