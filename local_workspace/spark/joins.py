"""``DataFrame.join``: the FROM clause of a join, and the columns it selects (Spark's order:
``USING`` keys first, then the left side's other columns, then the right side's)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_workspace.spark.column import Column, render
from local_workspace.spark.convert import quote_ident
from local_workspace.spark.errors import PySparkValueError
from local_workspace.spark.frame_base import Source

if TYPE_CHECKING:
    from local_workspace.spark.dataframe import DataFrame

_KINDS = {
    "inner": "INNER JOIN",
    "cross": "CROSS JOIN",
    "outer": "FULL OUTER JOIN",
    "full": "FULL OUTER JOIN",
    "fullouter": "FULL OUTER JOIN",
    "full_outer": "FULL OUTER JOIN",
    "left": "LEFT OUTER JOIN",
    "leftouter": "LEFT OUTER JOIN",
    "left_outer": "LEFT OUTER JOIN",
    "right": "RIGHT OUTER JOIN",
    "rightouter": "RIGHT OUTER JOIN",
    "right_outer": "RIGHT OUTER JOIN",
    "semi": "LEFT SEMI JOIN",
    "leftsemi": "LEFT SEMI JOIN",
    "left_semi": "LEFT SEMI JOIN",
    "anti": "LEFT ANTI JOIN",
    "leftanti": "LEFT ANTI JOIN",
    "left_anti": "LEFT ANTI JOIN",
}


def join_frames(left: DataFrame, right: DataFrame, on: Any, how: str) -> DataFrame:
    """``left.join(right, on, how)`` as a DataFrame whose FROM clause stays open."""
    kind = _KINDS.get(how.lower().replace(" ", ""))
    if kind is None:
        raise PySparkValueError(
            f"Unsupported join type '{how}'. Supported join types include: 'inner', 'outer', "
            "'full', 'fullouter', 'full_outer', 'leftouter', 'left', 'left_outer', "
            "'rightouter', 'right', 'right_outer', 'leftsemi', 'left_semi', 'semi', "
            "'leftanti', 'left_anti', 'anti', 'cross'.",
            errorClass="UNSUPPORTED_JOIN_TYPE",
        )
    by_name = isinstance(on, str) or (
        isinstance(on, list | tuple) and bool(on) and isinstance(on[0], str)
    )
    lsrc = left._source()
    if by_name and left._join is not None:
        # USING keys over a join's output: join that output as one subquery (its columns are
        # named once there); columns of its sides are found under the subquery's alias.
        alias = quote_ident(left._alias)
        qualifiers = {k: f"{alias}." for k in [*left._join.qualifiers, left._id]}
        lsrc = Source(f"({left._sql}) AS {alias}", qualifiers, "*")
    ralias = right._alias
    if any(q == f"{quote_ident(ralias)}." for q in lsrc.qualifiers.values()):
        ralias = f"{ralias}_{right.sparkSession._next_id()}"  # a self-join without alias()
    rq = f"{quote_ident(ralias)}."
    qualifiers = {**lsrc.qualifiers, right._id: rq}
    if right._join is not None:  # the right side's own sides are hidden inside it
        qualifiers.update({k: rq for k in right._join.qualifiers})
    rfrom = f"({right._sql}) AS {quote_ident(ralias)}"
    semi = "SEMI" in kind or "ANTI" in kind
    names = None
    if by_name:
        keys = [on] if isinstance(on, str) else list(on)
        condition = " AND ".join(_using(lsrc, left, rq, k) for k in keys)
        items, names = _using_star(left, right, lsrc, rq, keys, kind)
        star = ", ".join(items)
        if semi:
            star, names = lsrc.star, None
        clause = f"{lsrc.from_clause} {_inner(kind)} {rfrom} ON {condition}"
    else:
        conditions = [on] if isinstance(on, Column) else list(on or [])
        text = " AND ".join(f"({render(c._sql, qualifiers)})" for c in conditions)
        star = lsrc.star if semi else f"{_star_of(lsrc)}, {rq}*"
        if not text:
            clause = f"{lsrc.from_clause} CROSS JOIN {rfrom}" if not semi else ""
            if semi:
                raise PySparkValueError("a semi or anti join needs a join condition")
        else:
            clause = f"{lsrc.from_clause} {_inner(kind)} {rfrom} ON {text}"
    sql = f"SELECT {star} FROM {clause}"
    source = Source(clause, qualifiers, star)
    if names is not None and len({n.lower() for n in names}) < len(names):
        rids = [right._id, *(right._join.qualifiers if right._join is not None else [])]
        nright = len(names) - len(left.columns)
        source = _lateral(left, items, names, nright, clause, qualifiers, rids)
    elif names is not None:
        # A USING join names each key once, but the open FROM clause still has it on both
        # sides, so a later unqualified "key" (withColumn, fillna, groupBy, a merge) would be
        # ambiguous. The next step reads the join's explicit select list as one subquery; a
        # side's columns (``left.x``, ``right["y"]``) are found under the subquery's alias.
        alias = quote_ident(f"t{left.sparkSession._next_id()}")
        wrapped = {k: f"{alias}." for k in qualifiers}
        source = Source(f"({sql}) AS {alias}", wrapped, "*")
    streaming = left.isStreaming or right.isStreaming
    return left._new(sql, names, join=source, streaming=streaming)


def _inner(kind: str) -> str:
    return "INNER JOIN" if kind == "CROSS JOIN" else kind


def _star_of(source: Source) -> str:
    if source.star != "*":
        return source.star
    return ", ".join(f"{q}*" for q in source.qualifiers.values() if q) or "*"


def _left_ref(source: Source, left: DataFrame, key: str) -> str:
    qualifier = source.qualifiers.get(left._id, "")
    return f"{qualifier}{quote_ident(key)}"


def _using(source: Source, left: DataFrame, rq: str, key: str) -> str:
    return f"{_left_ref(source, left, key)} = {rq}{quote_ident(key)}"


def _using_star(
    left: DataFrame, right: DataFrame, source: Source, rq: str, keys: list[str], kind: str
) -> tuple[list[str], list[str]]:
    lower = {k.lower() for k in keys}
    lnames, rnames = left.columns, right.columns
    items = []
    for key in keys:
        lref, rref = _left_ref(source, left, key), f"{rq}{quote_ident(key)}"
        if kind == "FULL OUTER JOIN":
            items.append(f"coalesce({lref}, {rref}) AS {quote_ident(key)}")
        elif kind == "RIGHT OUTER JOIN":
            items.append(f"{rref} AS {quote_ident(key)}")
        else:
            items.append(f"{lref} AS {quote_ident(key)}")
    lq = source.qualifiers.get(left._id, "")
    items += [f"{lq}{quote_ident(n)}" for n in lnames if n.lower() not in lower]
    items += [f"{rq}{quote_ident(n)}" for n in rnames if n.lower() not in lower]
    names = [*keys]
    names += [n for n in lnames if n.lower() not in lower]
    names += [n for n in rnames if n.lower() not in lower]
    return items, names


def _lateral(
    left: DataFrame,
    items: list[str],
    names: list[str],
    nright: int,
    clause: str,
    qualifiers: dict[int, str],
    right_ids: list[int],
) -> Source:
    """The FROM clause of a USING join whose sides share non-key names (Spark allows them):
    keys and the left's columns in one subquery, the right's other columns in a LATERAL
    beside it, so a later unqualified shared name is AMBIGUOUS_REFERENCE as in Spark (never
    the left's silently) while the keys and every other name resolve."""
    session = left.sparkSession
    outer = quote_ident(f"t{session._next_id()}")
    beside = quote_ident(f"t{session._next_id()}")
    split = len(items) - nright
    hidden = [quote_ident(f"__r{i}") for i in range(nright)]
    inner = [*items[:split], *(f"{i} AS {h}" for i, h in zip(items[split:], hidden, strict=True))]
    lateral = ", ".join(
        f"{outer}.{h} AS {quote_ident(n)}" for h, n in zip(hidden, names[split:], strict=True)
    )
    from_clause = (
        f"(SELECT {', '.join(inner)} FROM {clause}) AS {outer}, "
        f"LATERAL (SELECT {lateral}) AS {beside}"
    )
    wrapped = {k: f"{outer}." for k in qualifiers}
    wrapped.update({k: f"{beside}." for k in right_ids})
    star = [f"{outer}.{quote_ident(n)}" for n in names[:split]]
    star += [f"{beside}.{quote_ident(n)}" for n in names[split:]]
    return Source(from_clause, wrapped, ", ".join(star))
