"""``COPY INTO`` and ``LIST`` on volume paths.

COPY INTO loads files into an existing table, idempotently: every file it loads is recorded
for that table (``copy_into_files`` in ``uc.sqlite``, keyed by the table's id and the file's
path, as Databricks keys its load state by path); a later run skips recorded files unless
``COPY_OPTIONS ('force' = 'true')``. Dropping and re-creating the table starts afresh (a new
table id). Rows are inserted in one DuckDB transaction that commits only once the record is
stored, so a failure leaves neither rows nor record behind.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import duckdb
import sqlglot
from sqlglot import exp

from local_workspace.sql import errors, file_formats, file_reads, placeholders
from local_workspace.sql.commands import Output
from local_workspace.sql.errors import SqlError
from local_workspace.sql.translate import Scope
from local_workspace.sql.volume_paths import (
    FileEntry,
    VolumePath,
    children,
    files,
    no_file_access,
    resolve,
)

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

RESULT_COLUMNS = [
    ("num_affected_rows", "BIGINT"),
    ("num_inserted_rows", "BIGINT"),
    ("num_skipped_corrupt_files", "BIGINT"),
]
LIST_COLUMNS = [
    ("path", "VARCHAR"),
    ("name", "VARCHAR"),
    ("size", "BIGINT"),
    ("modification_time", "BIGINT"),
]
MAX_FILES = 1000  # FILES = (...) takes at most 1000 names on Databricks
_LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS copy_into_files (
    table_id TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
    mtime_ms INTEGER NOT NULL, loaded_at INTEGER NOT NULL, PRIMARY KEY (table_id, path)
)
"""
_LIST = re.compile(
    r"^\s*LIST\s+'((?:[^']|'')*)'\s*(WITH\s*\(.*\)\s*)?(?:LIMIT\s+(\d+)\s*)?;?\s*$",
    re.I | re.S,
)


# -- LIST ----------------------------------------------------------------------------------


def list_command(statement: str, catalog: Catalog) -> Output | None:
    """``LIST '/Volumes/...' [LIMIT n]``: the entries directly in a folder; None for any
    other statement."""
    words = statement.split(None, 1)
    if not words or words[0].upper().rstrip(";") != "LIST":
        return None
    match = _LIST.match(statement)
    if match is None:
        raise errors.parse_error(words[1].split()[0] if len(words) > 1 else "end of input")
    if match.group(2):
        raise errors.unsupported("LIST ... WITH (CREDENTIAL ...)")
    path = match.group(1).replace("''", "'")
    limit = int(match.group(3)) if match.group(3) else None
    entries = children(resolve(path, catalog.volumes))
    rows: list[list[str | None]] = [
        ["dbfs:" + e.public, e.name, str(e.size), str(e.mtime_ms)] for e in entries[:limit]
    ]
    return Output(columns=list(LIST_COLUMNS), rows=rows)


# -- COPY INTO -----------------------------------------------------------------------------


def _options(param: exp.CopyParameter) -> dict[str, str]:
    out: dict[str, str] = {}
    for prop in param.expressions:
        if isinstance(prop, exp.Property):
            key = prop.this.name if isinstance(prop.this, exp.Literal) else prop.name
            value = prop.args.get("value")
            out[str(key).lower()] = value.name if isinstance(value, exp.Expression) else ""
    return out


def _clauses(tree: exp.Copy) -> dict[str, exp.CopyParameter]:
    return {str(p.this.name).upper(): p for p in tree.args.get("params") or []}


def answer(
    tree: exp.Expression, scope: Scope, catalog: Catalog, cursor: duckdb.DuckDBPyConnection
) -> Output | None:
    """COPY INTO, and the column-less placeholder tables it fills; None for anything else."""
    if isinstance(tree, exp.Copy):
        return run(tree, scope, catalog, cursor)
    return placeholders.take(tree, scope, catalog)


