"""Write a statement's FULL result to a new file in the results folder (CSV, JSON or
Parquet by extension); see :mod:`tools_core.localfiles` for the rule every local write follows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.localfiles import check_save_name, save_new
from tools_core.sql.models import SqlColumn, SqlResult
from tools_core.sql.run import columns_of, iter_rows

if TYPE_CHECKING:
    from databricks.sdk.service.sql import StatementResponse

SUFFIXES = (".csv", ".json", ".parquet")

# Databricks type -> Arrow type for Parquet; anything else stays a string.
_ARROW = {
    "tinyint": "int8",
    "smallint": "int16",
    "int": "int32",
    "bigint": "int64",
    "float": "float32",
    "double": "float64",
    "boolean": "bool",
    "date": "date32",
}

Rows = Iterator[list[str | None]]


def check_save_to(results_dir: Path | None, save_to: str) -> None:
    """Refuse a bad ``save_to`` before the statement runs (a write must not run, then fail)."""
    if results_dir is None:
        raise InvalidInput(
            "save_to needs a results folder, and none was given.",
            "Pass results_dir (the folder save_to names files in).",
        )
    check_save_name(results_dir, save_to, SUFFIXES)


def save_result(
    backend: Backend, response: StatementResponse, save_to: str, results_dir: Path
) -> SqlResult:
    """Fetch every chunk and write it to a new file ``save_to`` inside ``results_dir``; the
    result says the absolute path written, rows and bytes."""
    columns = columns_of(response)
    rows = iter_rows(backend, response)
    suffix = Path(save_to).suffix.lower()

    def write(handle: BinaryIO) -> int:
        if suffix == ".csv":
            return _write_csv(handle, columns, rows)
        if suffix == ".json":
            return _write_json(handle, columns, rows)
        return _write_parquet(handle, columns, list(rows))

    saved, count = save_new(results_dir, save_to, write, SUFFIXES)
    hint = ""
    if Path(saved.path).name != Path(save_to).name:
        hint = f"{Path(save_to).name} existed (never overwritten); wrote {Path(saved.path).name}"
    return SqlResult(
        statement_id=response.statement_id or "",
        state="SUCCEEDED",
        columns=columns,
        total_row_count=count,
        saved_to=saved.path,
        saved_rows=count,
        saved_bytes=saved.bytes,
        hint=hint,
    )


def _write_csv(handle: BinaryIO, columns: list[SqlColumn], rows: Rows) -> int:
    count = 0
    text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow([c.name for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
    text.flush()
    text.detach()  # the caller owns (and closes) the binary handle
    return count


def _write_json(handle: BinaryIO, columns: list[SqlColumn], rows: Rows) -> int:
    """A JSON array of objects, streamed row by row."""
    names = [c.name for c in columns]
    count = 0
    handle.write(b"[")
    for row in rows:
        if count:
            handle.write(b", ")
        handle.write(json.dumps(dict(zip(names, row, strict=False))).encode("utf-8"))
        count += 1
    handle.write(b"]")
    return count


def _write_parquet(handle: BinaryIO, columns: list[SqlColumn], rows: list[list[str | None]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for i, column in enumerate(columns):
        values = pa.array([row[i] for row in rows], type=pa.string())
        target = _ARROW.get(column.type)
        if target is not None:
            values = values.cast(target)
        arrays.append(values)
    pq.write_table(pa.table(arrays, names=[c.name for c in columns]), handle)
    return len(rows)
