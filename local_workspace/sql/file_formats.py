"""DuckDB readers for the formats Databricks reads from volume files, columns as Databricks
gives them.

A :class:`ReadSpec` (an explicit list of checked volume files, a format, the options as
given) becomes one DuckDB SELECT: ``read_files`` infers types (CSV integers as INT, JSON
fields sorted by name, JSON strings left as strings), names headerless CSV columns ``_c0``,
``_c1``..., applies ``schema``/``schemaHints`` and adds ``_rescued_data`` when it infers a CSV
or JSON schema. Inference reads the files once (DESCRIBE) and the read then takes the types
found, so DuckDB does not sniff twice.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from local_workspace.sql import errors
from local_workspace.sql.errors import SqlError
from local_workspace.sql.translate import READ, WRITE, value_sql
from local_workspace.sql.volume_paths import FileEntry

# Formats Databricks reads; the local workspace reads the first five.
LOCAL_FORMATS = ("csv", "json", "parquet", "text", "binaryfile")
FORMATS = (*LOCAL_FORMATS, "avro", "orc", "xml", "delta")
RESCUED = "_rescued_data"
METADATA = "_metadata"
# The column DuckDB's readers name each row's file with, and the file facts joined to it.
_FILE = "__dbx_file"
_FACTS = "__dbx_facts"
# Turns engine text (host paths, internal names) into what a client may see.
PublicText = Callable[[str], str]
_CSV_TYPES = ["BOOLEAN", "INTEGER", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "VARCHAR"]
# DuckDB types a Databricks read never produces from text: kept as strings.
_AS_STRING = re.compile(r"^(TIME|UUID|JSON|NULL|TIMESTAMP WITH TIME ZONE|INTERVAL)\b")
_JAVA_DATE = [
    ("yyyy", "%Y"),
    ("MM", "%m"),
    ("dd", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
    ("SSS", "%g"),
]


def unsupported_format(name: str) -> SqlError:
    """A format Databricks reads that the local workspace has no reader for."""
    return errors.unsupported(f"Reading {name.upper()} files")


def unable_to_infer(fmt: str) -> SqlError:
    """UNABLE_TO_INFER_SCHEMA: nothing to read (an empty folder or glob)."""
    return SqlError(
        "UNABLE_TO_INFER_SCHEMA",
        f"Unable to infer schema for {fmt.upper()}. It must be specified manually.",
        "42KD9",
    )


@dataclass
class ReadSpec:
    """One read: the files, their format and the options as given (keys lower case)."""

    fmt: str
    entries: list[FileEntry]
    options: dict[str, str] = field(default_factory=dict)
    rescue: bool = False  # add _rescued_data when the schema is inferred (read_files)
    infer: bool = True  # infer CSV column types (False: every column a STRING)
    metadata: bool = False  # add the _metadata column (the statement reads it)

    def option(self, *names: str) -> str | None:
        """The first of ``names`` given (aliases such as sep/delimiter)."""
        for name in names:
            if name.lower() in self.options:
                return self.options[name.lower()]
        return None

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean option."""
        value = self.option(name)
        return default if value is None else value.strip().lower() == "true"


# -- DuckDB readers ------------------------------------------------------------------------


def reader_sql(spec: ReadSpec, cursor: duckdb.DuckDBPyConnection, public_text: PublicText) -> str:
    """The DuckDB SELECT reading ``spec``, its columns named and typed as Databricks'."""
    if spec.fmt not in LOCAL_FORMATS:
        raise unsupported_format(spec.fmt)
    glob = spec.option("pathGlobFilter", "fileNamePattern")
    entries = [e for e in spec.entries if glob is None or _glob_match(e.name, glob)]
    if not entries:
        raise unable_to_infer(spec.fmt)
    paths = "[" + ", ".join(value_sql(str(e.real)) for e in entries) + "]"
    if spec.fmt == "text":
        return _text_sql(spec, paths)
    if spec.fmt == "binaryfile":
        return _binary_sql(entries, paths)
    hive = "true" if any("=" in e.public.rsplit("/", 1)[0] for e in entries) else "false"
    if spec.fmt == "csv":
        return _csv_sql(spec, paths, hive, cursor, public_text)
    if spec.fmt == "json":
        return _json_sql(spec, paths, hive, cursor, public_text)
    return _parquet_sql(spec, paths, hive, cursor, public_text)


def _glob_match(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern.replace("[^", "[!"))


def _params(params: dict[str, object]) -> str:
    return "".join(f", {key}={_value(value)}" for key, value in params.items() if value is not None)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        items = ", ".join(f"{value_sql(str(k))}: {value_sql(str(v))}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(value_sql(str(v)) for v in value) + "]"
    return value_sql(value)


def _describe(
    sql: str, cursor: duckdb.DuckDBPyConnection, public_text: PublicText
) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a reader's columns."""
    try:
        rows = cursor.execute(f"DESCRIBE SELECT * FROM {sql}").fetchall()
    except duckdb.Error as exc:
        raise read_error(exc, public_text) from exc
    return [(str(r[0]), str(r[1])) for r in rows]


