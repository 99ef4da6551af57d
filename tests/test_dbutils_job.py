"""dbutils.secrets and dbutils.fs in one notebook job run (one task process), with the secret
and the volume files put there through the MCP tools, as an agent would."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
from databricks.sdk.service.catalog import VolumeType

from tests.conftest import import_notebook, ok, run_notebook_job

pytestmark = pytest.mark.anyio

SECRET = "abc-123-xyz-secret"
CSV = "trip_id,fare\n1,12.5\n2,8.0\n"
NOTEBOOK = """# Databricks notebook source
import json
root, scope = dbutils.widgets.get("root"), dbutils.widgets.get("scope")
value = dbutils.secrets.get(scope, "api-key")
print("key:", value)
keys = [s.key for s in dbutils.secrets.list(scope)]
scopes = [s.name for s in dbutils.secrets.listScopes()]
try:
    dbutils.secrets.get(scope, "missing")
except ValueError as exc:
    missing_secret = f"{type(exc).__name__}: {exc}"

# COMMAND ----------

# MAGIC %fs ls ROOT/raw

# COMMAND ----------

listed = dbutils.fs.ls(f"{root}/raw")
ok = [
    dbutils.fs.put(f"{root}/out/note.txt", "hello volumes", overwrite=True),
    dbutils.fs.cp(f"dbfs:{root}/raw/trips.csv", f"{root}/copy/trips.csv"),
    dbutils.fs.mkdirs(f"file:{root}/made/deeper"),
    dbutils.fs.cp(f"{root}/out", f"{root}/out2", recurse=True),
    dbutils.fs.mv(f"{root}/copy/trips.csv", f"{root}/moved.csv"),
    dbutils.fs.rm(f"{root}/out2", recurse=True),
]
head = dbutils.fs.head(f"{root}/out/note.txt", 5)
gone = dbutils.fs.rm(f"{root}/never-there")
try:
    dbutils.fs.put(f"{root}/out/note.txt", "again")
except Exception as exc:
    exists = f"{type(exc).__name__}: {exc}"
try:
    dbutils.fs.ls(f"{root}/nope")
except Exception as exc:
    missing_file = f"{type(exc).__name__}: {exc}"
try:
    dbutils.fs.ls("dbfs:/mnt/raw")
except NotImplementedError as exc:
    mount = str(exc)
after = sorted(f.name for f in dbutils.fs.ls(root))
volumes = [f.name for f in dbutils.fs.ls(root.rsplit("/", 1)[0])]
dbutils.notebook.exit(json.dumps({
    "length": len(value), "echo": value, "reversed": value[::-1], "keys": keys,
    "scope": scope in scopes,
    "missing_secret": missing_secret, "listed": [tuple(f) for f in listed], "ok": ok,
    "head": head, "gone": gone, "exists": exists, "missing_file": missing_file,
    "mount": mount, "after": after, "volumes": volumes,
}))
"""


async def test_a_job_reads_a_secret_redacted_and_works_on_volume_files_the_tools_put_there(
    mcp: Any, ws: Any, tmp_path: Path
) -> None:
    u = uuid.uuid4().hex[:8]
    schema, scope = f"t_dbutils_{u}", f"t-dbutils-{u}"
    ws.schemas.create(schema, "main")
    ws.volumes.create("main", schema, "landing", VolumeType.MANAGED)
    root = f"/Volumes/main/{schema}/landing"
    local = tmp_path / "trips.csv"
    local.write_text(CSV)
    await ok(mcp, "files_upload", local_path=str(local), path=f"{root}/raw/trips.csv")
    await ok(mcp, "secrets_put", scope=scope, key="api-key", value=SECRET, create_scope=True)
    path = f"/Users/dev@dbx-devkit.local/t_dbutils_{u}/job"
    import_notebook(ws, path, NOTEBOOK.replace("ROOT/raw", f"{root}/raw"))

    run = await anyio.to_thread.run_sync(
        lambda: run_notebook_job(ws, path, {"root": root, "scope": scope})
    )
    output = ws.jobs.get_run_output(run.tasks[0].run_id)
    result = json.loads(output.notebook_output.result)

    # The job got the value; what it printed shows [REDACTED], as on Databricks.
    assert (result["length"], result["reversed"]) == (len(SECRET), SECRET[::-1])
    assert "key: [REDACTED]" in output.logs and SECRET not in output.logs
    assert result["echo"] == "[REDACTED]"  # the exit value too
    assert result["keys"] == ["api-key"] and result["scope"] is True
    assert result["missing_secret"] == (
        f"IllegalArgumentException: Secret does not exist with scope: {scope} and key: missing"
    )
    # dbutils.fs.ls lists what files_upload put in the volume, in Databricks' shape.
    [(listed_path, name, size, modified)] = result["listed"]
    assert (listed_path, name, size) == (f"dbfs:{root}/raw/trips.csv", "trips.csv", len(CSV))
    assert modified > 0
    assert f"dbfs:{root}/raw/trips.csv\ttrips.csv\t{len(CSV)}" in output.logs  # %fs ls
    assert result["ok"] == [True] * 6
    assert result["head"] == "hello" and result["gone"] is False
    assert result["volumes"] == ["landing/"]  # a schema's folder lists its volumes
    assert result["after"] == ["copy/", "made/", "moved.csv", "out/", "raw/"]
    assert result["exists"].startswith("ExecutionError: java.nio.file.FileAlreadyExistsException")
    assert result["missing_file"] == (
        f"ExecutionError: java.io.FileNotFoundException: {root}/nope does not exist."
    )
    assert result["mount"].startswith(
        "dbutils.fs.ls('dbfs:/mnt/raw') is not available in the local workspace: the DBFS root,"
    )
    assert "Wrote 13 bytes." in output.logs and "[Truncated to first 5 bytes]" in output.logs
    moved = ws.files.download(f"{root}/moved.csv").contents.read()
    assert moved.decode() == CSV
    ws.secrets.delete_scope(scope)
    ws.schemas.delete(f"main.{schema}", force=True)
