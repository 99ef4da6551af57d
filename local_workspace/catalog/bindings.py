"""Workspace bindings of securables and the metastore's artifact allowlists
(``surface.sqlite``): settings a client reads back, with no effect in a one-workspace world."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local_workspace.catalog.meta import now_ms
from local_workspace.errors import invalid
from local_workspace.http import int64
from local_workspace.sqlite_store import SqliteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bindings (
    securable_type TEXT NOT NULL, name TEXT NOT NULL, workspace_id INTEGER NOT NULL,
    binding_type TEXT NOT NULL, PRIMARY KEY (securable_type, name, workspace_id)
);
CREATE TABLE IF NOT EXISTS allowlists (artifact_type TEXT PRIMARY KEY, info TEXT NOT NULL);
"""

ARTIFACT_TYPES = frozenset({"INIT_SCRIPT", "LIBRARY_JAR", "LIBRARY_MAVEN"})
BINDING_TYPES = frozenset({"BINDING_TYPE_READ_WRITE", "BINDING_TYPE_READ_ONLY"})


class SurfaceStore(SqliteStore):
    """Bindings and allowlists of one local workspace (thread-safe)."""

    def __init__(self, path: Path, user: str, metastore_id: str) -> None:
        super().__init__(path, _SCHEMA)
        self.user = user
        self.metastore_id = metastore_id

    def bindings(self, securable_type: str, name: str) -> list[dict[str, Any]]:
        """WorkspaceBinding dicts of a securable, by workspace id."""
        rows = self.query(
            "SELECT workspace_id, binding_type FROM bindings WHERE securable_type = ? "
            "AND name = ? ORDER BY workspace_id",
            (securable_type, name),
        )
        return [{"workspace_id": w, "binding_type": b} for w, b in rows]

    def update_bindings(
        self, securable_type: str, name: str, add: list[Any], remove: list[Any]
    ) -> list[dict[str, Any]]:
        """Add and remove bindings (WorkspaceBinding dicts or bare workspace ids), all or none."""
        adds = [_binding(b) for b in add]
        removes = [_binding(b)[0] for b in remove]
        with self.transaction() as db:
            for workspace_id in removes:
                db.execute(
                    "DELETE FROM bindings WHERE securable_type = ? AND name = ? "
                    "AND workspace_id = ?",
                    (securable_type, name, workspace_id),
                )
            for workspace_id, binding_type in adds:
                db.execute(
                    "INSERT OR REPLACE INTO bindings VALUES (?, ?, ?, ?)",
                    (securable_type, name, workspace_id, binding_type),
                )
        return self.bindings(securable_type, name)

    def forget(self, securable_type: str, name: str) -> None:
        """Drop the bindings of a securable."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM bindings WHERE securable_type = ? AND name = ?", (securable_type, name)
            )

    def allowlist(self, artifact_type: str) -> dict[str, Any]:
        """ArtifactAllowlistInfo dict (no matchers until one is set)."""
        kind = _artifact_type(artifact_type)
        row = self.query_one("SELECT info FROM allowlists WHERE artifact_type = ?", (kind,))
        if row is None:
            return {"metastore_id": self.metastore_id}
        info: dict[str, Any] = json.loads(row[0])
        return info

    def set_allowlist(self, artifact_type: str, matchers: Any) -> dict[str, Any]:
        """Replace the allowlist of an artifact type."""
        kind = _artifact_type(artifact_type)
        if not isinstance(matchers, list) or not all(
            isinstance(m, dict) and m.get("artifact") and m.get("match_type") for m in matchers
        ):
            raise invalid("artifact_matchers must be a list of {artifact, match_type}.")
        info = {
            "artifact_matchers": matchers,
            "metastore_id": self.metastore_id,
            "created_at": now_ms(),
            "created_by": self.user,
        }
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO allowlists VALUES (?, ?)", (kind, json.dumps(info)))
        return info


def _artifact_type(raw: str) -> str:
    kind = raw.upper()
    if kind not in ARTIFACT_TYPES:
        raise invalid(
            f"Invalid artifact_type '{raw}': use INIT_SCRIPT, LIBRARY_JAR or LIBRARY_MAVEN."
        )
    return kind


def _binding(raw: Any) -> tuple[int, str]:
    if isinstance(raw, dict):
        binding_type = str(raw.get("binding_type") or "BINDING_TYPE_READ_WRITE")
        if binding_type not in BINDING_TYPES:
            raise invalid(f"Invalid binding_type '{binding_type}'.")
        return int64(raw.get("workspace_id"), "workspace_id"), binding_type
    return int64(raw, "workspace_id"), "BINDING_TYPE_READ_WRITE"