def read_error(exc: duckdb.Error, public_text: PublicText) -> SqlError:
    """A reader's failure, worded with public paths."""
    text = public_text(str(exc).split("\n\nLINE ")[0]).removeprefix("Invalid Input Error: ")
    if isinstance(exc, duckdb.InvalidInputException | duckdb.ConversionException):
        return SqlError(
            "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION",
            f"Malformed records are detected in record parsing: {text.splitlines()[0]}",
            "22023",
        )
    return errors.from_duckdb(exc, lambda name: (name,), public_text)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _schema(text: str, key: str) -> list[tuple[str, str]]:
    """A DDL column list (``id INT, name STRING``) as (name, DuckDB type) pairs."""
    try:
        tree = sqlglot.parse_one(f"CREATE TABLE t ({text})", read=READ)
    except (ParseError, TokenError) as exc:
        raise SqlError(
            "PARSE_SYNTAX_ERROR", f"Syntax error in the {key} option: {text[:80]}", "42601"
        ) from exc
    out = []
    for column in tree.find_all(exp.ColumnDef):
        kind = column.args.get("kind")
        duck = kind.sql(dialect=WRITE) if kind is not None else "VARCHAR"
        out.append((column.name, duck))
    return out


def _spark_type(duck: str, fmt: str) -> str:
    """The type Databricks' inference gives a column DuckDB's sniffer typed ``duck``."""
    if _AS_STRING.match(duck) or (fmt == "json" and duck in ("DATE", "TIMESTAMP")):
        return "VARCHAR"
    if duck in ("HUGEINT", "UBIGINT"):
        return "DECIMAL(38,0)"
    return duck


def _hints(spec: ReadSpec) -> dict[str, tuple[str, str]]:
    text = spec.option("schemaHints")
    return {n.lower(): (n, t) for n, t in _schema(text, "schemaHints")} if text else {}


