"""Unity Catalog tags: key/value pairs on catalogs, schemas, tables (and views), columns and
volumes, stored by entity type and full name in ``uc.sqlite``.

Entity types are the Entity Tag Assignments API's own (``catalogs``, ``schemas``, ``tables``,
``columns``, ``volumes``); a column's entity name is its table's full name plus the column.
SQL (``ALTER ... SET TAGS``, ``SET TAG ON``), the REST API and ``information_schema.*_tags``
all read and write this one store. Tags of a dropped object go with it (:func:`forget`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local_workspace.catalog.meta import now_ms
from local_workspace.errors import invalid, not_found

if TYPE_CHECKING:
    from local_workspace.catalog.meta import MetaStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entity_tags (
    entity_type TEXT NOT NULL, entity_name TEXT NOT NULL, tag_key TEXT NOT NULL,
    tag_value TEXT, updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_name, tag_key)
);
"""
ENTITY_TYPES = ("catalogs", "schemas", "tables", "columns", "volumes")
# Name parts of each entity type (a column: catalog.schema.table.column).
PARTS = {"catalogs": 1, "schemas": 2, "tables": 3, "volumes": 3, "columns": 4}
# Databricks' limits on tags (docs: "Apply tags to Unity Catalog securable objects").
MAX_TAGS = 50
MAX_KEY = 255
MAX_VALUE = 1000


def create_schema(meta: MetaStore) -> None:
    """The tags table (idempotent)."""
    with meta.transaction() as db:
        db.execute(_SCHEMA)


def entity_name(entity_type: str, full_name: str) -> str:
    """The stored key of an entity: container parts lowercased, a column name kept as is."""
    parts = full_name.split(".")
    if entity_type == "columns":
        return ".".join([p.lower() for p in parts[:3]] + parts[3:])
    return ".".join(p.lower() for p in parts)


def check_type(entity_type: str) -> str:
    """A known entity type, or 400 INVALID_PARAMETER_VALUE."""
    if entity_type not in ENTITY_TYPES:
        raise invalid(
            f"Invalid entity_type '{entity_type}': expected one of {', '.join(ENTITY_TYPES)}."
        )
    return entity_type


def check_tag(key: str, value: str | None) -> None:
    """Databricks' rules for a tag key and value."""
    if not key or len(key) > MAX_KEY:
        raise invalid(f"Tag key must have 1 to {MAX_KEY} characters: '{key[:40]}'.")
    if any(c in key for c in ".,-=/:") or key != key.strip():
        raise invalid(
            f"Tag key '{key}' contains a character tags do not allow (. , - = / : or "
            "leading/trailing spaces)."
        )
    if value is not None and len(value) > MAX_VALUE:
        raise invalid(f"Tag value of '{key}' is longer than {MAX_VALUE} characters.")


class Tags:
    """The tag assignments of one workspace (names are public)."""

    def __init__(self, meta: MetaStore, owner: str) -> None:
        self.meta = meta
        self.owner = owner
        create_schema(meta)

    def set(self, entity_type: str, full_name: str, tags: dict[str, str | None]) -> None:
        """Assign ``tags`` (replacing the value of a key already set)."""
        name = entity_name(check_type(entity_type), full_name)
        for key, value in tags.items():
            check_tag(key, value)
        existing = {t["tag_key"] for t in self.of(entity_type, name)}
        if len(existing | set(tags)) > MAX_TAGS:
            raise invalid(f"An object can have at most {MAX_TAGS} tags.", "INVALID_STATE")
        now = now_ms()
        with self.meta.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO entity_tags VALUES (?, ?, ?, ?, ?, ?)",
                [(entity_type, name, k, v, now, self.owner) for k, v in tags.items()],
            )

    def unset(self, entity_type: str, full_name: str, keys: list[str]) -> int:
        """Remove the tags ``keys`` (keys not set are ignored); how many went."""
        name = entity_name(check_type(entity_type), full_name)
        with self.meta.transaction() as db:
            removed = 0
            for key in keys:
                cur = db.execute(
                    "DELETE FROM entity_tags WHERE entity_type = ? AND entity_name = ? "
                    "AND tag_key = ?",
                    (entity_type, name, key),
                )
                removed += cur.rowcount
        return removed

    def of(self, entity_type: str, full_name: str) -> list[dict[str, Any]]:
        """Assignments of one entity, sorted by key."""
        return self.meta.rows(
            "SELECT * FROM entity_tags WHERE entity_type = ? AND entity_name = ? ORDER BY tag_key",
            (entity_type, entity_name(entity_type, full_name)),
        )

    def get(self, entity_type: str, full_name: str, key: str) -> dict[str, Any]:
        """One assignment; 404 when the key is not set."""
        for tag in self.of(entity_type, full_name):
            if tag["tag_key"] == key:
                return tag
        raise not_found(
            f"Tag assignment with key '{key}' does not exist on {entity_type} '{full_name}'."
        )

    def under(self, entity_type: str, catalog: str | None) -> list[dict[str, Any]]:
        """Every assignment of a type, in one catalog or all (sorted by name and key)."""
        if catalog is None:
            return self.meta.rows(
                "SELECT * FROM entity_tags WHERE entity_type = ? ORDER BY entity_name, tag_key",
                (entity_type,),
            )
        prefix = catalog.lower()
        return self.meta.rows(
            "SELECT * FROM entity_tags WHERE entity_type = ? AND (entity_name = ? OR "
            "substr(entity_name, 1, ?) = ?) ORDER BY entity_name, tag_key",
            (entity_type, prefix, len(prefix) + 1, prefix + "."),
        )

    def as_assignment(self, row: dict[str, Any]) -> dict[str, Any]:
        """An EntityTagAssignment dict of a stored row."""
        import datetime as dt

        when = dt.datetime.fromtimestamp(row["updated_at"] / 1000, dt.timezone.utc)
        body = {
            "entity_type": row["entity_type"],
            "entity_name": row["entity_name"],
            "tag_key": row["tag_key"],
            "update_time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
            "updated_by": row["updated_by"],
        }
        if row["tag_value"] is not None:
            body["tag_value"] = row["tag_value"]
        return body


def forget(meta: MetaStore, kind: str, full_name: str) -> None:
    """Drop the tags of a dropped ``catalog``, ``schema`` (with everything in them),
    ``table`` (with its columns) or ``volume``."""
    name = full_name.lower()
    below = (len(name) + 1, name + ".")
    with meta.transaction() as db:
        if kind in ("catalog", "schema"):
            db.execute("DELETE FROM entity_tags WHERE entity_name = ?", (name,))
            db.execute("DELETE FROM entity_tags WHERE substr(entity_name, 1, ?) = ?", below)
        elif kind == "table":
            db.execute(
                "DELETE FROM entity_tags WHERE entity_type = 'tables' AND entity_name = ?", (name,)
            )
            db.execute(
                "DELETE FROM entity_tags WHERE entity_type = 'columns' "
                "AND substr(entity_name, 1, ?) = ?",
                below,
            )
        elif kind == "volume":
            db.execute(
                "DELETE FROM entity_tags WHERE entity_type = 'volumes' AND entity_name = ?", (name,)
            )
