"""Metadata records of schemas, tables and views: who created them, when, and their comment.

DuckDB holds the objects themselves; this keeps the rest in the ``objects`` table of
``uc.sqlite``. A dropped object's record goes with its grants and constraints.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from local_workspace.catalog import history, tags
from local_workspace.catalog.meta import now_ms
from local_workspace.catalog.privileges import forget_grants

if TYPE_CHECKING:
    from local_workspace.catalog.constraints import Constraints
    from local_workspace.catalog.meta import MetaStore

# Rows of objects inside a container (`_` must not act as a LIKE wildcard here).
UNDER = "DELETE FROM objects WHERE substr(full_name, 1, ?) = ?"


class ObjectRecords:
    """The ``objects`` rows of one catalog engine (names are public and lowercased)."""

    def __init__(self, meta: MetaStore, constraints: Constraints, owner: str) -> None:
        self.meta = meta
        self.constraints = constraints
        self.owner = owner

    def record(
        self, kind: str, full_name: str, comment: str | None, extra: dict[str, Any] | None = None
    ) -> None:
        """Create (or replace) the record of a ``schema`` or ``table``, owned by the user."""
        now = now_ms()
        with self.meta.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    full_name,
                    comment,
                    self.owner,
                    now,
                    self.owner,
                    now,
                    self.owner,
                    str(uuid.uuid4()),
                    json.dumps(extra) if extra else None,
                ),
            )

    def update(self, kind: str, full_name: str, comment: str | None, owner: str | None) -> None:
        """Change the comment or owner (None leaves it) of a record, creating it if missing."""
        if (
            self.meta.row(
                "SELECT 1 FROM objects WHERE kind = ? AND full_name = ?", (kind, full_name)
            )
            is None
        ):
            self.record(kind, full_name, None)
        with self.meta.transaction() as db:
            if comment is not None:
                db.execute(
                    "UPDATE objects SET comment = ? WHERE kind = ? AND full_name = ?",
                    (comment, kind, full_name),
                )
            if owner:
                db.execute(
                    "UPDATE objects SET owner = ? WHERE kind = ? AND full_name = ?",
                    (owner, kind, full_name),
                )
            db.execute(
                "UPDATE objects SET updated_at = ?, updated_by = ? "
                "WHERE kind = ? AND full_name = ?",
                (now_ms(), self.owner, kind, full_name),
            )

    def forget(self, kind: str, full_name: str) -> None:
        """Forget a dropped ``schema`` (and everything in it) or ``table``: its record, its
        grants, constraints, tags and history."""
        with self.meta.transaction() as db:
            db.execute("DELETE FROM objects WHERE kind = ? AND full_name = ?", (kind, full_name))
            if kind == "schema":
                db.execute(UNDER, (len(full_name) + 1, full_name + "."))
        forget_grants(self.meta, full_name, (kind,), children=kind == "schema")
        tags.forget(self.meta, kind, full_name)
        history.forget(self.meta, kind, full_name)
        self.constraints.forget(full_name, children=kind == "schema")
