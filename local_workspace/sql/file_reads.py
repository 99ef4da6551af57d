"""Databricks' file readers on volume files: ``read_files(...)`` and ``csv.`/Volumes/...```.

Each reader in a statement is replaced, before translation, by a DuckDB subquery over an
explicit list of files that :mod:`volume_paths` resolved and checked (the user's SQL never
names a host path; DuckDB never expands a pattern). Columns come out as Databricks gives
them: ``read_files`` infers types (CSV integers as INT, JSON fields sorted by name, JSON
strings left as strings), names headerless CSV columns ``_c0``, ``_c1``..., applies
``schema``/``schemaHints`` and adds ``_rescued_data`` when it infers a CSV or JSON schema.
``csv.`path``` reads like Spark's ``spark.read.csv``: no header, every column a STRING.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from local_workspace.sql import errors
from local_workspace.sql.errors import SqlError
from local_workspace.sql.translate import READ, WRITE, Param, value_sql
from local_workspace.sql.volume_paths import FileEntry, files, resolve

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

READER = "read_files"
# Formats Databricks reads; the local workspace reads the first five.
LOCAL_FORMATS = ("csv", "json", "parquet", "text", "binaryfile")
FORMATS = (*LOCAL_FORMATS, "avro", "orc", "xml", "delta")
EXTENSIONS = {
    "csv": "csv",
    "tsv": "csv",
    "json": "json",
    "jsonl": "json",
    "ndjson": "json",
    "parquet": "parquet",
    "txt": "text",
    "avro": "avro",
    "orc": "orc",
    "xml": "xml",
}
RESCUED = "_rescued_data"
# Turns engine text (host paths, internal names) into what a client may see.
PublicText = Callable[[str], str]
# Options Databricks documents for read_files (generic, CSV, JSON, text, parquet, Auto
# Loader): accepted; those marked in _apply_* change the read, the others are no-ops here.
KNOWN_OPTIONS = frozenset(
    """format schema schemahints header inferschema infercolumntypes sep delimiter quote
    escape comment nullvalue emptyvalue nanvalue positiveinf negativeinf dateformat
    timestampformat timestampntzformat multiline encoding charset linesep skiprows mode
    columnnameofcorruptrecord rescueddatacolumn ignoreleadingwhitespace
    ignoretrailingwhitespace enforceschema maxcharspercolumn maxcolumns
    unescapedquotehandling locale preferdate samplingratio primitivesasstring
    prefersdecimal allowcomments allowunquotedfieldnames allowsinglequotes
    allownumericleadingzeros allowbackslashescapingany allowunquotedcontrolchars
    allownonnumericnumbers dropfieldifallnull timezone wholetext pathglobfilter
    filenamepattern recursivefilelookup modifiedafter modifiedbefore ignorecorruptfiles
    ignoremissingfiles mergeschema datetimerebasemode int96rebasemode partitioncolumns
    schemaevolutionmode usestrictglobber includeexistingfiles singlevariantcolumn
    readercasesensitive rowtag attributeprefix valuetag avroschema
    charToEscapeQuoteEscaping""".lower().split()
)
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


def unknown_options(keys: list[str]) -> SqlError:
    """What read_files answers for an option it does not know (Auto Loader's check)."""
    return SqlError(
        "CF_UNKNOWN_OPTION_KEYS_ERROR",
        f"Found unknown option keys: {', '.join(keys)}. Please make sure that all provided "
        "option keys are correct.",
        "42000",
    )


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


# -- statement rewriting -------------------------------------------------------------------


def is_file_table(table: exp.Table) -> bool:
    """``csv.`/Volumes/...``` and friends: a format qualifier and a path."""
    return (
        isinstance(table.this, exp.Identifier)
        and not table.catalog
        and table.db.lower() in FORMATS
        and "/" in table.name
    )


def is_reader(table: exp.Table) -> bool:
    """``FROM read_files(...)``."""
    return isinstance(table.this, exp.Anonymous) and str(table.this.name).lower() == READER


def rewrite(
    tree: exp.Expression,
    catalog: Catalog,
    cursor: duckdb.DuckDBPyConnection,
    params: list[Param] | None = None,
) -> None:
    """Replace every file reader of ``tree`` (in place) by a DuckDB subquery on volume files;
    ``:name`` markers in read_files' arguments take the request's ``params``."""
    for table in list(tree.find_all(exp.Table)):
        if is_reader(table):
            _bind(table.this, params or [])
            spec = read_files_spec(table.this, catalog)
        elif is_file_table(table):
            spec = path_spec(table.db.lower(), table.name, catalog)
        else:
            continue
        if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "VIEW":
            raise errors.unsupported("A view over files (create a table from the files instead)")
        select = sqlglot.parse_one(reader_sql(spec, cursor, catalog.engine.public_text), read=WRITE)
        alias = table.args.get("alias")
        table.replace(exp.Subquery(this=select, alias=alias.copy() if alias else None))


def _bind(call: exp.Expression, params: list[Param]) -> None:
    """read_files' arguments are constants: parameter markers become their values."""
    by_name = {p.name.lower(): p for p in params}
    for marker in list(call.find_all(exp.Placeholder)):
        param = by_name.get(str(marker.name or "").lower())
        if param is None:
            raise errors.unbound_parameter(str(marker.name or "?"))
        marker.replace(exp.Literal.string(param.value or ""))


def options_of(call: exp.Anonymous) -> tuple[str, dict[str, str]]:
    """The path and the ``name => value`` options of a read_files call."""
    args = list(call.expressions)
    if not args or not isinstance(args[0], exp.Literal) or not args[0].is_string:
        raise SqlError(
            "REQUIRED_PARAMETER_NOT_FOUND",
            "Cannot invoke routine `read_files` because the parameter named `path` is "
            "required, but the routine call did not supply a value. Please update the "
            "routine call to supply an argument value (either positionally at index 0 or "
            "by name) and retry the query again.",
            "4274K",
        )
    options: dict[str, str] = {}
    for arg in args[1:]:
        if not isinstance(arg, exp.Kwarg):
            raise SqlError(
                "UNEXPECTED_POSITIONAL_ARGUMENT",
                "Cannot invoke routine `read_files` because it contains positional "
                "argument(s) following the named argument; read_files takes its options by "
                "name: read_files(path, format => 'csv', header => true).",
                "4274K",
            )
        key = arg.this.name.strip("`")
        options[key.lower()] = _constant(arg.expression, key)
    unknown = [k for k in options if k not in KNOWN_OPTIONS and not k.startswith("cloudfiles.")]
    if unknown:
        raise unknown_options(unknown)
    return args[0].name, options


def _constant(value: exp.Expression, key: str) -> str:
    if isinstance(value, exp.Boolean):
        return "true" if value.this else "false"
    if isinstance(value, exp.Literal):
        return str(value.name)
    if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal):
        return "-" + str(value.this.name)
    raise SqlError(
        "NON_FOLDABLE_ARGUMENT",
        f"The function `read_files` requires the parameter `{key}` to be a foldable "
        "expression of the type STRING, but the actual argument is a non-foldable.",
        "42K08",
    )


