"""Quality monitors (data profiling) of Unity Catalog tables: their configuration and
refreshes in ``monitors.sqlite``, the metrics in real tables of the catalog.

A refresh runs in a background thread, as Databricks runs it as a job: it is PENDING when
``run_refresh`` answers, then RUNNING, then SUCCESS or FAILED (with the error as message).
Creating a monitor starts its first refresh. Deleting one keeps its metric tables, as
Databricks does.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local_workspace.catalog.meta import now_ms
from local_workspace.catalog.names import split_name
from local_workspace.errors import ApiError, already_exists, invalid, not_found
from local_workspace.monitors import profile
from local_workspace.sqlite_store import SqliteStore

if TYPE_CHECKING:
    from local_workspace.catalog import Catalog

log = logging.getLogger("local_workspace.monitors")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS monitors (table_name TEXT PRIMARY KEY, info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refreshes (
    table_name TEXT NOT NULL, refresh_id INTEGER NOT NULL, info TEXT NOT NULL,
    PRIMARY KEY (table_name, refresh_id)
);
"""
ACTIVE_STATES = ("PENDING", "RUNNING")
PROFILE_TYPES = ("snapshot", "time_series", "inference_log")
# Fields of a monitor's configuration that create and update take as they come.
CONFIG_FIELDS = (
    "assets_dir",
    "baseline_table_name",
    "custom_metrics",
    "data_classification_config",
    "inference_log",
    "notifications",
    "schedule",
    "slicing_exprs",
    "snapshot",
    "time_series",
)
# How long close() lets running refreshes finish.
CLOSE_WAIT_S = 5.0


