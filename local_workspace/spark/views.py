"""Temporary views of a session, and named parameters of a lazy query.

The Statement Execution API keeps no state between statements, so a session's temporary
views are inlined into each statement that names them: ``FROM v`` becomes
``FROM (<v's query>) AS v`` (sqlglot parses and writes the statement, Databricks dialect;
only statements that mention a view's name are rewritten).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from local_workspace.spark.convert import sql_literal
from local_workspace.spark.errors import AnalysisException

if TYPE_CHECKING:
    from local_workspace.spark.dataframe import DataFrame

_TOKENS = re.compile(
    r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|`(?:[^`]|``)*`|--[^\n]*|/\*.*?\*/|::|:(\w+)", re.S
)


class TempViews:
    """Name -> DataFrame of the session's temporary views (names compared lower-case)."""

    def __init__(self) -> None:
        self._views: dict[str, DataFrame] = {}

    def put(self, name: str, frame: DataFrame, replace: bool) -> None:
        """Register ``frame`` as ``name``."""
        key = name.lower()
        if not replace and key in self._views:
            raise AnalysisException(
                f"[TEMP_TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create the temporary view `{name}` "
                "because it already exists."
            )
        self._views[key] = frame

    def get(self, name: str) -> DataFrame | None:
        """The view named ``name`` (``global_temp.x`` included), or None."""
        return self._views.get(name.lower().replace("`", ""))

    def drop(self, name: str) -> bool:
        """Forget a view; whether it existed."""
        return self._views.pop(name.lower(), None) is not None

    def names(self) -> list[str]:
        """The views' names."""
        return list(self._views)

    def inline(self, statement: str) -> str:
        """``statement`` with the views it names inlined as subqueries."""
        if not self._views:
            return statement
        lowered = statement.lower()
        if not any(re.search(rf"\b{re.escape(n.split('.')[-1])}\b", lowered) for n in self._views):
            return statement
        import sqlglot
        from sqlglot import exp

        try:
            trees = sqlglot.parse(statement, read="databricks")
        except sqlglot.errors.ParseError:
            return statement  # the warehouse reports the syntax error itself
        changed = False

        def swap(node: exp.Expression) -> exp.Expression:
            nonlocal changed
            if not isinstance(node, exp.Table) or node.args.get("catalog"):
                return node
            name = node.name if not node.db else f"{node.db}.{node.name}"
            frame = self._views.get(name.lower())
            if frame is None or (node.db and node.db.lower() != "global_temp"):
                return node
            changed = True
            alias = node.alias or node.name
            inner = sqlglot.parse_one(self.inline(frame._sql), read="databricks")
            return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))

        out = []
        for tree in trees:
            if tree is None:
                continue
            ctes = {c.alias.lower() for c in tree.find_all(exp.CTE)}
            if ctes & set(self._views):
                out.append(tree.sql(dialect="databricks"))
                continue
            out.append(tree.transform(swap).sql(dialect="databricks"))
        return ";\n".join(out) if changed else statement


def bind_parameters(text: str, args: dict[str, Any]) -> str:
    """``text`` with each ``:name`` marker (outside strings, identifiers and comments) replaced
    by the literal of ``args[name]`` (a lazy query cannot carry parameters to later steps)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)
        if name not in args:
            raise AnalysisException(
                f"[UNBOUND_SQL_PARAMETER] Found the unbound parameter: {name}. Please, fix "
                "`args` and provide a mapping of the parameter to a SQL literal."
            )
        return sql_literal(args[name])

    return _TOKENS.sub(replace, text)
