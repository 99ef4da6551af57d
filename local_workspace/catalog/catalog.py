"""The catalog engine of one local workspace, composed of parts with one job each.

Tables, views, schemas and columns are read from DuckDB itself, so SQL DDL and the Unity
Catalog API never disagree. What DuckDB lacks (owners, timestamps, catalog and schema
comments, volumes, grants, constraints) lives in SQLite next to it (``uc.sqlite``).

Callers use the parts: ``catalog.engine.cursor()``, ``catalog.tables.get(name)``,
``catalog.grants.update(...)``. Each part receives the lower parts it needs when it is built
here, so no part knows :class:`Catalog`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from local_workspace.catalog.catalogs import Catalogs
from local_workspace.catalog.constraints import Constraints
from local_workspace.catalog.ddl import DdlHooks
from local_workspace.catalog.engine import CLOSE_WAIT_S, DuckEngine
from local_workspace.catalog.functions import Functions, Groups, Policies
from local_workspace.catalog.grants import Grants
from local_workspace.catalog.history import TableHistory
from local_workspace.catalog.meta import MetaStore
from local_workspace.catalog.objects import ObjectReader
from local_workspace.catalog.records import ObjectRecords
from local_workspace.catalog.schemas import Schemas
from local_workspace.catalog.seed import seed_workspace
from local_workspace.catalog.tables import Tables
from local_workspace.catalog.tags import Tags
from local_workspace.catalog.volumes import Volumes


class Catalog:
    """Unity Catalog objects of one local workspace (thread-safe).

    Parts: ``engine`` (DuckDB: cursors, catalog files, public/internal names), ``meta``
    (SQLite metadata), ``objects`` (reads DuckDB's catalog), ``records`` (who/when/comment of
    schemas and tables), ``constraints`` (primary/foreign keys), ``catalogs``, ``schemas``,
    ``tables``, ``volumes``, ``grants``, ``tags``, ``history`` (table versions), ``functions``
    (SQL UDFs), ``policies`` (row filters, column masks), ``groups`` (the user's groups), and
    ``ddl`` (the hooks SQL DDL calls).
    """

    def __init__(self, data_dir: Path, owner: str, seed: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.owner = owner
        catalog_dir = self.data_dir / "catalogs"
        volume_dir = self.data_dir / "volumes"
        catalog_dir.mkdir(parents=True, exist_ok=True)
        volume_dir.mkdir(parents=True, exist_ok=True)
        self.engine = DuckEngine(self.data_dir, catalog_dir, [catalog_dir, volume_dir])
        self.engine.path_aliases[str(volume_dir)] = "/Volumes"
        self.meta = MetaStore(self.data_dir / "uc.sqlite")
        self.metastore_id = self._metastore_id()
        self.tags = Tags(self.meta, owner)
        self.history = TableHistory(self.meta, owner)
        self.constraints = Constraints(self.meta)
        self.policies = Policies(self.meta)
        self.groups = Groups(self.data_dir, owner)
        self.objects = ObjectReader(
            self.engine, self.meta, self.constraints, owner, self.metastore_id, self.policies
        )
        self.records = ObjectRecords(self.meta, self.constraints, owner)
        self.catalogs = Catalogs(
            self.engine,
            self.meta,
            self.objects,
            self.records,
            self.constraints,
            volume_dir,
            owner,
            self.metastore_id,
        )
        self.schemas = Schemas(
            self.catalogs, self.engine, self.meta, self.objects, self.records, volume_dir
        )
        self.tables = Tables(self.catalogs, self.schemas, self.engine, self.objects, self.records)
        self.functions = Functions(self.engine, self.meta, self.schemas, owner, self.metastore_id)
        self.volumes = Volumes(self.schemas, self.meta, volume_dir, owner, self.metastore_id)
        self.grants = Grants(self.meta, self.catalogs, self.schemas, self.tables, self.volumes)
        self.ddl = DdlHooks(self.engine, self.tables, self.records, self.volumes)
        for row in self.meta.rows("SELECT name FROM catalogs ORDER BY name"):
            self.engine.attach(row["name"])
        if seed and self.meta.setting("seeded") is None:
            seed_workspace(self.engine, self.catalogs, self.schemas, self.ddl)
            self.meta.set_setting("seeded", "1")

    def _metastore_id(self) -> str:
        found = self.meta.setting("metastore_id")
        if found is None:
            found = str(uuid.uuid4())
            self.meta.set_setting("metastore_id", found)
        return found

    def close(self, wait_s: float = CLOSE_WAIT_S) -> None:
        """Close DuckDB (see :meth:`DuckEngine.close`), then SQLite once DuckDB closed."""
        if self.engine.close(wait_s):
            self.meta.close()
