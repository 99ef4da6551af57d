"""Decide whether a statement only reads: the guard of ``sql_query``.

The statement is parsed with sqlglot's Databricks dialect; exactly one statement is allowed,
and it must be a SELECT (with or without WITH), a set operation, VALUES, SHOW, DESCRIBE or
EXPLAIN. Anything else, including a WITH ... INSERT, is refused before it reaches the
warehouse.
"""

from __future__ import annotations

import logging
import re

from tools_core.errors import InvalidInput, ToolsCoreError

WRITE_HINT = "Use sql_execute for statements that change data or objects."
READ_COMMANDS = ("SHOW", "EXPLAIN", "DESCRIBE", "DESC", "LIST")
# LIST '<path>' [LIMIT n]: sqlglot reads it as a typed literal, so it is recognised by text
# (one statement: no `;` before the end).
_LIST = re.compile(r"^\s*LIST\s+'[^';]*'(\s+LIMIT\s+\d+)?\s*;?\s*$", re.I)


def check_read_only(statement: str) -> None:
    """Return if ``statement`` is one read-only statement; raise otherwise."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    # sqlglot warns when it falls back to a generic Command (SHOW...): expected here.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)

    if _LIST.match(statement):
        return
    try:
        trees = [t for t in sqlglot.parse(statement, read="databricks") if t is not None]
    except (ParseError, TokenError) as exc:
        raise ToolsCoreError(
            "PARSE_SYNTAX_ERROR",
            f"Cannot parse the statement as Databricks SQL: {str(exc).splitlines()[0]}",
            "Fix the SQL syntax and run it again (valid SQL sqlglot cannot parse: sql_execute).",
        ) from exc
    if not trees:
        raise InvalidInput("The statement is empty.", "Pass one SQL statement.")
    if len(trees) > 1:
        raise InvalidInput(
            f"sql_query runs exactly one statement; got {len(trees)}.",
            "Send the statements one at a time.",
        )
    tree = trees[0]
    writes = (
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Merge,
        exp.Create,
        exp.Drop,
        exp.Alter,
        exp.Grant,
        exp.Revoke,
        exp.Comment,
        exp.Into,
    )
    if isinstance(tree, exp.Command):
        word = str(tree.this).upper()
        rest = str(getattr(tree.expression, "this", tree.expression) or "").strip().upper()
        if word in READ_COMMANDS and not (word == "EXPLAIN" and rest.startswith("ANALYZE")):
            return
        raise InvalidInput(f"sql_query is read-only and refuses {word} statements.", WRITE_HINT)
    reads = (exp.Select, exp.SetOperation, exp.Values, exp.Describe, exp.Show)
    if isinstance(tree, reads) and tree.find(*writes) is None:
        return
    kind = type(tree).__name__.upper()
    raise InvalidInput(f"sql_query is read-only and refuses {kind} statements.", WRITE_HINT)