def run(
    tree: exp.Copy, scope: Scope, catalog: Catalog, cursor: duckdb.DuckDBPyConnection
) -> Output:
    """Run ``COPY INTO`` and return Databricks' result row."""
    clauses = _clauses(tree)
    if "VALIDATE" in clauses or (tree.args.get("credentials") and tree.args["credentials"].args):
        raise errors.unsupported("COPY INTO with VALIDATE or credentials")
    fmt_clause = clauses.get("FILEFORMAT")
    if fmt_clause is None:
        raise errors.parse_error("end of input", "COPY INTO needs FILEFORMAT = CSV | JSON | ...")
    fmt = str(fmt_clause.expression.name).lower()
    if fmt not in file_formats.FORMATS:
        raise errors.parse_error(fmt.upper())
    options = _options(clauses["FORMAT_OPTIONS"]) if "FORMAT_OPTIONS" in clauses else {}
    copy_options = _options(clauses["COPY_OPTIONS"]) if "COPY_OPTIONS" in clauses else {}
    source = tree.args["files"][0]
    target_node, listed = tree.this, None
    if isinstance(target_node, exp.Schema):  # COPY INTO t (a, b): by position, onto a and b
        listed = [c.name for c in target_node.expressions]
        target_node = target_node.this
    if isinstance(source, exp.Identifier) and source.name.upper() == "BY" and "FROM" in clauses:
        listed = []  # COPY INTO t BY POSITION (sqlglot reads BY POSITION FROM as clauses)
        source = clauses["FROM"].expression
    query = source.this if isinstance(source, exp.Subquery) else None
    path = _source_path(query) if query is not None else source.name
    location = resolve(path, catalog.volumes)
    target, pending = _target(target_node, scope, catalog)
    found = _selected(location, clauses)
    force = copy_options.get("force", "false").lower() == "true"
    loaded = set() if force or pending else _loaded(catalog, _table_id(catalog, target))
    new = [f for f in found if f.public not in loaded]
    if not new:
        return _result(0)
    spec = file_formats.ReadSpec(fmt, new, options, rescue=False, infer=_infers(fmt, options))
    spec.metadata = query is not None and file_reads.reads_metadata(query)
    public = catalog.engine.public_text
    select = file_formats.reader_sql(spec, cursor, public)
    if query is not None:
        query = query.copy()
        for table in query.find_all(exp.Table):
            if "/" in table.name and not table.db:
                subquery = exp.Subquery(this=sqlglot.parse_one(select, read="duckdb"))
                table.replace(subquery)
                if spec.metadata:
                    file_reads.hide_metadata(subquery)
        select = query.sql(dialect="duckdb")
    merge = copy_options.get("mergeschema", options.get("mergeschema", "false")) == "true"
    headerless = fmt == "csv" and options.get("header", "false").lower() != "true"
    positional = listed if listed is not None else ([] if headerless and query is None else None)
    if pending:  # an empty placeholder table takes the files' columns (mergeSchema only)
        columns = _source_columns(cursor, select, catalog)
        if not merge:
            raise _mismatch(target, columns)
        placeholders.materialize(catalog, target, columns, cursor)
    statements = _insert_sql(target, select, cursor, catalog, merge, positional)
    count = _load(cursor, catalog, statements, _table_id(catalog, target), new)
    # A load is a table version, as on Databricks (DESCRIBE HISTORY shows COPY INTO).
    metrics = {"numFiles": str(len(new)), "numOutputRows": str(count)}
    catalog.history.record(".".join(target), "COPY INTO", {}, metrics, blind_append=True)
    return _result(count)


def _table_id(catalog: Catalog, target: tuple[str, str, str]) -> str:
    return str(catalog.tables.get(".".join(target))["table_id"])


def _source_columns(
    cursor: duckdb.DuckDBPyConnection, select: str, catalog: Catalog
) -> list[tuple[str, str]]:
    try:
        return _columns(cursor, select)
    except duckdb.Error as exc:
        raise file_formats.read_error(exc, catalog.engine.public_text) from exc


def _mismatch(target: tuple[str, str, str], extra: list[tuple[str, str]]) -> SqlError:
    return SqlError(
        "DELTA_METADATA_MISMATCH",
        f"A schema mismatch detected when writing to the Delta table "
        f"{errors.quoted(*target)}. The data has columns the table lacks: "
        f"{', '.join(n for n, _ in extra)}. To enable schema migration, set "
        "COPY_OPTIONS ('mergeSchema' = 'true').",
        "22000",
    )


def _infers(fmt: str, options: dict[str, str]) -> bool:
    # COPY INTO reads CSV as strings unless inferSchema is set (then casts to the table).
    return fmt != "csv" or options.get("inferschema", "false").lower() == "true"


def _target(
    node: exp.Expression, scope: Scope, catalog: Catalog
) -> tuple[tuple[str, str, str], bool]:
    """The table's public name, and whether it is a placeholder still without columns."""
    name = placeholders.name_of(node, scope)
    if catalog.catalogs.has(name[0]) and catalog.tables.has(*name):
        return name, False
    if placeholders.comment_of(catalog, name)[0]:
        return name, True
    raise errors.table_not_found(name)


def _source_path(query: exp.Expression) -> str:
    paths = [t.name for t in query.find_all(exp.Table) if "/" in t.name and not t.db]
    if len(paths) != 1:
        raise errors.parse_error("FROM", "COPY INTO's SELECT reads one path: FROM '/Volumes/...'.")
    return paths[0]


def _selected(location: VolumePath, clauses: dict[str, exp.CopyParameter]) -> list[FileEntry]:
    """The files a COPY INTO names: FILES = (...), PATTERN = '...', or all below the path."""
    if "FILES" in clauses:
        value = clauses["FILES"].expression
        names = [v.name for v in (value.expressions if isinstance(value, exp.Tuple) else [value])]
        if len(names) > MAX_FILES:
            raise SqlError(
                "COPY_INTO_FILES_LIMIT",
                f"FILES takes at most {MAX_FILES} file names; use PATTERN.",
                "54000",
            )
        out: dict[str, FileEntry] = {}
        for name in names:
            child = _below(location, name)
            for entry in files(child):
                out[entry.public] = entry
        return [out[k] for k in sorted(out)]
    if "PATTERN" in clauses:
        return files(_below(location, clauses["PATTERN"].expression.name))
    return files(location)


