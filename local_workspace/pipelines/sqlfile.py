"""Pipeline SQL source files: statements with their line numbers, and the dataset definitions.

``CREATE OR REFRESH {STREAMING TABLE | MATERIALIZED VIEW | LIVE TABLE} name [(columns,
CONSTRAINT c EXPECT (cond) [ON VIOLATION {DROP ROW | FAIL UPDATE}])] [COMMENT '...']
[TBLPROPERTIES (...)] [PARTITIONED BY (...)] [CLUSTER BY (...)] [AS query]``, plus
``CREATE [TEMPORARY] [LIVE] VIEW``. The header is read by a small string-aware scanner (sqlglot
does not know the syntax); the query is left to sqlglot by the runner.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MATERIALIZED_VIEW = "MATERIALIZED_VIEW"
STREAMING_TABLE = "STREAMING_TABLE"
VIEW = "VIEW"


class PipelineSqlError(Exception):
    """A pipeline source that cannot be read; the message names the file and line."""


@dataclass
class Statement:
    """One statement of a source file: its text and the line it starts on."""

    text: str
    path: str
    line: int

    @property
    def where(self) -> str:
        """``path:line`` for messages."""
        return f"{self.path}, line {self.line}"


@dataclass
class Expectation:
    """``CONSTRAINT name EXPECT (condition) [ON VIOLATION ...]``."""

    name: str
    condition: str
    action: str = "WARN"  # WARN | DROP | FAIL


@dataclass
class Dataset:
    """A dataset the pipeline defines."""

    name: str
    kind: str
    query: str | None
    statement: Statement
    expectations: list[Expectation] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    comment: str | None = None


_HEADER = re.compile(
    r"^\s*CREATE\s+(?:OR\s+(?:REFRESH|REPLACE)\s+)?"
    r"(?P<kind>STREAMING\s+(?:LIVE\s+)?TABLE|MATERIALIZED\s+VIEW|LIVE\s+TABLE|"
    r"(?:TEMPORARY\s+)?(?:LIVE\s+)?VIEW|TEMPORARY\s+STREAMING\s+(?:LIVE\s+)?TABLE)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>(?:`[^`]+`|[\w$]+)(?:\s*\.\s*(?:`[^`]+`|[\w$]+))*)",
    re.IGNORECASE,
)
_CONSTRAINT = re.compile(
    r"^CONSTRAINT\s+(?P<name>`[^`]+`|[\w$]+)\s+EXPECT\s*\((?P<cond>.*)\)\s*"
    r"(?:ON\s+VIOLATION\s+(?P<action>DROP\s+ROW|FAIL\s+UPDATE))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_AS = re.compile(r"\bAS\b", re.IGNORECASE)
_COMMENT = re.compile(r"\bCOMMENT\s+'((?:[^']|'')*)'", re.IGNORECASE)


def split_statements(source: str, path: str) -> list[Statement]:
    """The statements of ``source`` split on top-level ``;`` (strings and comments skipped)."""
    statements: list[Statement] = []
    current: list[str] = []
    start_line: int | None = None
    line = 1
    i, n = 0, len(source)
    quote: str | None = None
    while i < n:
        ch = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if quote is None and ch == "-" and nxt == "-":
            end = source.find("\n", i)
            end = n if end < 0 else end
            current.append(" ")
            i = end
            continue
        if quote is None and ch == "/" and nxt == "*":
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            line += source.count("\n", i, end)
            current.append(" ")
            i = end
            continue
        if quote is None and ch in "'\"`":
            quote = ch
        elif quote is not None and ch == quote:
            quote = None
        elif quote in ("'", '"') and ch == "\\":
            current.append(ch + nxt)
            line += nxt == "\n"
            i += 2
            continue
        if quote is None and ch == ";":
            _flush(statements, current, start_line, path)
            current, start_line = [], None
        else:
            if start_line is None and not ch.isspace():
                start_line = line
            current.append(ch)
        line += ch == "\n"
        i += 1
    if quote is not None:
        raise PipelineSqlError(
            f"{path}, line {start_line or line}: unterminated {quote} quote in the statement."
        )
    _flush(statements, current, start_line, path)
    return statements


def _flush(out: list[Statement], chars: list[str], line: int | None, path: str) -> None:
    text = "".join(chars).strip()
    if text and line is not None:
        out.append(Statement(text, path, line))


def _top_level(text: str) -> list[tuple[int, str]]:
    """(position, char) of characters outside strings/backticks and at paren depth 0."""
    found: list[tuple[int, str]] = []
    depth = 0
    quote: str | None = None
    for pos, ch in enumerate(text):
        if quote is not None:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "(":
            if depth == 0:
                found.append((pos, ch))
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                found.append((pos, ch))
        elif depth == 0:
            found.append((pos, ch))
    return found


def _split_commas(text: str) -> list[str]:
    """``text`` split on commas outside parens and strings."""
    parts: list[str] = []
    depth, start = 0, 0
    quote: str | None = None
    for pos, ch in enumerate(text):
        if quote is not None:
            quote = None if ch == quote else quote
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:pos].strip())
            start = pos + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _kind(words: str) -> str:
    words = " ".join(words.upper().split())
    if "STREAMING" in words:
        return STREAMING_TABLE
    if "VIEW" in words and "MATERIALIZED" not in words:
        return VIEW
    return MATERIALIZED_VIEW


def parse_dataset(statement: Statement) -> Dataset | None:
    """The dataset a ``CREATE ...`` statement defines; None for other statements."""
    match = _HEADER.match(statement.text)
    if match is None:
        return None
    name = match.group("name").replace("`", "").replace(" ", "")
    rest = statement.text[match.end() :]
    dataset = Dataset(
        name=name.split(".")[-1] if name.lower().startswith("live.") else name,
        kind=_kind(match.group("kind")),
        query=None,
        statement=statement,
    )
    chars = _top_level(rest)
    body_start = 0
    first = len(rest) - len(rest.lstrip())
    if rest[first : first + 1] == "(":
        close = next((p for p, c in chars if c == ")" and p > first), None)
        if close is None:
            raise PipelineSqlError(f"{statement.where}: unbalanced parentheses after {name}.")
        _schema_block(rest[first + 1 : close], dataset)
        body_start = close + 1
    top = {pos for pos, _ in chars}
    flat = "".join(c if pos in top else " " for pos, c in enumerate(rest))
    as_match = _AS.search(flat, body_start)
    clauses = rest[body_start : as_match.start() if as_match else len(rest)]
    comment = _COMMENT.search(clauses)
    if comment is not None:
        dataset.comment = comment.group(1).replace("''", "'")
    if as_match is not None:
        dataset.query = rest[as_match.end() :].strip()
        if not dataset.query:
            raise PipelineSqlError(f"{statement.where}: {name} has AS but no query.")
    elif dataset.kind != STREAMING_TABLE:
        raise PipelineSqlError(f"{statement.where}: {name} needs AS <query>.")
    return dataset


def _schema_block(block: str, dataset: Dataset) -> None:
    for item in _split_commas(block):
        if item.upper().startswith("CONSTRAINT"):
            found = _CONSTRAINT.match(item)
            if found is None:
                raise PipelineSqlError(
                    f"{dataset.statement.where}: cannot read the constraint {item[:80]!r}: "
                    "write CONSTRAINT name EXPECT (condition) "
                    "[ON VIOLATION DROP ROW | FAIL UPDATE]."
                )
            action = " ".join((found.group("action") or "").upper().split())
            dataset.expectations.append(
                Expectation(
                    name=found.group("name").strip("`"),
                    condition=found.group("cond").strip(),
                    action={"DROP ROW": "DROP", "FAIL UPDATE": "FAIL"}.get(action, "WARN"),
                )
            )
        else:
            dataset.columns.append(item)
