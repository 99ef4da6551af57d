"""Write a statement's FULL result to a local file (CSV, JSON or Parquet by extension)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.sql.models import SqlColumn, SqlResult
from tools_core.sql.run import columns_of, iter_rows

if TYPE_CHECKING:
    from databricks.sdk.service.sql import StatementResponse

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


def save_result(backend: Backend, response: StatementResponse, save_to: str) -> SqlResult:
    """Fetch every chunk and write it to ``save_to``; the result says where and how many."""
    path = Path(save_to).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json", ".parquet"):
        raise InvalidInput(
            f"save_to must end with .csv, .json or .parquet, got {save_to!r}.",
            "Pick a file name such as result.csv.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns_of(response)
    rows = iter_rows(backend, response)
    if suffix == ".csv":
        count = _write_csv(path, columns, rows)
    else:
        materialized = list(rows)
        count = len(materialized)
        if suffix == ".json":
            names = [c.name for c in columns]
            path.write_text(json.dumps([dict(zip(names, r, strict=False)) for r in materialized]))
        else:
            _write_parquet(path, columns, materialized)
    return SqlResult(
        statement_id=response.statement_id or "",
        state="SUCCEEDED",
        columns=columns,
        total_row_count=count,
        saved_to=str(path.resolve()),
        saved_rows=count,
    )


def _write_csv(path: Path, columns: list[SqlColumn], rows: object) -> int:
    count = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.name for c in columns])
        for row in rows:  # type: ignore[attr-defined]
            writer.writerow(["" if v is None else v for v in row])
            count += 1
    return count


def _write_parquet(path: Path, columns: list[SqlColumn], rows: list[list[str | None]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for i, column in enumerate(columns):
        values = pa.array([row[i] for row in rows], type=pa.string())
        target = _ARROW.get(column.type)
        if target is not None:
            values = values.cast(target)
        arrays.append(values)
    pq.write_table(pa.table(arrays, names=[c.name for c in columns]), path)
