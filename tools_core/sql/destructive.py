"""Which statements destroy something: the guard that makes ``sql_execute`` ask for confirm.

Statements are parsed with sqlglot's Databricks dialect. Destructive: ``DROP`` (any object),
``TRUNCATE``, ``DELETE``/``UPDATE`` without a ``WHERE`` (or with one that names no column),
``CREATE OR REPLACE`` a table or view (only when it exists), ``INSERT OVERWRITE`` and
``INSERT ... REPLACE WHERE``, ``ALTER ... DROP`` (column, partition, constraint, tag...) and
``REPLACE COLUMNS``, ``REVOKE``. Statements sqlglot keeps as a generic Command (``DROP
CATALOG``, ``DROP VOLUME``, ``ALTER SCHEMA ... DROP TAG``, ``REVOKE USE CATALOG``) are read
from sqlglot's tokens; a statement it cannot parse but that starts like a destructive one
counts as destructive, with what it would change unknown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.tokens import Token

Probe = Literal["rows", "exists", "contents", "volume", "none"]

# Names with this many parts are complete: catalog.schema.object.
DEPTH = {"CATALOG": 1, "SCHEMA": 2, "DATABASE": 2}
UC_OBJECTS = {"TABLE", "VIEW", "MATERIALIZED VIEW", "STREAMING TABLE", "VOLUME", "FUNCTION"}
# Words that end a DROP command after the name.
DROP_OPTIONS = {"CASCADE", "RESTRICT", "FORCE", "PURGE"}
# Leading words of statements that may destroy something (for text sqlglot cannot parse).
RISKY_STARTS = {"DROP", "TRUNCATE", "REVOKE", "REPLACE", "ALTER", "DELETE", "UPDATE", "INSERT"}


@dataclass
class Destruction:
    """One thing a statement would remove or replace."""

    action: str  # what the statement does to it, e.g. "DROP TABLE", "DELETE without WHERE"
    securable: str  # TABLE, VIEW, SCHEMA, CATALOG, VOLUME, FUNCTION... ("" if unknown)
    parts: tuple[str, ...] = ()  # the name as written (1-3 parts)
    probe: Probe = "rows"
    where: exp.Expr | None = None  # only the rows matching this are affected
    cascade: bool = False
    only_if_exists: bool = False  # CREATE OR REPLACE: harmless over a new name
    note: str = ""

    @property
    def depth(self) -> int:
        """Parts of a complete name (0: a metastore-level name, taken as written)."""
        if self.securable in DEPTH:
            return DEPTH[self.securable]
        return 3 if self.securable in UC_OBJECTS else 0


def classify(statement: str) -> list[Destruction]:
    """What ``statement`` would destroy; empty when it is not destructive."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    # sqlglot warns when it falls back to a generic Command: expected here.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        trees = [t for t in sqlglot.parse(statement, read="databricks") if t is not None]
    except (ParseError, TokenError):
        return _unparsed(statement)
    found: list[Destruction] = []
    for tree in trees:
        if isinstance(tree, exp.Command):
            found += _from_tokens(tree.sql(dialect="databricks"))
        else:
            found += _from_tree(tree)
    return found


def _names(table: exp.Expr | None) -> tuple[str, ...]:
    from sqlglot import exp

    if isinstance(table, exp.Table):
        return tuple(p.name for p in table.parts)
    return ()


def _partition_filter(partition: exp.Expr | None) -> exp.Expr | None:
    """``PARTITION (p = 1, q = 'x')`` as ``p = 1 AND q = 'x'`` (None: a dynamic partition)."""
    from sqlglot import exp

    if not isinstance(partition, exp.Partition):
        return None
    pairs = partition.expressions
    if not pairs or not all(isinstance(e, exp.EQ) for e in pairs):
        return None
    return exp.and_(*(e.copy() for e in pairs))


def _from_tree(tree: exp.Expr) -> list[Destruction]:
    from sqlglot import exp

    if isinstance(tree, exp.Drop):
        return _drop(tree)
    if isinstance(tree, exp.TruncateTable):
        where = _partition_filter(tree.args.get("partition"))
        return [
            Destruction("TRUNCATE TABLE", "TABLE", _names(t), where=where) for t in tree.expressions
        ]
    if isinstance(tree, (exp.Delete, exp.Update)):
        verb = "DELETE" if isinstance(tree, exp.Delete) else "UPDATE"
        where = tree.args.get("where")
        condition = where.this if isinstance(where, exp.Where) else None
        if condition is not None and condition.find(exp.Column) is not None:
            return []
        note = "its WHERE names no column" if condition is not None else "no WHERE"
        table = _names(tree.this)
        return [Destruction(f"{verb} all rows", "TABLE", table, where=condition, note=note)]
    if isinstance(tree, exp.Create):
        return _create(tree)
    if isinstance(tree, exp.Insert):
        return _insert(tree)
    if isinstance(tree, exp.Alter):
        return _alter(tree)
    if isinstance(tree, exp.Revoke):
        privileges = ", ".join(
            p.sql(dialect="databricks") for p in tree.args.get("privileges") or []
        )
        principals = ", ".join(
            p.sql(dialect="databricks") for p in tree.args.get("principals") or []
        )
        kind = str(tree.args.get("kind") or "TABLE").upper()
        return [
            Destruction(
                f"REVOKE {privileges} FROM {principals} ON {kind}",
                kind,
                _names(tree.args.get("securable")),
                probe="none",
                note="privileges only, no data",
            )
        ]
    return []