class Monitors(SqliteStore):
    """Monitors of one local workspace and their refreshes (thread-safe)."""

    def __init__(self, path: Path, catalog: Catalog) -> None:
        super().__init__(path, _SCHEMA)
        self.catalog = catalog
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()
        # A refresh cut short by a restart never finishes: say so instead of RUNNING forever.
        for table_name, refresh_id, raw in self.query("SELECT * FROM refreshes"):
            info = json.loads(raw)
            if info["state"] in ACTIVE_STATES:
                info.update(state="FAILED", message="The workspace restarted during the refresh.")
                info["end_time_ms"] = now_ms()
                self._save_refresh(table_name, refresh_id, info)

    # -- monitors ------------------------------------------------------------------------

    def _table(self, table_name: str) -> str:
        """The canonical full name of an existing table."""
        return str(self.catalog.tables.get(table_name)["full_name"])

    def get(self, table_name: str) -> dict[str, Any]:
        """MonitorInfo dict; 404 when the table or its monitor does not exist."""
        full_name = self._table(table_name)
        row = self.query_one("SELECT info FROM monitors WHERE table_name = ?", (full_name,))
        if row is None:
            raise not_found(f"Monitor for table '{full_name}' does not exist.")
        info: dict[str, Any] = json.loads(row[0])
        return info

    def all(self) -> list[dict[str, Any]]:
        """Every monitor's MonitorInfo dict, by table name."""
        rows = self.query("SELECT info FROM monitors ORDER BY table_name")
        return [json.loads(r[0]) for r in rows]

    def create(self, table_name: str, body: dict[str, Any]) -> dict[str, Any]:
        """A monitor whose metric tables go to ``output_schema_name``; starts a refresh."""
        full_name = self._table(table_name)
        output = self._output_schema(body.get("output_schema_name"))
        table = full_name.split(".")[-1]
        info: dict[str, Any] = {
            "table_name": full_name,
            "status": "MONITOR_STATUS_ACTIVE",
            "monitor_version": 1,
            "output_schema_name": output,
            "profile_metrics_table_name": f"{output}.{table}_profile_metrics",
            "drift_metrics_table_name": f"{output}.{table}_drift_metrics",
        }
        info.update({k: body[k] for k in CONFIG_FIELDS if body.get(k) is not None})
        self._check(info)
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM monitors WHERE table_name = ?", (full_name,)).fetchone():
                raise already_exists(f"Monitor for table '{full_name}' already exists.")
            db.execute("INSERT INTO monitors VALUES (?, ?)", (full_name, json.dumps(info)))
        try:
            profile.create_tables(self.catalog, self._plan(info))
        except ApiError:
            with self.transaction() as db:
                db.execute("DELETE FROM monitors WHERE table_name = ?", (full_name,))
            raise
        self.run_refresh(full_name)
        return info

    def update(self, table_name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the monitor's configuration (a new monitor_version)."""
        info = self.get(table_name)
        output = body.get("output_schema_name")
        if output and self._output_schema(output) != info["output_schema_name"]:
            raise invalid("output_schema_name cannot change: delete and re-create the monitor.")
        updated = {k: v for k, v in info.items() if k not in CONFIG_FIELDS}
        updated.update({k: body[k] for k in CONFIG_FIELDS if body.get(k) is not None})
        # The profile type and assets folder stay unless the update gives new ones.
        new_type = any(body.get(k) is not None for k in PROFILE_TYPES)
        for key in ("assets_dir", *([] if new_type else PROFILE_TYPES)):
            if key not in updated and info.get(key) is not None:
                updated[key] = info[key]
        updated["monitor_version"] = int(info["monitor_version"]) + 1
        self._check(updated)
        with self.transaction() as db:
            db.execute(
                "UPDATE monitors SET info = ? WHERE table_name = ?",
                (json.dumps(updated), info["table_name"]),
            )
        return updated

    def delete(self, table_name: str) -> None:
        """Delete the monitor and its refresh history; its metric tables stay."""
        info = self.get(table_name)
        with self.transaction() as db:
            db.execute("DELETE FROM monitors WHERE table_name = ?", (info["table_name"],))
            db.execute("DELETE FROM refreshes WHERE table_name = ?", (info["table_name"],))

    def _output_schema(self, raw: Any) -> str:
        if not raw:
            raise invalid("Missing required field: output_schema_name")
        catalog_name, schema = split_name(str(raw), 2, "schema")
        return str(self.catalog.schemas.get(f"{catalog_name}.{schema}")["full_name"])

    def _check(self, info: dict[str, Any]) -> None:
        kinds = [k for k in PROFILE_TYPES if info.get(k) is not None]
        if len(kinds) != 1:
            raise invalid("Exactly one of snapshot, time_series or inference_log is required.")
        self._plan(info)  # validates granularities, slicing expressions and columns

    def _plan(self, info: dict[str, Any]) -> profile.Plan:
        series = info.get("time_series") or info.get("inference_log") or {}
        granularities = [profile.check_granularity(g) for g in series.get("granularities") or []]
        timestamp_col = series.get("timestamp_col")
        if series and (not timestamp_col or not granularities):
            raise invalid("timestamp_col and at least one granularity are required.")
        slicing = [str(e) for e in info.get("slicing_exprs") or []]
        for expression in slicing:
            profile.slice_sql(expression)
        model_id_col = (info.get("inference_log") or {}).get("model_id_col")
        columns = {c["name"] for c in self.catalog.tables.get(info["table_name"])["columns"]}
        for column in (timestamp_col, model_id_col):
            if column and column not in columns:
                raise invalid(f"Column '{column}' does not exist in {info['table_name']}.")
        baseline = info.get("baseline_table_name")
        return profile.Plan(
            baseline_table=self._table(str(baseline)) if baseline else None,
            table=info["table_name"],
            profile_table=info["profile_metrics_table_name"],
            drift_table=info["drift_metrics_table_name"],
            monitor_version=int(info["monitor_version"]),
            granularities=granularities,
            timestamp_col=timestamp_col,
            slicing_exprs=slicing,
            model_id_col=model_id_col,
        )

    # -- refreshes -----------------------------------------------------------------------

    def _save_refresh(self, table_name: str, refresh_id: int, info: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO refreshes VALUES (?, ?, ?)",
                (table_name, refresh_id, json.dumps(info)),
            )

    def run_refresh(self, table_name: str) -> dict[str, Any]:
        """Queue a refresh (PENDING) and start it in the background."""
        info = self.get(table_name)
        full_name = info["table_name"]
        with self.transaction() as db:
            last = db.execute(
                "SELECT COALESCE(MAX(refresh_id), 0) FROM refreshes WHERE table_name = ?",
                (full_name,),
            ).fetchone()[0]
            refresh = {
                "refresh_id": last + 1,
                "state": "PENDING",
                "start_time_ms": now_ms(),
                "trigger": "MANUAL",
            }
            db.execute(
                "INSERT INTO refreshes VALUES (?, ?, ?)",
                (full_name, refresh["refresh_id"], json.dumps(refresh)),
            )
        thread = threading.Thread(
            target=self._refresh,
            args=(info, dict(refresh)),
            name=f"monitor-refresh-{refresh['refresh_id']}",
            daemon=True,
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return refresh

    def _refresh(self, info: dict[str, Any], refresh: dict[str, Any]) -> None:
        table_name, refresh_id = info["table_name"], refresh["refresh_id"]
        if self._closing.is_set() or self._current(table_name, refresh_id) != "PENDING":
            return  # canceled before it started, or the workspace is stopping
        refresh["state"] = "RUNNING"
        self._save_refresh(table_name, refresh_id, refresh)
        try:
            rows = profile.refresh(
                self.catalog,
                self._plan(info),
                dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            )
        except Exception as exc:  # noqa: BLE001 - a failed refresh is a FAILED state, not a crash
            log.warning("refresh %s of %s failed: %s", refresh_id, table_name, exc)
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            refresh.update(state="FAILED", message=self.catalog.engine.public_text(message))
        else:
            refresh.update(state="SUCCESS", message=f"Profiled into {rows} metric rows.")
        refresh["end_time_ms"] = now_ms()
        if self._current(table_name, refresh_id) == "RUNNING":
            self._save_refresh(table_name, refresh_id, refresh)

    def _current(self, table_name: str, refresh_id: int) -> str | None:
        row = self.query_one(
            "SELECT info FROM refreshes WHERE table_name = ? AND refresh_id = ?",
            (table_name, refresh_id),
        )
        return None if row is None else str(json.loads(row[0])["state"])

    def list_refreshes(self, table_name: str) -> list[dict[str, Any]]:
        """The monitor's refreshes, newest first."""
        full_name = self.get(table_name)["table_name"]
        rows = self.query(
            "SELECT info FROM refreshes WHERE table_name = ? ORDER BY refresh_id DESC",
            (full_name,),
        )
        return [json.loads(r[0]) for r in rows]

    def get_refresh(self, table_name: str, refresh_id: int) -> dict[str, Any]:
        """One refresh; 404 when unknown."""
        full_name = self.get(table_name)["table_name"]
        row = self.query_one(
            "SELECT info FROM refreshes WHERE table_name = ? AND refresh_id = ?",
            (full_name, refresh_id),
        )
        if row is None:
            raise not_found(f"Refresh {refresh_id} of the monitor of '{full_name}' does not exist.")
        found: dict[str, Any] = json.loads(row[0])
        return found

    def cancel_refresh(self, table_name: str, refresh_id: int) -> None:
        """Cancel a refresh that has not finished (one already finished is a 400)."""
        refresh = self.get_refresh(table_name, refresh_id)
        if refresh["state"] not in ACTIVE_STATES:
            raise invalid(f"Refresh {refresh_id} already finished ({refresh['state']}).")
        refresh.update(state="CANCELED", end_time_ms=now_ms(), message="Canceled by the user.")
        self._save_refresh(self.get(table_name)["table_name"], refresh_id, refresh)

    def close(self) -> None:
        """Let running refreshes finish (briefly), then close the store."""
        self._closing.set()
        for thread in self._threads:
            thread.join(CLOSE_WAIT_S)
        super().close()
