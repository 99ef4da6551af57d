"""Parsing of CDC flows: ``APPLY CHANGES INTO`` and ``[CREATE FLOW name AS] AUTO CDC INTO``.

Clause boundaries come from sqlglot's Databricks tokenizer (parentheses and quotes respected);
conditions and the sequence expression are kept verbatim, in Databricks SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects import Databricks
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType


@dataclass
class ApplyChanges:
    """One CDC flow as written in the pipeline's SQL (names as written, Databricks SQL)."""

    target: str
    source: str
    keys: list[str]
    sequence_by: str
    apply_as_deletes: str | None = None
    apply_as_truncates: str | None = None
    column_list: list[str] | None = None
    except_column_list: list[str] | None = None
    scd_type: int = 1
    track_history_column_list: list[str] | None = None
    track_history_except_column_list: list[str] | None = None
    flow_name: str | None = None
    ignore_null_updates: bool = False


# -- parsing -----------------------------------------------------------------------------

# Clause openings after FROM, longest first so `COLUMNS TO UPDATE` wins over `COLUMNS`.
_CLAUSES: list[tuple[tuple[str, ...], str]] = [
    (("APPLY", "AS", "DELETE", "WHEN"), "delete"),
    (("APPLY", "AS", "TRUNCATE", "WHEN"), "truncate"),
    (("SYSTEM", "SEQUENCE", "BY"), "system_sequence"),
    (("COLUMNS", "TO", "UPDATE"), "columns_to_update"),
    (("IGNORE", "NULL", "UPDATES"), "ignore_null"),
    (("TRACK", "HISTORY", "ON"), "track"),
    (("SEQUENCE", "BY"), "sequence"),
    (("STORED", "AS"), "stored"),
    (("KEYS",), "keys"),
    (("COLUMNS",), "columns"),
]
_EXPECTED = (
    "KEYS (...), IGNORE NULL UPDATES, APPLY AS DELETE WHEN, APPLY AS TRUNCATE WHEN, "
    "SEQUENCE BY, COLUMNS, STORED AS SCD TYPE 1|2 or TRACK HISTORY ON"
)
_LOOKS_LIKE_CDC = re.compile(
    r"^\s*(APPLY\s+CHANGES\b|AUTO\s+CDC\b|CREATE\s+FLOW\s+\S+\s+AS\s+AUTO\s+CDC\b)", re.I
)
_QUOTED = (TokenType.STRING, TokenType.IDENTIFIER)


def _word(token: Token) -> str | None:
    """The keyword a token can be (quoted strings and identifiers never are)."""
    return None if token.token_type in _QUOTED else token.text.upper()


class _Tokens:
    """The statement's tokens with their source text, for slicing clause bodies verbatim."""

    def __init__(self, statement: str) -> None:
        self.text = statement
        self.tokens = [
            t for t in Databricks().tokenize(statement) if t.token_type != TokenType.SEMICOLON
        ]

    def words(self, start: int, count: int) -> tuple[str | None, ...]:
        return tuple(_word(t) for t in self.tokens[start : start + count])

    def clause_at(self, index: int) -> tuple[str, int] | None:
        for words, name in _CLAUSES:
            if self.words(index, len(words)) == words:
                return name, len(words)
        return None

    def source(self, start: int, end: int) -> str:
        if start >= end:
            return ""
        return self.text[self.tokens[start].start : self.tokens[end - 1].end + 1].strip()

    def until(self, start: int, stop: set[str] | None = None) -> int:
        """Index of the first depth-0 token from ``start`` in ``stop`` (else opening a clause)."""
        depth = 0
        for index in range(start, len(self.tokens)):
            if depth == 0:
                word = _word(self.tokens[index])
                if stop is not None and word in stop:
                    return index
                if stop is None and self.clause_at(index) is not None:
                    return index
            kind = self.tokens[index].token_type
            depth += (kind == TokenType.L_PAREN) - (kind == TokenType.R_PAREN)
        return len(self.tokens)


def parse_apply_changes(statement: str) -> ApplyChanges | None:
    """None when the statement is neither APPLY CHANGES INTO nor [CREATE FLOW x AS] AUTO CDC INTO.

    Raises ValueError with what was expected when it is one but malformed.
    """
    try:
        toks = _Tokens(statement)
    except TokenError as exc:
        if _LOOKS_LIKE_CDC.match(statement):
            raise ValueError(f"CDC statement does not tokenize: {exc}") from exc
        return None
    index, flow_name = 0, None
    if toks.words(0, 2) == ("CREATE", "FLOW"):
        if len(toks.tokens) < 4 or toks.words(3, 1) != ("AS",):
            raise ValueError("expected CREATE FLOW <name> AS AUTO CDC INTO <target> ...")
        flow_name, index = toks.tokens[2].text, 4
    if toks.words(index, 2) == ("AUTO", "CDC"):
        index += 3 if toks.words(index + 2, 1) == ("ONCE",) else 2
    elif toks.words(index, 2) == ("APPLY", "CHANGES"):
        index += 2
    else:
        return None  # an append flow or any other statement: not ours
    if toks.words(index, 1) != ("INTO",):
        raise ValueError("expected INTO <target table> after APPLY CHANGES / AUTO CDC")
    end = toks.until(index + 1, {"FROM"})
    target = toks.source(index + 1, end)
    if not target:
        raise ValueError("expected a target table name after INTO")
    if end >= len(toks.tokens):
        raise ValueError("expected FROM STREAM(<source>) after the target table")
    index = end + 1
    end = toks.until(index)
    source = _source_name(toks.source(index, end))
    clauses: dict[str, str] = {}
    index = end
    while index < len(toks.tokens):
        found = toks.clause_at(index)
        if found is None:
            raise ValueError(f"expected {_EXPECTED}, found {toks.tokens[index].text!r}")
        name, width = found
        if name in clauses:
            raise ValueError(
                f"clause {' '.join(w or '' for w in toks.words(index, width))} appears twice"
            )
        end = toks.until(index + width)
        clauses[name] = toks.source(index + width, end)
        index = end
    return _spec(clauses, target, source, flow_name)