def _with_hints(spec: ReadSpec, columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Inferred columns with ``schemaHints`` applied (hinted columns the files lack are added)."""
    hints = _hints(spec)
    out = [(n, hints.pop(n.lower(), (n, t))[1]) for n, t in columns]
    return out + list(hints.values())


def _rescued(spec: ReadSpec) -> list[str]:
    if not spec.rescue or spec.option("schema"):
        return []
    name = spec.option("rescuedDataColumn") or RESCUED
    return [f"CAST(NULL AS VARCHAR) AS {_ident(name)}"]


def _select(spec: ReadSpec, items: list[str], reader: str) -> str:
    """``SELECT items FROM reader``, with Databricks' hidden ``_metadata`` column when the
    statement reads it (the reader names each row's file; the file facts are joined on)."""
    if not spec.metadata:
        return f"SELECT {', '.join(items)} FROM {reader}"
    reader = reader[:-1] + f", filename={value_sql(_FILE)})"
    facts = ", ".join(
        f"({value_sql(str(e.real))}, {value_sql('dbfs:' + e.public)}, {value_sql(e.name)}, "
        f"{e.size}, make_timestamp({e.mtime_ms * 1000}))"
        for e in spec.entries
    )
    metadata = (
        f"struct_pack(file_path := {_FACTS}_path, file_name := {_FACTS}_name, "
        f"file_size := {_FACTS}_size, file_modification_time := {_FACTS}_mtime) AS {METADATA}"
    )
    names = ", ".join(f"{_FACTS}_{n}" for n in ("real", "path", "name", "size", "mtime"))
    return (
        f"SELECT {', '.join([*items, metadata])} FROM {reader} JOIN (VALUES {facts}) "
        f"AS {_FACTS}({names}) ON {_FILE} = {_FACTS}_real"
    )


def _date_formats(spec: ReadSpec) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, duck in (("dateFormat", "dateformat"), ("timestampFormat", "timestampformat")):
        value = spec.option(key)
        if value:
            for java, c in _JAVA_DATE:
                value = value.replace(java, c)
            out[duck] = value.replace("'T'", "T")
    return out


def _csv_sql(
    spec: ReadSpec, paths: str, hive: str, cursor: duckdb.DuckDBPyConnection, public: PublicText
) -> str:
    header = spec.flag("header")
    mode = (spec.option("mode") or "PERMISSIVE").upper()
    params: dict[str, object] = {
        "header": header,
        "delim": spec.option("sep", "delimiter") or ",",
        "quote": spec.option("quote"),
        "escape": spec.option("escape"),
        "comment": spec.option("comment"),
        "nullstr": spec.option("nullValue"),
        "skip": int(spec.option("skipRows") or 0) or None,
        "encoding": _encoding(spec.option("encoding", "charset")),
        "ignore_errors": mode == "DROPMALFORMED",
        "null_padding": mode != "FAILFAST",
        "strict_mode": mode == "FAILFAST",
        "hive_partitioning": hive == "true",
        "union_by_name": header,
        **_date_formats(spec),
    }
    schema = spec.option("schema")
    if schema:
        columns = _schema(schema, "schema")
        params["columns"] = dict(columns)
        params.pop("union_by_name")
        items = [_ident(n) for n, _ in columns]
        return _select(spec, items, f"read_csv({paths}{_params(params)})")
    if spec.infer:
        params |= {"auto_type_candidates": _CSV_TYPES, "sample_size": -1}
    else:
        params["all_varchar"] = True
    hints = _hints(spec)
    source = _describe(f"read_csv({paths}{_params(params)})", cursor, public)
    names = [n if header else f"_c{i}" for i, (n, _) in enumerate(source)]
    # The read itself takes the types found (and hinted), so it does not sniff them again.
    keys = _partition_keys(spec.entries) if hive == "true" else set()
    types = {
        src: hints[dst.lower()][1] if dst.lower() in hints else duck
        for (src, duck), dst in zip(source, names, strict=True)
        if src not in keys
    }
    for key in ("auto_type_candidates", "sample_size", "all_varchar"):
        params.pop(key, None)
    params["types"] = types if header else list(types.values())
    items = [f"{_ident(src)} AS {_ident(dst)}" for (src, _), dst in zip(source, names, strict=True)]
    known = {n.lower() for n in names}
    items += [f"CAST(NULL AS {t}) AS {_ident(n)}" for k, (n, t) in hints.items() if k not in known]
    return _select(spec, [*items, *_rescued(spec)], f"read_csv({paths}{_params(params)})")


def _partition_keys(entries: list[FileEntry]) -> set[str]:
    """Names of the ``key=value`` folders the files sit in (Hive-style partitions)."""
    folders = {part for e in entries for part in e.public.split("/")[5:-1]}
    return {part.split("=", 1)[0] for part in folders if "=" in part}


def _encoding(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.lower().replace("_", "-")
    if lowered in ("utf-8", "utf8"):
        return None
    if lowered in ("iso-8859-1", "latin1", "latin-1"):
        return "latin-1"
    if lowered in ("utf-16", "utf16"):
        return "utf-16"
    raise errors.unsupported(f"The {value} encoding")


def _json_sql(
    spec: ReadSpec, paths: str, hive: str, cursor: duckdb.DuckDBPyConnection, public: PublicText
) -> str:
    params: dict[str, object] = {
        "format": "auto",
        "hive_partitioning": hive == "true",
        "union_by_name": True,
        **_date_formats(spec),
    }
    schema = spec.option("schema")
    if schema:
        columns = _schema(schema, "schema")
    else:
        source = _describe(f"read_json({paths}{_params(params)})", cursor, public)
        strings = spec.flag("primitivesAsString")
        inferred = [
            (n, "VARCHAR" if strings and "(" not in t and "[" not in t else _spark_type(t, "json"))
            for n, t in source
        ]
        # Spark's JSON inference orders the fields by name.
        columns = _with_hints(spec, sorted(inferred, key=lambda c: c[0]))
    params["columns"] = dict(columns)
    params.pop("union_by_name")
    items = [_ident(n) for n, _ in columns]
    return _select(spec, [*items, *_rescued(spec)], f"read_json({paths}{_params(params)})")


def _parquet_sql(
    spec: ReadSpec, paths: str, hive: str, cursor: duckdb.DuckDBPyConnection, public: PublicText
) -> str:
    reader = f"read_parquet({paths}, union_by_name=true, hive_partitioning={hive})"
    source = _describe(reader, cursor, public)
    schema = spec.option("schema")
    present = {n.lower(): n for n, _ in source}
    wanted = _schema(schema, "schema") if schema else _with_hints(spec, source)
    items = []
    for name, duck in wanted:
        src = present.get(name.lower())
        value = _ident(src) if src else "NULL"
        items.append(f"CAST({value} AS {duck}) AS {_ident(name)}")
    return _select(spec, items, reader)


def _text_sql(spec: ReadSpec, paths: str) -> str:
    if spec.flag("wholetext"):
        return f"SELECT content AS value FROM read_text({paths})"
    sep = spec.option("lineSep")
    # One row per line (\n, \r\n; or lineSep), the last line's terminator dropped.
    body = "replace(content, chr(13) || chr(10), chr(10))"
    split = value_sql(sep) if sep else "chr(10)"
    return (
        f"SELECT unnest(string_split(regexp_replace({body}, '\\n$', ''), {split})) "
        f"AS value FROM read_text({paths}) WHERE content <> ''"
    )


def _binary_sql(entries: list[FileEntry], paths: str) -> str:
    cases = " ".join(
        f"WHEN {value_sql(str(e.real))} THEN {value_sql('dbfs:' + e.public)}" for e in entries
    )
    return (
        f"SELECT CASE filename {cases} END AS path, "
        "timezone('UTC', last_modified) AS modificationTime, size AS length, content "
        f"FROM read_blob({paths})"
    )