def _drop(tree: exp.Drop) -> list[Destruction]:
    kind = str(tree.args.get("kind") or "").upper()
    if tree.args.get("temporary"):
        return []  # session-scoped: gone with the session anyway
    if tree.args.get("materialized"):
        kind = f"MATERIALIZED {kind}"
    securable = "SCHEMA" if kind == "DATABASE" else kind
    probes: dict[str, Probe] = {
        "TABLE": "rows",
        "MATERIALIZED VIEW": "rows",
        "VIEW": "exists",
        "SCHEMA": "contents",
    }
    probe = probes.get(securable, "none")
    cascade = bool(tree.args.get("cascade"))
    action = f"DROP {kind}" + (" CASCADE" if cascade else "")
    notes = {"VIEW": "its definition (a view stores no rows)", "FUNCTION": "its definition"}
    return [
        Destruction(action, securable, _names(t), probe, cascade=cascade, note=notes.get(kind, ""))
        for t in tree.args.get("tables") or []
    ]


def _create(tree: exp.Create) -> list[Destruction]:
    from sqlglot import exp

    kind = str(tree.args.get("kind") or "").upper()
    if not tree.args.get("replace") or kind not in ("TABLE", "VIEW"):
        return []
    properties = tree.args.get("properties")
    if properties is not None and properties.find(exp.TemporaryProperty):
        return []
    table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    return [
        Destruction(
            f"CREATE OR REPLACE {kind}",
            kind,
            _names(table),
            probe="rows" if kind == "TABLE" else "exists",
            only_if_exists=True,
            note="" if kind == "TABLE" else "its current definition is replaced",
        )
    ]


def _insert(tree: exp.Insert) -> list[Destruction]:
    from sqlglot import exp

    target = tree.this
    where = tree.args.get("where")
    if not tree.args.get("overwrite") and where is None:
        return []
    if not isinstance(target, exp.Table):
        return [
            Destruction("INSERT OVERWRITE", "", (target.sql(dialect="databricks"),), probe="none")
        ]
    if where is not None:
        return [
            Destruction("INSERT ... REPLACE WHERE", "TABLE", _names(target), where=where.copy())
        ]
    partition = _partition_filter(target.args.get("partition"))
    return [Destruction("INSERT OVERWRITE", "TABLE", _names(target), where=partition)]


def _alter(tree: exp.Alter) -> list[Destruction]:
    from sqlglot import exp

    kind = str(tree.args.get("kind") or "TABLE").upper()
    found = []
    for action in tree.args.get("actions") or []:
        where = None
        data = False  # whether rows lose values (else a constraint, tag... goes)
        if isinstance(action, exp.Drop):
            dropped = str(action.args.get("kind") or "").upper()
            data = dropped in ("COLUMN", "COLUMNS")
            what = f"DROP {dropped} " + ", ".join(
                t.sql(dialect="databricks") for t in action.args.get("tables") or []
            )
        elif isinstance(action, exp.DropPartition):
            data = True
            what = "DROP " + ", ".join(p.sql(dialect="databricks") for p in action.expressions)
            filters = [_partition_filter(p) for p in action.expressions]
            if filters and all(f is not None for f in filters):
                where = exp.or_(*filters)
        elif isinstance(action, exp.AlterColumn) and action.args.get("drop"):
            what = f"ALTER COLUMN {action.this.sql(dialect='databricks')} DROP ..."
        elif isinstance(action, exp.ReplaceColumns):
            data = True
            what = "REPLACE COLUMNS (drops columns not listed)"
        elif isinstance(action, exp.Command) and str(action.this).upper() == "DROP":
            what = f"DROP {action.expression}"
        else:
            continue
        what = " ".join(what.split())
        probe: Probe = "none" if kind != "TABLE" else "rows" if data else "exists"
        note = "" if data else "no rows change"
        table = _names(tree.this)
        found.append(Destruction(f"ALTER {kind} {what}", kind, table, probe, where, note=note))
    return found


# -- statements sqlglot keeps as a Command, or cannot parse: read from its tokens --


def _tokens(statement: str) -> list[Token]:
    import sqlglot
    from sqlglot.errors import TokenError

    try:
        return list(sqlglot.tokenize(statement, read="databricks"))
    except TokenError:
        return []


