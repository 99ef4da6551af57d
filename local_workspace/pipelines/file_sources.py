"""Volume files a pipeline query reads: ``read_files('/Volumes/...')`` and ``csv.`/Volumes/...```.

A batch read (materialized view, view) is the SQL warehouse's own file reader
(sql/file_reads.py). A streaming read (``STREAM read_files(...)``, or any file read of a
streaming table without STREAM) takes only the file rows the flow has not consumed, by the
row identity table sources use (flows.Flows.new_rows): rows of files added to the volume since
the last update are appended. Auto Loader tracks files by name instead; the difference shows
only when a file is rewritten in place (its new rows are appended here, Auto Loader skips it
unless ``cloudFiles.allowOverwrites``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import duckdb
from sqlglot import exp

from local_workspace.sql import file_reads
from local_workspace.sql.errors import SqlError
from local_workspace.sql.file_formats import METADATA

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog


class FileReadFailed(Exception):
    """A volume file read the warehouse refused (missing path, bad option)."""


def is_volume_read(table: exp.Table) -> bool:
    """``read_files('/Volumes/...', ...)`` or ``fmt.`/Volumes/...```."""
    if file_reads.is_file_table(table):
        return True
    if not file_reads.is_reader(table):
        return False
    first = next(iter(table.this.expressions), None)
    return isinstance(first, exp.Literal) and str(first.this).startswith("/Volumes/")


def label(table: exp.Table) -> str:
    """How a file read is named in the flow's progress (its path)."""
    if file_reads.is_file_table(table):
        return table.name
    first = next(iter(table.this.expressions), None)
    return str(first.this) if isinstance(first, exp.Literal) else "read_files"


def reader_sql(
    table: exp.Table, catalog: Catalog, cursor: duckdb.DuckDBPyConnection, metadata: bool = False
) -> str:
    """The DuckDB query of one file read (its rows, every file); with ``metadata``, its hidden
    ``_metadata`` column too (the flow's query reads it)."""
    bare = table.copy()
    bare.set("alias", None)
    columns = [exp.Star(), exp.column(METADATA)] if metadata else [exp.Star()]
    wrapper = exp.select(*columns).from_(bare)
    rewrite(wrapper, catalog, cursor)
    return wrapper.sql(dialect="duckdb")


def rewrite(tree: exp.Expression, catalog: Catalog, cursor: duckdb.DuckDBPyConnection) -> None:
    """Every file read left in ``tree`` becomes the warehouse's reader subquery (in place)."""
    try:
        file_reads.rewrite(tree, catalog, cursor)
    except SqlError as exc:
        raise FileReadFailed(exc.full_message()) from exc


def stream_rows(
    node: exp.Table,
    catalog: Catalog,
    cursor: duckdb.DuckDBPyConnection,
    new_rows: Callable[[str, str], tuple[str, str]],
) -> tuple[str, str]:
    """Replace a streamed file read by its rows not yet consumed; (source label, identities).

    ``new_rows(source_sql, label)`` is the flow's (flows.Flows.new_rows): the temp tables of
    the unseen rows and of their identities.
    """
    source = label(node)
    root = node.root()
    metadata = file_reads.reads_metadata(root)
    new, identities = new_rows(f"({reader_sql(node, catalog, cursor, metadata)})", source)
    alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier("files"))
    rows = exp.Table(
        this=exp.to_identifier(new),
        db=exp.to_identifier("main"),
        catalog=exp.to_identifier("temp"),
        alias=alias,
    )
    node.replace(rows)
    if metadata:
        file_reads.hide_metadata(rows)  # as on the file read itself: `*` does not list it
    return source, identities
