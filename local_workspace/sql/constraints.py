"""PRIMARY KEY / FOREIGN KEY clauses of Databricks SQL, kept in Unity Catalog, not in DuckDB.

Databricks constraints are informational (never enforced) while DuckDB enforces the ones
it sees, so they are taken out of ``CREATE TABLE`` before translation (:func:`take`) and
stored once the table exists; ``ALTER TABLE ... ADD CONSTRAINT | DROP CONSTRAINT |
DROP PRIMARY KEY | DROP FOREIGN KEY`` are answered here (:func:`alter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from local_workspace.catalog.constraints import FK, PK, column_nullability
from local_workspace.sql.commands import Commands, Output, catalog_errors
from local_workspace.sql.errors import SqlError
from local_workspace.sql.translate import Scope

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog


@dataclass
class Declared:
    """Constraints a CREATE TABLE declares, to store once the table exists."""

    catalog: Catalog
    full_name: str
    constraints: list[dict[str, Any]] = field(default_factory=list)
    replace: bool = False
    existed: bool = False

    def store(self) -> None:
        """Record the constraints (a replaced table loses its old ones, as on Databricks)."""
        if self.existed and not self.replace:
            return  # CREATE TABLE IF NOT EXISTS on an existing table changes nothing
        self.catalog.constraints.forget(self.full_name)
        if not self.constraints:
            return
        info = self.catalog.tables.get(self.full_name)
        with catalog_errors():
            for constraint in self.constraints:
                self.catalog.constraints.add(
                    info["full_name"], constraint, column_nullability(info)
                )


def _full_name(table: exp.Table, scope: Scope) -> str:
    catalog = table.catalog or scope.catalog
    schema = table.db or scope.schema
    return f"{catalog}.{schema}.{table.name}".lower()


def _names(nodes: list[exp.Expression]) -> list[str]:
    return [(n.this if isinstance(n, exp.TimeseriesKey) else n).name for n in nodes]


def _primary_key(name: str, node: exp.PrimaryKey) -> dict[str, Any]:
    keys = node.expressions
    body: dict[str, Any] = {"name": name, "child_columns": _names(keys)}
    series = [k.this.name for k in keys if isinstance(k, exp.TimeseriesKey)]
    if series:
        body["timeseries_columns"] = series
    if any(str(o).upper() == "RELY" for o in node.args.get("options") or []):
        body["rely"] = True
    return {PK: body}


def _foreign_key(name: str, child: list[str], ref: exp.Reference, scope: Scope) -> dict[str, Any]:
    target = ref.this
    table = target.this if isinstance(target, exp.Schema) else target
    parents = _names(target.expressions) if isinstance(target, exp.Schema) else []
    if not isinstance(table, exp.Table):
        raise SqlError("PARSE_SYNTAX_ERROR", "A foreign key needs REFERENCES <table>.", "42601")
    body: dict[str, Any] = {
        "name": name,
        "child_columns": child,
        "parent_table": _full_name(table, scope),
    }
    if parents:
        body["parent_columns"] = parents
    return {FK: body}


def _of_constraint(node: exp.Expression, table: str, scope: Scope) -> dict[str, Any] | None:
    """A TableConstraint dict for a table-level constraint node, None for other nodes."""
    named = node if isinstance(node, exp.Constraint) else None
    inner = named.expressions[0] if named is not None and named.expressions else node
    name = named.name if named is not None else ""
    if isinstance(inner, exp.PrimaryKey):
        return _primary_key(name or f"{table}_pk", inner)
    if isinstance(inner, exp.ForeignKey):
        child = _names(inner.expressions)
        ref = inner.args.get("reference")
        if not isinstance(ref, exp.Reference):
            raise SqlError("PARSE_SYNTAX_ERROR", "A foreign key needs REFERENCES <table>.", "42601")
        return _foreign_key(name or f"{table}_{'_'.join(child)}_fk", child, ref, scope)
    return None


def take(tree: exp.Expression, scope: Scope, catalog: Catalog) -> Declared | None:
    """Remove PRIMARY/FOREIGN KEY clauses from a CREATE TABLE (in place); what they declare.

    Checked against the statement's own column definitions first, so a bad key fails the
    statement before the table is created.
    """
    if not isinstance(tree, exp.Create) or str(tree.args.get("kind") or "").upper() != "TABLE":
        return None
    schema = tree.this
    if not isinstance(schema, exp.Schema) or not isinstance(schema.this, exp.Table):
        return None
    full_name = _full_name(schema.this, scope)
    short = schema.this.name.lower()
    declared: list[dict[str, Any]] = []
    nullable: dict[str, bool] = {}
    for node in list(schema.expressions):
        if isinstance(node, exp.ColumnDef):
            column = node.name
            nullable[column] = True
            for cons in list(node.args.get("constraints") or []):
                kind = cons.args.get("kind")
                if isinstance(kind, exp.NotNullColumnConstraint) and not kind.args.get(
                    "allow_null"
                ):
                    nullable[column] = False
                elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
                    name = cons.name or f"{short}_pk"
                    declared.append({PK: {"name": name, "child_columns": [column]}})
                    cons.pop()
                elif isinstance(kind, exp.Reference):
                    name = cons.name or f"{short}_{column}_fk"
                    declared.append(_foreign_key(name, [column], kind, scope))
                    cons.pop()
            continue
        found = _of_constraint(node, short, scope)
        if found is not None:
            declared.append(found)
            node.pop()
    if not declared and not tree.args.get("replace"):
        return None
    parts = full_name.split(".")
    result = Declared(
        catalog,
        full_name,
        declared,
        replace=bool(tree.args.get("replace")),
        existed=catalog.catalogs.has(parts[0]) and catalog.tables.has(*parts),
    )
    _check_nullability(declared, nullable)
    return result


def _check_nullability(declared: list[dict[str, Any]], nullable: dict[str, bool]) -> None:
    by_lower = {c.lower(): n for c, n in nullable.items()}
    for constraint in declared:
        body = constraint.get(PK)
        if body is None:
            continue
        bad = [c for c in body["child_columns"] if by_lower.get(c.lower(), False)]
        if bad:
            raise SqlError(
                "INVALID_PARAMETER_VALUE",
                f"Cannot create the primary key `{body['name']}` because its child column(s) "
                f"{', '.join(f'`{c}`' for c in bad)} is nullable. Declare the column(s) NOT "
                "NULL and retry.",
                "42831",
            )


def alter(tree: exp.Expression, scope: Scope, catalog: Catalog) -> Output | None:
    """ALTER TABLE ADD CONSTRAINT / DROP CONSTRAINT / DROP PRIMARY|FOREIGN KEY, else None."""
    if not isinstance(tree, exp.Alter) or not isinstance(tree.this, exp.Table):
        return None
    actions = tree.args.get("actions") or []
    if not actions or not all(_is_constraint_action(a) for a in actions):
        return None
    commands = Commands(catalog)
    name = ".".join(commands.table_of(tree.this.sql(dialect="databricks"), scope))
    with catalog_errors():
        info = catalog.tables.get(name)
        full_name = str(info["full_name"])
        for action in actions:
            if isinstance(action, exp.AddConstraint):
                for node in action.expressions:
                    found = _of_constraint(node, full_name.split(".")[-1], scope)
                    if found is not None:
                        catalog.constraints.add(full_name, found, column_nullability(info))
            elif isinstance(action, exp.Drop):
                target = (action.args.get("tables") or [None])[0]
                catalog.constraints.drop(
                    full_name,
                    target.name if target is not None else None,
                    if_exists=bool(action.args.get("exists")),
                    cascade=bool(action.args.get("cascade")),
                )
            else:  # DROP PRIMARY KEY [IF EXISTS] [CASCADE]
                text = str(action.expression).upper()
                catalog.constraints.drop(
                    full_name, None, if_exists="IF EXISTS" in text, cascade="CASCADE" in text
                )
    return Output()


def _is_constraint_action(action: exp.Expression) -> bool:
    if isinstance(action, exp.AddConstraint):
        return all(
            isinstance(n, exp.Constraint | exp.PrimaryKey | exp.ForeignKey)
            for n in action.expressions
        )
    if isinstance(action, exp.Drop):
        return str(action.args.get("kind") or "").upper() == "CONSTRAINT"
    if isinstance(action, exp.Command):
        text = " ".join(f"{action.this} {action.expression}".upper().split())
        return text.startswith("DROP PRIMARY KEY")
    return False