def _word(token: Token) -> str:
    from sqlglot.tokens import TokenType

    if token.token_type in (TokenType.IDENTIFIER, TokenType.STRING):
        return ""  # a quoted name or a string is never a keyword
    return token.text.upper()


def _name_at_end(tokens: list[Token]) -> tuple[tuple[str, ...], int]:
    """The dotted name the tokens end with, and where it starts."""
    from sqlglot.tokens import TokenType

    if not tokens:
        return (), 0
    start = len(tokens) - 1
    while start >= 2 and tokens[start - 1].token_type == TokenType.DOT:
        start -= 2
    names = tuple(t.text for t in tokens[start:] if t.token_type != TokenType.DOT)
    return names, start


def _name_at(tokens: list[Token], start: int) -> tuple[str, ...]:
    """The dotted name starting at ``tokens[start]``."""
    from sqlglot.tokens import TokenType

    names = []
    i = start
    while i < len(tokens):
        names.append(tokens[i].text)
        if i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT:
            i += 2
        else:
            break
    return tuple(names)


def _span(statement: str, tokens: list[Token]) -> str:
    """The statement's own text of ``tokens`` (quotes kept)."""
    return statement[tokens[0].start : tokens[-1].end + 1] if tokens else ""


def _from_tokens(statement: str) -> list[Destruction]:
    tokens = [t for t in _tokens(statement) if t.text != ";"]
    words = [_word(t) for t in tokens]
    if not words:
        return []
    if words[0] == "DROP":
        body = tokens[1:]
        cascade = False
        while body and _word(body[-1]) in DROP_OPTIONS:
            cascade = cascade or _word(body[-1]) == "CASCADE"
            body = body[:-1]
        names, start = _name_at_end(body)
        kind = " ".join(w for w in map(_word, body[:start]) if w not in ("IF", "EXISTS"))
        if kind.startswith(("TEMPORARY", "TEMP")):
            return []
        probes: dict[str, Probe] = {"CATALOG": "contents", "VOLUME": "volume"}
        probe = probes.get(kind, "none")
        action = f"DROP {kind}" + (" CASCADE" if cascade else "")
        return [Destruction(action, kind, names, probe=probe, cascade=cascade)]
    if words[0] == "ALTER" and "DROP" in words:
        drop = words.index("DROP")
        kind_words = []
        i = 1
        while i < drop and words[i] in UC_WORDS:
            kind_words.append(words[i])
            i += 1
        if words[i : i + 2] == ["IF", "EXISTS"]:
            i += 2
        kind = " ".join(kind_words)
        what = _span(statement, tokens[drop:])
        names = _name_at(tokens, i)
        return [
            Destruction(f"ALTER {kind} {what}", kind, names, probe="none", note="no rows change")
        ]
    if words[0] == "REVOKE" and "ON" in words:
        on = words.index("ON")
        end = words.index("FROM") if "FROM" in words else len(words)
        privileges = _span(statement, tokens[1:on])
        kind_words = [w for w in words[on + 1 : end] if w in UC_WORDS]
        names, _ = _name_at_end(tokens[on + 1 : end])
        principals = _span(statement, tokens[end + 1 :])
        kind = " ".join(kind_words)
        action = f"REVOKE {privileges} FROM {principals} ON {kind}"
        return [Destruction(action, kind, names, probe="none", note="privileges only, no data")]
    if words[0] == "TRUNCATE":
        names, _ = _name_at_end(tokens[1:])
        return [Destruction("TRUNCATE TABLE", "TABLE", names)]
    return []


# Words naming a securable's kind in ALTER/REVOKE commands.
UC_WORDS = {
    "TABLE",
    "VIEW",
    "MATERIALIZED",
    "STREAMING",
    "SCHEMA",
    "DATABASE",
    "CATALOG",
    "VOLUME",
    "FUNCTION",
    "SHARE",
    "RECIPIENT",
    "PROVIDER",
    "CONNECTION",
    "EXTERNAL",
    "LOCATION",
    "STORAGE",
    "SERVICE",
    "CREDENTIAL",
    "METASTORE",
}


def _unparsed(statement: str) -> list[Destruction]:
    """A statement sqlglot cannot parse: destructive if it starts like one."""
    found = _from_tokens(statement)
    if found:
        return found
    words = [_word(t) for t in _tokens(statement)]
    if not words or words[0] not in RISKY_STARTS:
        return []
    if words[0] in ("DELETE", "UPDATE") and "WHERE" in words:
        return []
    if words[0] == "INSERT" and "OVERWRITE" not in words:
        return []
    if words[0] == "ALTER" and "REPLACE" not in words:
        return []
    note = "sqlglot cannot parse it, so what it would change is not known"
    tokens = _tokens(statement)
    return [Destruction(" ".join(words[:2]), "", _name_at(tokens, 2), probe="none", note=note)]
