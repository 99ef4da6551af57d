"""What a write statement leaves in the catalog besides its rows: the table's history entry
(``DESCRIBE HISTORY``) and, for CREATE TABLE, the layout DuckDB does not keep (column comments,
PARTITIONED BY, CLUSTER BY, TBLPROPERTIES), so SHOW CREATE TABLE and the Tables API show them.

:func:`before` reads the statement before translation (public names, whether the table
existed); :func:`after` records once the statement succeeded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from local_workspace.catalog.names import literal, quote
from local_workspace.sql.translate import Scope

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

DIALECT = "databricks"


@dataclass
class Write:
    """A write statement about to run: its target, Databricks operation and parameters."""

    full_name: str
    operation: str
    parameters: dict[str, str]
    metric: str | None = None  # the operationMetrics key of the affected row count
    fresh: bool = False
    blind_append: bool = False
    layout: dict[str, Any] = field(default_factory=dict)
    column_comments: dict[str, str] = field(default_factory=dict)


def _name(table: exp.Table, scope: Scope) -> str:
    return ".".join(
        [
            (table.catalog or scope.catalog).lower(),
            (table.db or scope.schema).lower(),
            table.name.lower(),
        ]
    )


def _target(node: exp.Expression | None) -> exp.Table | None:
    if isinstance(node, exp.Schema):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def _predicate(where: exp.Expression | None) -> str:
    condition = where.this if isinstance(where, exp.Where) else where
    return json.dumps([f"({condition.sql(dialect=DIALECT)})"] if condition is not None else [])


def before(tree: exp.Expression, scope: Scope, catalog: Catalog) -> Write | None:
    """The history entry ``tree`` will make once it succeeds; None if it writes no table."""
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "TABLE":
        return _create(tree, scope, catalog)
    if isinstance(tree, exp.Alter) and isinstance(tree.this, exp.Table):
        return _add_columns(tree, _name(tree.this, scope))
    table = (
        _target(tree.this)
        if isinstance(tree, exp.Insert | exp.Update | exp.Delete | exp.Merge)
        else None
    )
    if table is None and isinstance(tree, exp.TruncateTable):
        table = next(iter(tree.expressions), None)
        if isinstance(table, exp.Table):
            return Write(_name(table, scope), "TRUNCATE", {})
        return None
    if table is None:
        return None
    name = _name(table, scope)
    if isinstance(tree, exp.Insert):
        overwrite = bool(tree.args.get("overwrite"))
        return Write(
            name,
            "WRITE",
            {
                "mode": "Overwrite" if overwrite else "Append",
                "statsOnLoad": "false",
                "partitionBy": "[]",
            },
            "numOutputRows",
            blind_append=not overwrite,
        )
    if isinstance(tree, exp.Update):
        return Write(
            name, "UPDATE", {"predicate": _predicate(tree.args.get("where"))}, "numUpdatedRows"
        )
    if isinstance(tree, exp.Delete):
        return Write(
            name, "DELETE", {"predicate": _predicate(tree.args.get("where"))}, "numDeletedRows"
        )
    return _merge(tree, name)


def _add_columns(tree: exp.Alter, name: str) -> Write | None:
    """ALTER TABLE ... ADD COLUMN(S): Delta's ADD COLUMNS version (other ALTERs write none)."""
    actions = tree.args.get("actions") or []
    if not actions or not all(isinstance(a, exp.ColumnDef) for a in actions):
        return None
    columns = [
        {
            "column": {
                "name": a.name,
                "type": a.args["kind"].sql(dialect=DIALECT).lower() if a.args.get("kind") else "",
                "nullable": True,
                "metadata": {},
            }
        }
        for a in actions
    ]
    return Write(name, "ADD COLUMNS", {"columns": json.dumps(columns, separators=(",", ":"))})


def _merge(tree: exp.Expression, name: str) -> Write:
    matched: list[dict[str, str]] = []
    not_matched: list[dict[str, str]] = []
    whens = tree.args.get("whens")
    for when in whens.expressions if whens is not None else []:
        then = when.args.get("then")
        action = {
            exp.Update: "update",
            exp.Insert: "insert",
        }.get(type(then), "delete")
        entry = {"actionType": action}
        if when.args.get("condition") is not None:
            entry["predicate"] = when.args["condition"].sql(dialect=DIALECT)
        (matched if when.args.get("matched") else not_matched).append(entry)
    on = tree.args.get("on")
    return Write(
        name,
        "MERGE",
        {
            "predicate": json.dumps([on.sql(dialect=DIALECT)] if on is not None else []),
            "matchedPredicates": json.dumps(matched),
            "notMatchedPredicates": json.dumps(not_matched),
        },
        "numOutputRows",
    )


