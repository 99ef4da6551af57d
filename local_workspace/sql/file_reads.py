"""Databricks' file readers in a statement: ``read_files(...)`` and ``csv.`/Volumes/...```.

Each reader is replaced, before translation, by a DuckDB subquery (:mod:`file_formats`)
over an explicit list of files that :mod:`volume_paths` resolved and checked: the user's SQL
never names a host path and DuckDB never expands a pattern. ``read_files`` takes its options
by name (unknown ones are refused as Auto Loader refuses them) and infers its schema;
``csv.`path``` reads like Spark's ``spark.read.csv``: no header, every column a STRING.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import sqlglot
from sqlglot import exp

from local_workspace.sql import errors
from local_workspace.sql.errors import SqlError
from local_workspace.sql.file_formats import FORMATS, METADATA, ReadSpec, reader_sql
from local_workspace.sql.translate import WRITE, Param
from local_workspace.sql.volume_paths import FileEntry, files, resolve

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

READER = "read_files"
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


def unknown_options(keys: list[str]) -> SqlError:
    """What read_files answers for an option it does not know (Auto Loader's check)."""
    return SqlError(
        "CF_UNKNOWN_OPTION_KEYS_ERROR",
        f"Found unknown option keys: {', '.join(keys)}. Please make sure that all provided "
        "option keys are correct.",
        "42000",
    )


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
    metadata = reads_metadata(tree)
    for table in list(tree.find_all(exp.Table)):
        if is_reader(table):
            _bind(table.this, params or [])
            spec = read_files_spec(table.this, catalog)
        elif is_file_table(table):
            spec = path_spec(table.db.lower(), table.name, catalog)
        else:
            continue
        spec.metadata = metadata
        if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() != "TABLE":
            # A stored definition (view, function) would keep the files' host paths.
            raise errors.unsupported(
                "A view or function over files (create a table from the files instead)"
            )
        select = sqlglot.parse_one(reader_sql(spec, cursor, catalog.engine.public_text), read=WRITE)
        alias = table.args.get("alias")
        subquery = exp.Subquery(this=select, alias=alias.copy() if alias else None)
        table.replace(subquery)
        if metadata:
            hide_metadata(subquery)


def reads_metadata(tree: exp.Expr) -> bool:
    """Whether a statement reads Databricks' hidden ``_metadata`` column of file reads."""
    return any(node.name.lower() == METADATA for node in tree.find_all(exp.Column, exp.Identifier))


def hide_metadata(source: exp.Expression) -> None:
    """``_metadata`` is hidden: ``*`` over a file read does not list it."""
    select = source.parent_select
    if select is None:
        return
    for star in select.expressions:
        inner = star.this if isinstance(star, exp.Column) else star
        if isinstance(inner, exp.Star):
            inner.set("except_", [*(inner.args.get("except_") or []), exp.column(METADATA)])


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