def read_files_spec(call: exp.Anonymous, catalog: Catalog) -> ReadSpec:
    """The read a ``read_files(...)`` call asks for (path checked, files listed)."""
    path, options = options_of(call)
    entries = files(resolve(path, catalog.volumes))
    fmt = (options.get("format") or infer_format(entries, path)).lower()
    infer = options.get("infercolumntypes", options.get("inferschema", "true")).lower() != "false"
    return ReadSpec(fmt, entries, options, rescue=True, infer=infer)


def path_spec(fmt: str, path: str, catalog: Catalog) -> ReadSpec:
    """``fmt.`path```: Spark's reader defaults (CSV without header, all strings)."""
    entries = files(resolve(path, catalog.volumes))
    return ReadSpec(fmt, entries, {}, rescue=False, infer=False)


def infer_format(entries: list[FileEntry], path: str) -> str:
    """The format the files' extensions name, when they all name the same one."""
    found = {EXTENSIONS.get(e.name.rsplit(".", 1)[-1].lower(), "") for e in entries}
    if len(found) == 1 and "" not in found:
        return found.pop()
    raise SqlError(
        "CF_UNABLE_TO_DETECT_FILE_FORMAT",
        f"Could not detect the file format of the files under {path}: name it with "
        "format => 'csv' | 'json' | 'parquet' | 'text' | 'binaryFile'.",
        "42000",
    )


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


def _rescued(spec: ReadSpec) -> str:
    if not spec.rescue or spec.option("schema"):
        return ""
    name = spec.option("rescuedDataColumn") or RESCUED
    return f", CAST(NULL AS VARCHAR) AS {_ident(name)}"


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
        return f"SELECT * FROM read_csv({paths}{_params(params)})"
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
    return f"SELECT {', '.join(items)}{_rescued(spec)} FROM read_csv({paths}{_params(params)})"


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
    items = ", ".join(_ident(n) for n, _ in columns)
    return f"SELECT {items}{_rescued(spec)} FROM read_json({paths}{_params(params)})"


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
    return f"SELECT {', '.join(items)} FROM {reader}"


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