def _source_name(text: str) -> str:
    match = re.fullmatch(r"STREAM\s*\((.*)\)|STREAM\s+(.*)", text, re.I | re.S)
    if match:
        text = (match.group(1) or match.group(2) or "").strip()
    text = re.sub(r"^LIVE\s*\.\s*", "", text, flags=re.I)
    if not text or not re.fullmatch(r"[\w`.\s]+", text):
        raise ValueError("expected FROM STREAM(<source>) or FROM <source>, a table name")
    return text


def _spec(clauses: dict[str, str], target: str, source: str, flow: str | None) -> ApplyChanges:
    for unsupported in ("system_sequence", "columns_to_update"):
        if unsupported in clauses:
            words = "SYSTEM SEQUENCE BY" if unsupported == "system_sequence" else "COLUMNS TO"
            raise ValueError(f"{words} ... is not supported by the local pipeline runner")
    if "keys" not in clauses:
        raise ValueError("expected KEYS (<column>, ...)")
    keys = _paren_list(clauses["keys"], "KEYS (<column>, ...)")
    sequence = clauses.get("sequence")
    if not sequence:
        raise ValueError("expected SEQUENCE BY <column>")
    ignore = clauses.get("ignore_null")
    if ignore:
        raise ValueError("expected IGNORE NULL UPDATES without ON (column subsets unsupported)")
    _expression(sequence, "SEQUENCE BY")
    for name in ("delete", "truncate"):
        if name in clauses:
            _expression(clauses[name], f"APPLY AS {name.upper()} WHEN")
    spec = ApplyChanges(
        target=target,
        source=source,
        keys=keys,
        sequence_by=sequence,
        apply_as_deletes=clauses.get("delete"),
        apply_as_truncates=clauses.get("truncate"),
        flow_name=flow,
        ignore_null_updates="ignore_null" in clauses,
    )
    if "columns" in clauses:
        spec.column_list, spec.except_column_list = _columns(clauses["columns"], "COLUMNS")
    if "stored" in clauses:
        match = re.fullmatch(r"SCD\s+TYPE\s+([12])", clauses["stored"], re.I)
        if match is None:
            raise ValueError(f"expected STORED AS SCD TYPE 1 or 2, found {clauses['stored']!r}")
        spec.scd_type = int(match.group(1))
    if "track" in clauses:
        if spec.scd_type != 2:
            raise ValueError("TRACK HISTORY ON needs STORED AS SCD TYPE 2")
        lists = _columns(clauses["track"], "TRACK HISTORY ON")
        spec.track_history_column_list, spec.track_history_except_column_list = lists
    if spec.apply_as_truncates and spec.scd_type == 2:
        raise ValueError("APPLY AS TRUNCATE WHEN is only supported with SCD TYPE 1")
    return spec


def _expression(text: str, clause: str) -> None:
    """A clause body must be one SQL expression (what follows it must open a clause)."""
    try:
        sqlglot.parse_one(f"SELECT ({text})", read="databricks")
    except (ParseError, TokenError) as exc:
        raise ValueError(
            f"expected one SQL expression after {clause}, then {_EXPECTED}; found {text!r}"
        ) from exc


def _columns(text: str, clause: str) -> tuple[list[str] | None, list[str] | None]:
    """``* EXCEPT (a, b)`` -> (None, [a, b]); ``(a, b)`` or ``a, b`` -> ([a, b], None)."""
    form = f"{clause} (<column>, ...) or {clause} * EXCEPT (<column>, ...)"
    match = re.fullmatch(r"\*\s*EXCEPT\s*(\(.*\))", text, re.I | re.S)
    if match:
        return None, _paren_list(match.group(1), form)
    if not text.startswith("("):
        text = f"({text})"
    return _paren_list(text, form), None


def _paren_list(text: str, form: str) -> list[str]:
    """Column names of ``(a, `b c`)``; anything else is a ValueError naming ``form``."""
    try:
        tree = sqlglot.parse_one(f"SELECT {text.strip()[1:-1]}", read="databricks")
    except (ParseError, TokenError) as exc:
        raise ValueError(f"expected {form}, found {text!r}") from exc
    columns = tree.expressions if isinstance(tree, exp.Select) else []
    ok = text.strip().startswith("(") and text.strip().endswith(")") and columns
    if not ok or not all(isinstance(c, exp.Column) and not c.table for c in columns):
        raise ValueError(f"expected {form}, found {text!r}")
    return [c.name for c in columns]
