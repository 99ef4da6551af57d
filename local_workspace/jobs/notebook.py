"""Run a Databricks source notebook cell by cell, in one namespace, as ``__main__``.

Python cells are compiled with the notebook path as filename and their real line numbers,
so tracebacks point at the notebook's lines. ``%md`` cells are skipped, ``%sql`` cells go
through ``spark.sql``, ``%pip install`` of packages the environment already has is skipped
with a note, ``%run`` runs a workspace notebook in the same namespace, ``%fs`` is
``dbutils.fs``; what needs a cluster (``%sh``, ``%scala``, ``%r``) fails the task with a clear
message.
"""

from __future__ import annotations

import ast
import base64
import linecache
import re
import shlex
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from local_workspace.jobs.dbutils import DBUtils
from local_workspace.jobs.libraries import LibraryUnavailable, check_requirement
from local_workspace.notebook_format import COMMENT
from local_workspace.spark import AnalysisException, DataFrame, SparkSession, display

MAX_RUN_DEPTH = 8
_HEADER = re.compile(r"^(#|--|//) Databricks notebook source\s*$")
_LANGUAGE_OF_PREFIX = {"#": "PYTHON", "--": "SQL", "//": "SCALA"}
_RUN_ARG = re.compile(r"^\$(\w+)=(.*)$", re.S)
_FS_COMMANDS = ("ls", "head", "put", "mkdirs", "cp", "mv", "rm")
_PIP_HINT = "install it in the project environment (%pip is not available in the local workspace)"


class TaskError(Exception):
    """A notebook the local workspace cannot run as written: the message says why."""


@dataclass
class Cell:
    """One cell: its first line's number in the notebook (1-based) and its lines."""

    number: int
    first_line: int
    lines: list[str]


def notebook_language(source: str, language: str) -> str:
    """The notebook's language: its header's comment style, else the stated one."""
    match = _HEADER.match(source.split("\n", 1)[0].rstrip("\r"))
    if match:
        prefix = match.group(1)
        if prefix == "#" and language.upper() == "R":
            return "R"  # R notebooks use # comments too
        return _LANGUAGE_OF_PREFIX[prefix]
    return language.upper()


def parse_cells(source: str, language: str) -> list[Cell]:
    """The cells of a notebook source (the header line is not a cell line)."""
    comment = COMMENT.get(language, "#")
    separator = re.compile(rf"^\s*{re.escape(comment)} COMMAND -+\s*$")
    lines = source.replace("\r\n", "\n").split("\n")
    start = 1 if lines and _HEADER.match(lines[0]) else 0
    cells: list[Cell] = []
    current: list[str] = []
    first = start + 1
    for number, line in enumerate(lines[start:], start + 1):
        if separator.match(line):
            cells.append(Cell(len(cells) + 1, first, current))
            current, first = [], number + 1
        else:
            current.append(line)
    cells.append(Cell(len(cells) + 1, first, current))
    return cells


def run_notebook(
    source: str,
    path: str,
    language: str,
    namespace: dict[str, Any],
    spark: SparkSession,
    dbutils: DBUtils,
    depth: int = 0,
) -> None:
    """Run every cell; exceptions of the notebook's code propagate as they are."""
    language = notebook_language(source, language)
    if language not in ("PYTHON", "SQL"):
        raise TaskError(
            f"{path} is a {language.title()} notebook: it needs a Databricks cluster; the local "
            "workspace runs Python and SQL notebooks."
        )
    # Tracebacks read source lines through linecache: give it the notebook's text.
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    runner = _Runner(path, language, namespace, spark, dbutils, depth)
    for cell in parse_cells(source, language):
        runner.run(cell)


