"""SQL warehouses of the local workspace, persisted in ``<data_dir>/sql_warehouses.json``.

One default warehouse is seeded RUNNING. All warehouses run statements on the same local
DuckDB engine; their state is bookkeeping so the Warehouses API behaves as on Databricks.
A statement sent to a STOPPED warehouse starts it (as Databricks serverless warehouses
auto-start); a deleted or unknown warehouse id is refused with 404.
"""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path
from typing import Any

from local_workspace.errors import invalid, not_found

DEFAULT_WAREHOUSE_ID = "dbxlocal00000001"
DEFAULT_WAREHOUSE_NAME = "Local Serverless Warehouse"
EDITABLE = (
    "name",
    "cluster_size",
    "auto_stop_mins",
    "min_num_clusters",
    "max_num_clusters",
    "enable_photon",
    "enable_serverless_compute",
    "warehouse_type",
    "spot_instance_policy",
    "tags",
    "channel",
)


class Warehouses:
    """The warehouse records (EndpointInfo dicts), thread-safe and persisted."""

    def __init__(self, data_dir: Path, user: str, host: str = "localhost") -> None:
        self._path = Path(data_dir) / "sql_warehouses.json"
        self._lock = threading.Lock()
        self._user = user
        self._host = host
        self._items: dict[str, dict[str, Any]] = {}
        if self._path.exists():
            self._items = json.loads(self._path.read_text())
        if not self._items:
            self._items[DEFAULT_WAREHOUSE_ID] = self._record(
                DEFAULT_WAREHOUSE_ID, {"name": DEFAULT_WAREHOUSE_NAME}
            )
            self._save()

    def _record(self, warehouse_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": warehouse_id,
            "name": fields.get("name") or warehouse_id,
            "cluster_size": "2X-Small",
            "auto_stop_mins": 10,
            "min_num_clusters": 1,
            "max_num_clusters": 1,
            "enable_photon": True,
            "enable_serverless_compute": True,
            "warehouse_type": "PRO",
            "spot_instance_policy": "COST_OPTIMIZED",
            "channel": {"name": "CHANNEL_NAME_CURRENT"},
            "creator_name": self._user,
            "state": "RUNNING",
            "num_clusters": 1,
            "num_active_sessions": 0,
            "health": {"status": "HEALTHY"},
            "jdbc_url": (
                f"jdbc:databricks://{self._host}:443/default;transportMode=http;ssl=1;"
                f"AuthMech=3;httpPath=/sql/1.0/warehouses/{warehouse_id};"
            ),
            "odbc_params": {
                "hostname": self._host,
                "path": f"/sql/1.0/warehouses/{warehouse_id}",
                "protocol": "https",
                "port": 443,
            },
        }
        record.update({k: v for k, v in fields.items() if k in EDITABLE and v is not None})
        return record

    def _save(self) -> None:
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._items, indent=1))
        tmp.replace(self._path)

    def list(self) -> list[dict[str, Any]]:
        """Every warehouse, in creation order."""
        with self._lock:
            return [dict(w) for w in self._items.values()]

    def get(self, warehouse_id: str) -> dict[str, Any]:
        """One warehouse; 404 if unknown or deleted."""
        with self._lock:
            record = self._items.get(warehouse_id)
            if record is None:
                raise not_found(f"Warehouse {warehouse_id} does not exist.")
            return dict(record)

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A new RUNNING warehouse."""
        if not fields.get("name"):
            raise invalid("Missing required field: name")
        with self._lock:
            warehouse_id = secrets.token_hex(8)
            self._items[warehouse_id] = self._record(warehouse_id, fields)
            self._save()
            return dict(self._items[warehouse_id])

    def edit(self, warehouse_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change the editable fields of a warehouse."""
        with self._lock:
            record = self._require(warehouse_id)
            record.update({k: v for k, v in fields.items() if k in EDITABLE and v is not None})
            self._save()
            return dict(record)

    def delete(self, warehouse_id: str) -> None:
        """Forget a warehouse (later calls with its id get 404)."""
        with self._lock:
            self._require(warehouse_id)
            del self._items[warehouse_id]
            self._save()

    def set_state(self, warehouse_id: str, state: str) -> dict[str, Any]:
        """RUNNING or STOPPED, at once (a local warehouse starts instantly)."""
        with self._lock:
            record = self._require(warehouse_id)
            record["state"] = state
            record["num_clusters"] = 1 if state == "RUNNING" else 0
            self._save()
            return dict(record)

    def ensure_running(self, warehouse_id: str) -> None:
        """For a statement: 404 if unknown, auto-start if stopped (Databricks does)."""
        if self.get(warehouse_id)["state"] != "RUNNING":
            self.set_state(warehouse_id, "RUNNING")

    def _require(self, warehouse_id: str) -> dict[str, Any]:
        record = self._items.get(warehouse_id)
        if record is None:
            raise not_found(f"Warehouse {warehouse_id} does not exist.")
        return record


__all__ = ["DEFAULT_WAREHOUSE_ID", "Warehouses"]
