"""Unity Catalog privileges in SQLite: direct grants, inheritance catalog -> schema -> object.

The rows only; checking that the securable exists is the job of ``grants.Grants``.
"""

from __future__ import annotations

from typing import Any

from local_workspace.catalog.meta import MetaStore
from local_workspace.errors import invalid

# Privileges that may be granted on each securable type (privilege model 1.0). Privileges on
# a container are inherited by everything inside it.
_CONTAINER = {
    "ALL_PRIVILEGES",
    "APPLY_TAG",
    "CREATE_FUNCTION",
    "CREATE_MATERIALIZED_VIEW",
    "CREATE_MODEL",
    "CREATE_TABLE",
    "CREATE_VIEW",
    "CREATE_VOLUME",
    "EXECUTE",
    "EXTERNAL_USE_SCHEMA",
    "MANAGE",
    "MODIFY",
    "READ_VOLUME",
    "REFRESH",
    "SELECT",
    "USE_SCHEMA",
    "WRITE_VOLUME",
}
APPLICABLE: dict[str, set[str]] = {
    "catalog": _CONTAINER | {"USE_CATALOG", "CREATE_SCHEMA", "BROWSE"},
    "schema": set(_CONTAINER),
    "table": {"ALL_PRIVILEGES", "APPLY_TAG", "MANAGE", "MODIFY", "SELECT", "REFRESH"},
    "volume": {"ALL_PRIVILEGES", "APPLY_TAG", "MANAGE", "READ_VOLUME", "WRITE_VOLUME"},
    # Registered models (and functions): EXECUTE lets a principal load and serve a model.
    "function": {"ALL_PRIVILEGES", "APPLY_TAG", "EXECUTE", "MANAGE"},
}
# Securable types the API knows but the local workspace holds none of: they answer 404.
OTHER_TYPES = {
    "metastore",
    "storage_credential",
    "external_location",
    "connection",
    "share",
    "provider",
    "recipient",
    "credential",
    "clean_room",
    "staging_table",
    "external_metadata",
    "service_credential",
    "registered_model",
    "model",
}


def normalize_type(securable_type: str) -> str:
    """The lowercase securable type (the SDK may send either case); 400 when unknown."""
    kind = securable_type.lower()
    if kind not in APPLICABLE and kind not in OTHER_TYPES:
        raise invalid(f"Invalid securable type '{securable_type}'.")
    return kind


def direct(
    meta: MetaStore, kind: str, full_name: str, principal: str | None = None
) -> list[dict[str, Any]]:
    """``[{"principal", "privileges"}]`` granted on the securable itself, sorted."""
    sql = "SELECT principal, privilege FROM grants WHERE securable_type = ? AND full_name = ?"
    params: tuple[Any, ...] = (kind, full_name)
    if principal is not None:
        sql += " AND principal = ?"
        params += (principal,)
    grouped: dict[str, list[str]] = {}
    for row in meta.rows(sql + " ORDER BY principal, privilege", params):
        grouped.setdefault(row["principal"], []).append(row["privilege"])
    return [{"principal": p, "privileges": privs} for p, privs in grouped.items()]


def update(
    meta: MetaStore, kind: str, full_name: str, changes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Apply add/remove changes atomically (idempotent); returns the direct assignments."""
    allowed = APPLICABLE[kind]
    for change in changes:
        if not change.get("principal"):
            raise invalid("Each change needs a principal.")
        for privilege in [*(change.get("add") or []), *(change.get("remove") or [])]:
            if privilege not in allowed:
                raise invalid(
                    f"Privilege {privilege} is not applicable to this entity "
                    f"[{full_name}:{kind.upper()}]. Applicable: {', '.join(sorted(allowed))}."
                )
    with meta.transaction() as db:
        for change in changes:
            principal = change["principal"]
            for privilege in change.get("remove") or []:
                db.execute(
                    "DELETE FROM grants WHERE securable_type = ? AND full_name = ? "
                    "AND principal = ? AND privilege = ?",
                    (kind, full_name, principal, privilege),
                )
            for privilege in change.get("add") or []:
                db.execute(
                    "INSERT OR IGNORE INTO grants VALUES (?, ?, ?, ?)",
                    (kind, full_name, principal, privilege),
                )
    return direct(meta, kind, full_name)


def parents(kind: str, full_name: str) -> list[tuple[str, str]]:
    """The securables ``full_name`` inherits from, nearest first."""
    parts = full_name.split(".")
    if kind in ("table", "volume", "function") and len(parts) == 3:
        return [("schema", f"{parts[0]}.{parts[1]}"), ("catalog", parts[0])]
    if kind == "schema" and len(parts) == 2:
        return [("catalog", parts[0])]
    return []


def effective(
    meta: MetaStore, kind: str, full_name: str, principal: str | None = None
) -> list[dict[str, Any]]:
    """Direct plus inherited privileges, in the EffectivePrivilegeAssignment shape."""
    result: dict[str, list[dict[str, Any]]] = {}
    for assignment in direct(meta, kind, full_name, principal):
        result.setdefault(assignment["principal"], []).extend(
            {"privilege": p} for p in assignment["privileges"]
        )
    for parent_kind, parent_name in parents(kind, full_name):
        for assignment in direct(meta, parent_kind, parent_name, principal):
            result.setdefault(assignment["principal"], []).extend(
                {
                    "privilege": p,
                    "inherited_from_type": parent_kind.upper(),
                    "inherited_from_name": parent_name,
                }
                for p in assignment["privileges"]
            )
    return [{"principal": p, "privileges": privs} for p, privs in sorted(result.items())]


def forget_grants(meta: MetaStore, full_name: str, kinds: tuple[str, ...], children: bool) -> None:
    """Drop the grants of a deleted securable (and, for containers, of everything inside)."""
    marks = ",".join("?" for _ in kinds)
    with meta.transaction() as db:
        db.execute(
            f"DELETE FROM grants WHERE securable_type IN ({marks}) AND full_name = ?",
            (*kinds, full_name),
        )
        if children:
            db.execute(
                "DELETE FROM grants WHERE full_name LIKE ? ESCAPE '\\'", (_prefix(full_name),)
            )


def _prefix(full_name: str) -> str:
    escaped = full_name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + ".%"