def _create(tree: exp.Create, scope: Scope, catalog: Catalog) -> Write | None:
    table = _target(tree.this)
    if table is None:
        return None
    name = _name(table, scope)
    parts = name.split(".")
    existed = catalog.catalogs.has(parts[0]) and catalog.tables.has(*parts)
    if existed and tree.args.get("exists"):
        return None  # CREATE TABLE IF NOT EXISTS on an existing table writes nothing
    replace = bool(tree.args.get("replace"))
    operation = ("CREATE OR REPLACE TABLE" if replace else "CREATE TABLE") + (
        " AS SELECT" if tree.expression is not None else ""
    )
    layout: dict[str, Any] = {}
    comment = None
    props = tree.args.get("properties")
    for prop in props.expressions if props is not None else []:
        if isinstance(prop, exp.PartitionedByProperty):
            cols = prop.this.expressions if isinstance(prop.this, exp.Schema) else [prop.this]
            layout["partition_by"] = [c.name for c in cols]
        elif isinstance(prop, exp.ClusterProperty | exp.Cluster):
            layout["cluster_by"] = [c.name for c in prop.expressions]
        elif isinstance(prop, exp.SchemaCommentProperty):
            comment = prop.this.name
        elif isinstance(prop, exp.Property) and isinstance(prop.this, exp.Literal):
            layout.setdefault("properties", {})[prop.this.name] = (
                prop.args["value"].name if prop.args.get("value") is not None else ""
            )
    comments = {}
    if isinstance(tree.this, exp.Schema):
        for column in tree.this.expressions:
            if not isinstance(column, exp.ColumnDef):
                continue
            for constraint in column.args.get("constraints") or []:
                kind = constraint.args.get("kind")
                if isinstance(kind, exp.CommentColumnConstraint):
                    comments[column.name] = kind.this.name
    parameters = {
        "isManaged": "true",
        "description": comment,
        "partitionBy": json.dumps(layout.get("partition_by", [])),
        "properties": json.dumps(layout.get("properties", {}), separators=(",", ":")),
    }
    if layout.get("cluster_by"):
        parameters["clusterBy"] = json.dumps(layout["cluster_by"])
    return Write(
        name,
        operation,
        {k: v for k, v in parameters.items() if v is not None},
        "numOutputRows" if tree.expression is not None else None,
        fresh=not existed,
        layout=layout,
        column_comments=comments,
    )


def after(write: Write | None, catalog: Catalog, rows: list[list[str | None]]) -> None:
    """Record a succeeded write: layout and column comments of a new table, then history."""
    if write is None:
        return
    parts = write.full_name.split(".")
    if not (catalog.catalogs.has(parts[0]) and catalog.tables.has(*parts)):
        return
    if write.operation.startswith("CREATE"):
        _store_layout(catalog, write)
    metrics: dict[str, str] = {}
    if write.metric and rows and rows[0] and rows[0][0] is not None:
        metrics[write.metric] = str(rows[0][0])
    catalog.history.record(
        write.full_name,
        write.operation,
        write.parameters,
        metrics,
        blind_append=write.blind_append,
        fresh=write.fresh,
    )


def _store_layout(catalog: Catalog, write: Write) -> None:
    target = ".".join(
        [quote(catalog.engine.to_internal(write.full_name.split(".")[0]))]
        + [quote(p) for p in write.full_name.split(".")[1:]]
    )
    for column, comment in write.column_comments.items():
        catalog.engine.execute(f"COMMENT ON COLUMN {target}.{quote(column)} IS {literal(comment)}")
    with catalog.meta.transaction() as db:
        row = db.execute(
            "SELECT extra FROM objects WHERE kind = 'table' AND full_name = ?", (write.full_name,)
        ).fetchone()
        if row is None:
            return
        extra = json.loads(row[0]) if row[0] else {}
        for key in ("partition_by", "cluster_by", "properties"):
            extra.pop(key, None)
        extra.update(write.layout)
        db.execute(
            "UPDATE objects SET extra = ? WHERE kind = 'table' AND full_name = ?",
            (json.dumps(extra), write.full_name),
        )