class _Runner:
    def __init__(
        self,
        path: str,
        language: str,
        namespace: dict[str, Any],
        spark: SparkSession,
        dbutils: DBUtils,
        depth: int,
    ) -> None:
        self.path = path
        self.language = language
        self.namespace = namespace
        self.spark = spark
        self.dbutils = dbutils
        self.depth = depth

    def run(self, cell: Cell) -> None:
        magic_prefix = f"{COMMENT[self.language]} MAGIC"
        lines = cell.lines
        content = [line for line in lines if line.strip()]
        if not content:
            return
        if all(line.lstrip().startswith(magic_prefix) for line in content):
            lines = [_strip_magic(line, magic_prefix) for line in lines]
        offset = next(i for i, line in enumerate(lines) if line.strip())
        head = lines[offset].strip()
        if not head.startswith("%"):
            self._code(self.language, lines, cell.first_line)
            return
        magic, _, rest = head.partition(" ")
        body = lines[offset + 1 :]
        body_line = cell.first_line + offset + 1
        where = f"{self.path}, cell {cell.number} (line {cell.first_line + offset})"
        if magic in ("%md", "%md-sandbox", "%skip"):
            return
        if magic in ("%python", "%sql"):
            code = ([rest] if rest.strip() else []) + body
            first = body_line - 1 if rest.strip() else body_line
            self._code(magic[1:].upper(), code, first)
        elif magic == "%pip":
            self._pip(" ".join([rest, *body]), where)
        elif magic == "%restart_python":
            print("%restart_python: nothing to restart in the local workspace.", flush=True)
        elif magic == "%run":
            self._run_notebook(rest, where)
        elif magic == "%fs":
            self._fs(" ".join([rest, *body]), where)
        else:
            raise TaskError(
                f"{where}: {magic} is not available in the local workspace (it needs a "
                "Databricks cluster); the local workspace runs Python and SQL cells."
            )

    def _code(self, language: str, lines: list[str], first_line: int) -> None:
        if language == "SQL":
            self._sql("\n".join(lines), first_line)
        else:
            _run_python(lines, first_line, self.path, self.namespace)

    def _sql(self, text: str, first_line: int) -> None:
        widgets = self.dbutils.widgets.getAll()
        # Legacy ${name} references are text substitution; :name markers are bound values.
        text = re.sub(r"\$\{(\w+)\}", lambda m: widgets.get(m.group(1), m.group(0)), text)
        statements = split_sql(text)
        for index, statement in enumerate(statements):
            try:
                result: DataFrame = self.spark.sql(statement, dict(widgets))
                # As on Databricks, the last statement's result is shown (queries run here).
                if index == len(statements) - 1 and result.columns:
                    display(result)
            except (AnalysisException, NotImplementedError, OSError) as exc:
                if sys.version_info >= (3, 11):  # notes show under the error in the trace
                    exc.add_note(f"in the SQL cell at {self.path}, line {first_line}")
                raise

    def _fs(self, arguments: str, where: str) -> None:
        """``%fs <command> [-r] args``: shorthand for ``dbutils.fs.<command>(args)``."""
        words = shlex.split(arguments)
        if not words or words[0] not in _FS_COMMANDS:
            raise TaskError(f"{where}: %fs takes one of {', '.join(_FS_COMMANDS)} and its paths.")
        command, args = words[0], [w for w in words[1:] if w not in ("-r", "--recurse")]
        recurse = {"recurse": True} if len(args) < len(words) - 1 else {}
        result = getattr(self.dbutils.fs, command)(*args, **recurse)
        if isinstance(result, list):
            _print_file_infos(result)
        elif result is not None:
            print(result, flush=True)

    def _pip(self, arguments: str, where: str) -> None:
        words = shlex.split(arguments)
        if not words or words[0] != "install":
            raise TaskError(
                f"{where}: %pip {arguments.strip()} is not available locally; "
                "change packages in the project environment."
            )
        requirements = [w for w in words[1:] if not w.startswith("-")]
        if any(w in ("-r", "--requirement", "-e", "--editable") for w in words[1:]):
            raise TaskError(f"{where}: %pip {arguments.strip()}: {_PIP_HINT}.")
        for requirement in requirements:
            try:
                note = check_requirement(requirement, "%pip install")
            except LibraryUnavailable:
                raise TaskError(
                    f"{where}: %pip install {requirement}: the package is not installed; "
                    f"{_PIP_HINT}."
                ) from None
            print(f"{note} (%pip skipped)", flush=True)

    def _run_notebook(self, arguments: str, where: str) -> None:
        if self.depth >= MAX_RUN_DEPTH:
            raise TaskError(f"{where}: %run nested more than {MAX_RUN_DEPTH} deep.")
        words = shlex.split(arguments)
        if not words:
            raise TaskError(f"{where}: %run needs a notebook path.")
        target = _resolve(self.path, words[0])
        overrides = {}
        for word in words[1:]:
            match = _RUN_ARG.match(word)
            if not match:
                raise TaskError(f"{where}: %run argument {word!r} is not $name=value.")
            overrides[match.group(1)] = match.group(2)
        query = f"path={quote(target, safe='/')}&format=SOURCE"
        try:
            answer = self.spark._client.request("GET", f"/api/2.0/workspace/export?{query}")
        except (AnalysisException, NotImplementedError, OSError) as exc:
            raise TaskError(f"{where}: %run {target}: {exc}") from None
        source = base64.b64decode(answer.get("content") or "").decode("utf-8", "replace")
        widgets = self.dbutils.widgets
        saved = dict(widgets._parameters)
        widgets._parameters.update(overrides)
        try:
            run_notebook(
                source, target, "PYTHON", self.namespace, self.spark, self.dbutils, self.depth + 1
            )
        finally:
            widgets._parameters = saved


def _print_file_infos(infos: list[Any]) -> None:
    """``%fs ls`` output: one line per entry, as the notebook's table shows them."""
    print("path\tname\tsize\tmodificationTime", flush=True)
    for info in infos:
        print(f"{info.path}\t{info.name}\t{info.size}\t{info.modificationTime}", flush=True)


def _run_python(lines: list[str], first_line: int, path: str, namespace: dict[str, Any]) -> None:
    # Leading newlines put every statement on its notebook line, for tracebacks.
    text = "\n" * (first_line - 1) + "\n".join(lines) + "\n"
    tree = ast.parse(text, path)
    last: ast.Expression | None = None
    final = tree.body[-1] if tree.body else None
    if isinstance(final, ast.Expr):
        # As in a notebook, the value of a cell's final expression is shown.
        tree.body.pop()
        last = ast.Expression(final.value)
    exec(compile(tree, path, "exec", dont_inherit=True), namespace)
    if last is not None:
        value = eval(compile(last, path, "eval", dont_inherit=True), namespace)
        if value is not None:
            print(repr(value), flush=True)


def _strip_magic(line: str, prefix: str) -> str:
    text = line.lstrip()
    if not text.startswith(prefix):
        return line
    text = text[len(prefix) :]
    return text[1:] if text.startswith(" ") else text


def _resolve(path: str, target: str) -> str:
    if target.startswith("/"):
        return target
    parts = path.split("/")[:-1]
    for part in target.split("/"):
        if part == "..":
            parts = parts[:-1]
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts) or "/"


def split_sql(text: str) -> list[str]:
    """The statements of a SQL cell: split on ``;`` outside quotes and comments."""
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        char = text[i]
        if quote:
            current.append(char)
            if char == "\\" and quote != "`" and i + 1 < n:
                current.append(text[i + 1])
                i += 1
            elif char == quote:
                quote = None
        elif char in "'\"`":
            quote = char
            current.append(char)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif char == ";":
            statements.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    statements.append("".join(current))
    return [s.strip() for s in statements if s.strip()]