def _below(location: VolumePath, relative: str) -> VolumePath:
    parts = [p for p in relative.split("/") if p]
    if any(p in ("..", ".") for p in parts):
        raise no_file_access()
    return VolumePath(location.child(relative), location.root, location.rest + parts, location.base)


def _columns(cursor: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[str, str]]:
    rows = cursor.execute(f"DESCRIBE {sql}").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _insert_sql(
    target: tuple[str, str, str],
    select: str,
    cursor: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    merge: bool,
    positional: list[str] | None,
) -> list[str]:
    """The statements of a load: the INSERT of the source's columns into the table's, each
    cast to the table's type, after the ALTERs adding the columns the table lacks
    (mergeSchema). Columns match by name, or with ``positional`` by position: onto the
    columns it names, or all of the table's when it is empty (BY POSITION, CSV without
    header)."""
    name = _internal(target, catalog)
    try:
        table_columns = _columns(cursor, f"SELECT * FROM {name}")
        source = _columns(cursor, select)
    except duckdb.Error as exc:
        raise file_formats.read_error(exc, catalog.engine.public_text) from exc
    by_name = {n.lower(): (n, t) for n, t in table_columns}
    pairs: list[tuple[str, str, str]] = []  # (target column, type, source column)
    extra: list[tuple[str, str]] = []
    if positional:
        missing = [c for c in positional if c.lower() not in by_name]
        if missing:
            raise _unresolved_column(missing[0], [n for n, _ in table_columns])
        table_columns = [by_name[c.lower()] for c in positional]
    for i, (src, src_type) in enumerate(source):
        if positional is not None:
            if i < len(table_columns):
                pairs.append((*table_columns[i], src))
            continue
        if src.lower() in by_name:
            pairs.append((*by_name[src.lower()], src))
        else:
            extra.append((src, src_type))
    if extra and not merge:
        raise _mismatch(target, extra)
    statements = [f"ALTER TABLE {name} ADD COLUMN {_q(src)} {ty}" for src, ty in extra]
    pairs += [(src, ty, src) for src, ty in extra]
    columns = ", ".join(_q(t) for t, _, _ in pairs)
    values = ", ".join(f"CAST(src.{_q(s)} AS {ty})" for _, ty, s in pairs)
    return [*statements, f"INSERT INTO {name} ({columns}) SELECT {values} FROM ({select}) AS src"]


def _unresolved_column(name: str, candidates: list[str]) -> SqlError:
    names = ", ".join(f"`{c}`" for c in candidates)
    return SqlError(
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        f"A column, variable, or function parameter with name `{name}` cannot be resolved. "
        f"Did you mean one of the following? [{names}].",
        "42703",
    )


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _internal(target: tuple[str, str, str], catalog: Catalog) -> str:
    return ".".join(_q(p) for p in (catalog.engine.to_internal(target[0]), target[1], target[2]))


def _loaded(catalog: Catalog, table_id: str) -> set[str]:
    with catalog.meta.transaction() as db:
        db.execute(_LOG_SCHEMA)
        rows = db.execute("SELECT path FROM copy_into_files WHERE table_id = ?", (table_id,))
        return {str(r[0]) for r in rows.fetchall()}


def _load(
    cursor: duckdb.DuckDBPyConnection,
    catalog: Catalog,
    statements: list[str],
    table_id: str,
    new: list[FileEntry],
) -> int:
    """ALTER, insert and record as one: the DuckDB transaction commits after the record is
    stored, and the record is taken back if that commit fails."""
    now = int(time.time() * 1000)
    rows = [(table_id, f.public, f.size, f.mtime_ms, now) for f in new]
    cursor.execute("BEGIN TRANSACTION")
    try:
        for statement in statements[:-1]:
            cursor.execute(statement)
        row = cursor.execute(statements[-1]).fetchone()
        count = int(row[0]) if row else 0
        with catalog.meta.transaction() as db:
            db.execute(_LOG_SCHEMA)
            db.executemany("INSERT OR REPLACE INTO copy_into_files VALUES (?, ?, ?, ?, ?)", rows)
    except BaseException as exc:
        cursor.execute("ROLLBACK")
        if isinstance(exc, duckdb.Error):
            raise file_formats.read_error(exc, catalog.engine.public_text) from exc
        raise
    try:
        cursor.execute("COMMIT")
    except duckdb.Error as exc:
        with catalog.meta.transaction() as db:
            db.executemany(
                "DELETE FROM copy_into_files WHERE table_id = ? AND path = ?",
                [(r[0], r[1]) for r in rows],
            )
        raise file_formats.read_error(exc, catalog.engine.public_text) from exc
    return count


def _result(count: int) -> Output:
    return Output(columns=list(RESULT_COLUMNS), rows=[[str(count), str(count), "0"]])
