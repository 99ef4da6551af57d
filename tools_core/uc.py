"""Unity Catalog: catalogs, schemas, tables, volumes and grants through the SDK.

Lists are bounded (fetch limit+1 from the SDK's iterators); texts are compact markdown.
The SDK is imported inside functions only, to keep importing this module cheap.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import Field

from tools_core import ids
from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.results import Result, markdown_table

if TYPE_CHECKING:
    from databricks.sdk.service.catalog import TableInfo

# A registered model's grants are those of a FUNCTION (Unity Catalog's securable for models).
SecurableType = Literal["catalog", "schema", "table", "volume", "function"]
# The full name of each kind of securable.
SHAPES: dict[str, str] = {
    "catalog": "catalog",
    "schema": "catalog.schema",
    "table": "catalog.schema.table",
    "volume": "catalog.schema.volume",
    "function": "catalog.schema.function_or_model",
}
T = TypeVar("T")

MAX_COLUMNS = 300
MAX_VIEW_CHARS = 2_000
# Column tags cost one Entity Tag Assignments call per column: only read for narrow tables.
MAX_TAGGED_COLUMNS = 30


def _value(enum: Any) -> str | None:
    return None if enum is None else str(getattr(enum, "value", enum))


def _bounded(items: Iterable[T], limit: int) -> tuple[list[T], bool]:
    """At most ``limit`` items and whether more existed (fetches limit+1)."""
    taken = list(itertools.islice(items, limit + 1))
    return taken[:limit], len(taken) > limit


def _more(truncated: bool, what: str) -> str:
    return f"\n(more {what} exist: raise limit or narrow the filter)" if truncated else ""


class NamedItem(Result):
    """A catalog, schema or volume in a list."""

    name: str
    owner: str | None = None
    comment: str | None = None
    kind: str | None = None  # volume type for volumes


class CatalogList(Result):
    """The answer of uc_list_catalogs."""

    catalogs: list[NamedItem]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [(c.name, c.owner, c.comment or "") for c in self.catalogs]
        return markdown_table(["catalog", "owner", "comment"], rows) + _more(
            self.truncated, "catalogs"
        )


class SchemaList(Result):
    """The answer of uc_list_schemas."""

    catalog: str
    schemas: list[NamedItem]
    truncated: bool = False

    def to_text(self) -> str:
        rows = [(f"{self.catalog}.{s.name}", s.owner, s.comment or "") for s in self.schemas]
        return markdown_table(["schema", "owner", "comment"], rows) + _more(
            self.truncated, "schemas"
        )


class TableItem(Result):
    """A table or view in a list."""

    name: str
    table_type: str | None = None
    comment: str | None = None


class TableList(Result):
    """The answer of uc_list_tables."""

    catalog: str
    schema_name: str
    tables: list[TableItem]
    truncated: bool = False

    def to_text(self) -> str:
        prefix = f"{self.catalog}.{self.schema_name}."
        rows = [(prefix + t.name, t.table_type, t.comment or "") for t in self.tables]
        text = markdown_table(["table", "type", "comment"], rows)
        return (
            text
            + _more(self.truncated, "tables")
            + ("\n(columns: uc_get_table)" if self.tables else "")
        )


class ColumnItem(Result):
    """A column of a table."""

    name: str
    type: str
    nullable: bool = True
    comment: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class TableDetail(Result):
    """The answer of uc_get_table."""

    full_name: str
    table_type: str | None = None
    data_source_format: str | None = None
    owner: str | None = None
    comment: str | None = None
    created_at: int | None = None
    storage_location: str | None = None
    view_definition: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    columns: list[ColumnItem]
    columns_truncated: bool = False

    @classmethod
    def from_sdk(cls, info: TableInfo) -> TableDetail:
        """The useful fields of an SDK TableInfo."""
        columns = [
            ColumnItem(
                name=c.name or "",
                type=c.type_text or _value(c.type_name) or "",
                nullable=c.nullable is not False,
                comment=c.comment,
            )
            for c in sorted(info.columns or [], key=lambda c: c.position or 0)
        ]
        view = info.view_definition
        if view and len(view) > MAX_VIEW_CHARS:
            view = view[:MAX_VIEW_CHARS] + "…"
        return cls(
            full_name=info.full_name or "",
            table_type=_value(info.table_type),
            data_source_format=_value(info.data_source_format),
            owner=info.owner,
            comment=info.comment,
            created_at=info.created_at,
            storage_location=info.storage_location,
            view_definition=view,
            columns=columns[:MAX_COLUMNS],
            columns_truncated=len(columns) > MAX_COLUMNS,
        )

    def to_text(self) -> str:
        kind = " ".join(x for x in (self.table_type, self.data_source_format) if x)
        lines = [f"{self.full_name} ({kind or 'table'}), owner {self.owner or '?'}"]
        if self.comment:
            lines.append(f"comment: {self.comment}")
        if self.tags:
            lines.append("tags: " + _tag_text(self.tags))
        if self.view_definition:
            lines.append(f"view: {self.view_definition}")
        tagged = any(c.tags for c in self.columns)
        rows = [
            (c.name, c.type + ("" if c.nullable else " not null"), c.comment or "")
            + ((_tag_text(c.tags),) if tagged else ())
            for c in self.columns
        ]
        head = ["column", "type", "comment"] + (["tags"] if tagged else [])
        lines.append(markdown_table(head, rows))
        if self.columns_truncated:
            lines.append(f"(only the first {MAX_COLUMNS} columns shown)")
        return "\n".join(lines)


def _tag_text(tags: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" if v else k for k, v in sorted(tags.items()))


class VolumeList(Result):
    """The answer of uc_list_volumes."""

    catalog: str
    schema_name: str
    volumes: list[NamedItem]
    truncated: bool = False

    def to_text(self) -> str:
        prefix = f"/Volumes/{self.catalog}/{self.schema_name}/"
        rows = [(prefix + v.name, v.kind, v.owner, v.comment or "") for v in self.volumes]
        return markdown_table(["volume path", "type", "owner", "comment"], rows) + _more(
            self.truncated, "volumes"
        )


class GrantItem(Result):
    """Privileges of one principal; inherited ones name their source."""

    principal: str
    privileges: list[str]


class GrantList(Result):
    """The answer of uc_get_grants."""

    securable_type: str
    full_name: str
    effective: bool = False
    grants: list[GrantItem]

    def to_text(self) -> str:
        what = "effective privileges" if self.effective else "direct grants"
        head = f"{what} on {self.securable_type} {self.full_name}:"
        if not self.grants:
            tail = "" if self.effective else " (inherited ones: effective=true)"
            return f"{head} none{tail}"
        rows = [(g.principal, ", ".join(g.privileges)) for g in self.grants]
        return head + "\n" + markdown_table(["principal", "privileges"], rows)


class GrantUpdate(Result):
    """The answer of uc_update_grants."""

    securable_type: str
    full_name: str
    principal: str
    applied: bool
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    # The principal's direct privileges now (or still, when only previewed).
    privileges: list[str] = Field(default_factory=list)

    def to_text(self) -> str:
        target = f"{self.securable_type} {self.full_name}"
        now = ", ".join(self.privileges) or "none"
        if not self.applied:
            return (
                f"Nothing changed. Would revoke {', '.join(self.removed)} from {self.principal} "
                f"on {target}"
                + (f" and grant {', '.join(self.added)}" if self.added else "")
                + f". Current: {now}. Call again with confirm=true."
            )
        return f"{self.principal} on {target} now has: {now}."


def list_catalogs(backend: Backend, limit: int = 100) -> CatalogList:
    """Catalogs visible to the user."""
    items, truncated = _bounded(backend.client.catalogs.list(), limit)
    return CatalogList(
        catalogs=[NamedItem(name=c.name or "", owner=c.owner, comment=c.comment) for c in items],
        truncated=truncated,
    )


def list_schemas(backend: Backend, catalog: str, limit: int = 100) -> SchemaList:
    """Schemas of a catalog."""
    ids.uc_name(catalog, "catalog")
    items, truncated = _bounded(backend.client.schemas.list(catalog_name=catalog), limit)
    return SchemaList(
        catalog=catalog,
        schemas=[NamedItem(name=s.name or "", owner=s.owner, comment=s.comment) for s in items],
        truncated=truncated,
    )


def _matches(name: str, pattern: str | None) -> bool:
    """Glob (``*``, ``?``) or case-insensitive substring match."""
    if not pattern:
        return True
    name, pattern = name.lower(), pattern.lower()
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def list_tables(
    backend: Backend, catalog: str, schema: str, name_filter: str | None = None, limit: int = 100
) -> TableList:
    """Tables and views of a schema (no columns), optionally filtered by name."""
    ids.uc_name(catalog, "catalog")
    ids.uc_name(schema, "schema")
    listed: Iterator[Any] = backend.client.tables.list(
        catalog_name=catalog, schema_name=schema, omit_columns=True, omit_properties=True
    )
    matching = (t for t in listed if _matches(t.name or "", name_filter))
    items, truncated = _bounded(matching, limit)
    return TableList(
        catalog=catalog,
        schema_name=schema,
        tables=[
            TableItem(name=t.name or "", table_type=_value(t.table_type), comment=t.comment)
            for t in items
        ],
        truncated=truncated,
    )


def get_table(backend: Backend, full_name: str) -> TableDetail:
    """A table's columns and facts, with its tags (and its columns' on narrow tables)."""
    in_url = ids.full_name(full_name, "table")
    detail = TableDetail.from_sdk(backend.client.tables.get(in_url))
    table_tags = _tags(backend, "tables", detail.full_name)
    detail.tags = table_tags or {}
    if table_tags is not None and len(detail.columns) <= MAX_TAGGED_COLUMNS:
        for column in detail.columns:
            found = _tags(backend, "columns", f"{detail.full_name}.{column.name}")
            if found is None:
                break
            column.tags = found
    return detail


def _tags(backend: Backend, entity_type: str, entity_name: str) -> dict[str, str] | None:
    """Tags of an entity; None where the workspace has no Entity Tag Assignments API or the
    caller may not read them (tags are an extra: the table's facts still answer)."""
    from databricks.sdk.errors import DatabricksError

    try:
        found = backend.client.entity_tag_assignments.list(entity_type, entity_name)
        return {t.tag_key: t.tag_value or "" for t in itertools.islice(found, 100)}
    except DatabricksError:
        return None


def list_volumes(backend: Backend, catalog: str, schema: str, limit: int = 100) -> VolumeList:
    """Volumes of a schema."""
    ids.uc_name(catalog, "catalog")
    ids.uc_name(schema, "schema")
    listed = backend.client.volumes.list(catalog_name=catalog, schema_name=schema)
    items, truncated = _bounded(listed, limit)
    return VolumeList(
        catalog=catalog,
        schema_name=schema,
        volumes=[
            NamedItem(
                name=v.name or "", owner=v.owner, comment=v.comment, kind=_value(v.volume_type)
            )
            for v in items
        ],
        truncated=truncated,
    )


def get_grants(
    backend: Backend,
    securable_type: SecurableType,
    full_name: str,
    principal: str | None = None,
    effective: bool = False,
) -> GrantList:
    """Direct grants on a securable, or effective ones (with where each is inherited from)."""
    grants: list[GrantItem] = []
    in_url = _securable(securable_type, full_name)
    if effective:
        answer = backend.client.grants.get_effective(securable_type, in_url, principal=principal)
        for a in answer.privilege_assignments or []:
            privileges = []
            for p in a.privileges or []:
                text = _value(p.privilege) or ""
                if p.inherited_from_name:
                    source = (_value(p.inherited_from_type) or "").lower()
                    text += f" (from {source} {p.inherited_from_name})"
                privileges.append(text)
            grants.append(GrantItem(principal=a.principal or "", privileges=privileges))
    else:
        direct = backend.client.grants.get(securable_type, in_url, principal=principal)
        grants = [
            GrantItem(
                principal=a.principal or "",
                privileges=sorted(_value(p) or "" for p in a.privileges or []),
            )
            for a in direct.privilege_assignments or []
        ]
    return GrantList(
        securable_type=securable_type, full_name=full_name, effective=effective, grants=grants
    )


def _securable(securable_type: str, full_name: str) -> str:
    """The securable's full name checked and escaped for the permissions URL."""
    return ids.full_name(
        full_name, securable_type, SHAPES.get(securable_type, "catalog.schema.table")
    )


def _privileges(names: list[str]) -> list[str]:
    """Privilege names normalized (``use catalog`` -> ``USE_CATALOG``) and checked."""
    from databricks.sdk.service.catalog import Privilege

    known = {p.value for p in Privilege}
    result = []
    for name in names:
        value = name.strip().upper().replace(" ", "_")
        if value not in known:
            raise InvalidInput(
                f"Unknown privilege '{name}'.",
                "Use e.g. USE_CATALOG, USE_SCHEMA, SELECT, MODIFY, CREATE_TABLE, ALL_PRIVILEGES.",
            )
        result.append(value)
    return sorted(set(result))


def _direct_privileges(
    backend: Backend, securable_type: str, full_name: str, principal: str
) -> list[str]:
    in_url = _securable(securable_type, full_name)
    answer = backend.client.grants.get(securable_type, in_url, principal=principal)
    return sorted(
        _value(p) or ""
        for a in answer.privilege_assignments or []
        if a.principal == principal
        for p in a.privileges or []
    )


def update_grants(
    backend: Backend,
    securable_type: SecurableType,
    full_name: str,
    principal: str,
    add: list[str] | None = None,
    remove: list[str] | None = None,
    confirm: bool = False,
) -> GrantUpdate:
    """Grant and/or revoke privileges; revoking changes nothing unless ``confirm``."""
    from databricks.sdk.service.catalog import PermissionsChange, Privilege

    added, removed = _privileges(add or []), _privileges(remove or [])
    if not added and not removed:
        raise InvalidInput("Nothing to change.", "Pass privileges in add and/or remove.")
    if removed and not confirm:
        current = _direct_privileges(backend, securable_type, full_name, principal)
        return GrantUpdate(
            securable_type=securable_type,
            full_name=full_name,
            principal=principal,
            applied=False,
            added=added,
            removed=removed,
            privileges=current,
        )
    change = PermissionsChange(
        principal=principal,
        add=[Privilege(p) for p in added] or None,
        remove=[Privilege(p) for p in removed] or None,
    )
    in_url = _securable(securable_type, full_name)
    answer = backend.client.grants.update(securable_type, in_url, changes=[change])
    now = sorted(
        _value(p) or ""
        for a in answer.privilege_assignments or []
        if a.principal == principal
        for p in a.privileges or []
    )
    return GrantUpdate(
        securable_type=securable_type,
        full_name=full_name,
        principal=principal,
        applied=True,
        added=added,
        removed=removed,
        privileges=now,
    )
