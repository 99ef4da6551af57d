"""Read table and column lineage from a parsed Databricks SQL statement (before translation).

Only statements that write from what they read produce lineage: CTAS, INSERT ... SELECT
(including INSERT OVERWRITE), MERGE INTO ... USING, CREATE VIEW AS, and UPDATE/DELETE whose
subqueries read other tables. Names are resolved with the statement's scope to public
three-level names; CTE names and table functions are not tables. Column lineage is read from
the top-level projection when it is clear: each output column's source columns, qualified by
alias or by the single source table; ``*`` is expanded from the catalog when it can be.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp

from local_workspace.sql.translate import Scope, cte_names

ColumnsOf = Callable[[str], list[str] | None]


@dataclass
class Flow:
    """What one statement read and wrote (public names) and its column edges."""

    sources: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    columns: list[tuple[str, str, str, str]] = field(default_factory=list)


def _name(table: exp.Table, scope: Scope) -> str:
    catalog = table.catalog or scope.catalog
    schema = table.db or scope.schema
    return f"{catalog}.{schema}.{table.name}".lower()


def _target_table(node: exp.Expression | None) -> exp.Table | None:
    if isinstance(node, exp.Schema):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def _is_table(table: exp.Table, local: set[str]) -> bool:
    if not isinstance(table.this, exp.Identifier):
        return False  # table functions: range(10), read_csv(...)
    return bool(table.db or table.catalog) or table.name.lower() not in local


def flow_of(tree: exp.Expression, scope: Scope, columns_of: ColumnsOf | None = None) -> Flow | None:
    """The lineage of ``tree``, or None when it writes nothing from a read (SELECT, DDL...)."""
    query: exp.Expression | None = None
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW") or tree.expression is None:
            return None
        target_node, query = tree.this, tree.expression
    elif isinstance(tree, exp.Insert):
        target_node, query = tree.this, tree.expression
    elif isinstance(tree, exp.Merge | exp.Update | exp.Delete):
        target_node = tree.this
    else:
        return None
    target = _target_table(target_node)
    if target is None or not isinstance(target.this, exp.Identifier):
        return None
    local = cte_names(tree)
    target_name = _name(target, scope)
    sources = [
        _name(t, scope) for t in tree.find_all(exp.Table) if t is not target and _is_table(t, local)
    ]
    sources = [s for s in dict.fromkeys(sources) if s != target_name]
    if not sources:
        return None
    flow = Flow(sources=sources, targets=[target_name])
    if isinstance(query, exp.Query):
        names = _target_columns(target_node)
        if names is None and isinstance(tree, exp.Insert) and columns_of is not None:
            names = columns_of(target_name)  # INSERT without a column list: by position
        flow.columns = _column_edges(query, names, target_name, scope, local, columns_of)
    elif isinstance(tree, exp.Merge):
        flow.columns = _merge_edges(tree, target, target_name, scope)
    return flow


def _merge_edges(
    tree: exp.Merge, target: exp.Table, target_name: str, scope: Scope
) -> list[tuple[str, str, str, str]]:
    """``UPDATE SET t.a = s.b`` / ``INSERT (a) VALUES (s.b)`` of a MERGE from one table."""
    using = tree.args.get("using")
    if not isinstance(using, exp.Table) or not isinstance(using.this, exp.Identifier):
        return []
    source = _name(using, scope)
    source_alias = (using.alias or using.name).lower()
    target_alias = (target.alias or target.name).lower()
    pairs: list[tuple[exp.Expression, exp.Expression]] = []
    for when in tree.find_all(exp.When):
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            pairs.extend(
                (eq.this, eq.expression) for eq in then.expressions if isinstance(eq, exp.EQ)
            )
        elif isinstance(then, exp.Insert) and isinstance(then.this, exp.Tuple):
            values = then.expression
            if isinstance(values, exp.Tuple):
                pairs.extend(zip(then.this.expressions, values.expressions, strict=False))
    edges = []
    for out, value in pairs:
        if not isinstance(out, exp.Column):
            continue
        for column in value.find_all(exp.Column):
            qualifier = column.table.lower()
            if qualifier == source_alias or (not qualifier and source_alias != target_alias):
                edges.append((source, column.name.lower(), target_name, out.name.lower()))
    return list(dict.fromkeys(edges))


def _target_columns(node: exp.Expression | None) -> list[str] | None:
    """``INSERT INTO t (a, b)`` / ``CREATE VIEW v (a, b)``: the written column names."""
    if isinstance(node, exp.Schema) and node.expressions:
        return [e.name for e in node.expressions if isinstance(e, exp.Identifier | exp.ColumnDef)]
    return None


def _column_edges(
    query: exp.Query,
    names: list[str] | None,
    target: str,
    scope: Scope,
    local: set[str],
    columns_of: ColumnsOf | None,
) -> list[tuple[str, str, str, str]]:
    selects = [query] if isinstance(query, exp.Select) else []
    if isinstance(query, exp.SetOperation):
        selects = [s for s in query.find_all(exp.Select) if _branch_of(s, query)]
    edges: list[tuple[str, str, str, str]] = []
    out_names = names
    for select in selects:
        outputs = _outputs(select, scope, local, columns_of)
        if outputs is None:
            continue
        if out_names is None:
            out_names = [name for name, _ in outputs]
        for position, (name, refs) in enumerate(outputs):
            out = out_names[position] if position < len(out_names) else name
            edges.extend((table, column, target, out) for table, column in refs)
    return list(dict.fromkeys(edges))


def _branch_of(select: exp.Select, union: exp.SetOperation) -> bool:
    """Whether ``select`` is a direct branch of the (possibly nested) set operation."""
    parent = select.parent
    while isinstance(parent, exp.SetOperation | exp.Subquery):
        if parent is union:
            return True
        parent = parent.parent
    return False


def _sources(select: exp.Select, scope: Scope, local: set[str]) -> dict[str, str] | None:
    """Alias (and bare name) -> public table name of the select's FROM/JOIN tables.

    None when a source is a subquery or CTE: its columns are not a table's, so skip.
    """
    relations = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None:
        relations.append(from_.this)
    relations.extend(join.this for join in select.args.get("joins") or [])
    found: dict[str, str] = {}
    for rel in relations:
        if not isinstance(rel, exp.Table) or not _is_table(rel, local):
            return None
        public = _name(rel, scope)
        found[(rel.alias or rel.name).lower()] = public
        found.setdefault(rel.name.lower(), public)
    return found


def _outputs(
    select: exp.Select, scope: Scope, local: set[str], columns_of: ColumnsOf | None
) -> list[tuple[str, list[tuple[str, str]]]] | None:
    """(output name, [(source table, source column)]) per projection, or None if unclear."""
    tables = _sources(select, scope, local)
    if not tables:
        return None
    distinct = list(dict.fromkeys(tables.values()))
    outputs: list[tuple[str, list[tuple[str, str]]]] = []
    for projection in select.expressions:
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            qualifier = projection.table.lower() if isinstance(projection, exp.Column) else ""
            star_tables = [tables[qualifier]] if qualifier in tables else distinct
            for table in star_tables:
                cols = columns_of(table) if columns_of is not None else None
                if cols is None:
                    return None  # cannot expand: positions after it are unknown
                outputs.extend((c, [(table, c)]) for c in cols)
            continue
        refs: list[tuple[str, str]] = []
        for column in projection.find_all(exp.Column):
            if isinstance(column.this, exp.Star):
                continue
            qualifier = column.table.lower()
            single = distinct[0] if len(distinct) == 1 else None
            source = tables.get(qualifier) if qualifier else single
            if source is not None:
                refs.append((source, column.name.lower()))
        outputs.append((projection.alias_or_name.lower(), list(dict.fromkeys(refs))))
    return outputs
