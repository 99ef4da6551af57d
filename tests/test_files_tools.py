"""files_* tools through the in-memory MCP client, on volumes of the local workspace."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.errors import NotFound
from databricks.sdk.service.catalog import VolumeType

from tests.conftest import fails, mcp_session, ok, text_of

pytestmark = pytest.mark.anyio

CSV = "trip_id,city,fare\n1,Paris,12.5\n2,Lyon,8.0\n3,Nice,20.25\n"


@pytest.fixture
def volume(ws: Any) -> Iterator[str]:
    schema = f"t_files_tools_{uuid.uuid4().hex[:8]}"
    ws.schemas.create(schema, "main")
    ws.volumes.create("main", schema, "landing", VolumeType.MANAGED)
    yield f"/Volumes/main/{schema}/landing"
    ws.schemas.delete(f"main.{schema}", force=True)


async def test_upload_list_read_download_and_delete_a_csv(
    mcp: Any, ws: Any, volume: str, tmp_path: Path
) -> None:
    local = tmp_path / "trips.csv"
    local.write_text(CSV)
    target = f"{volume}/raw/trips.csv"
    uploaded = await ok(mcp, "files_upload", local_path=str(local), path=target)
    assert uploaded.structured_content["files"] == [target]

    listed = await ok(mcp, "files_list", path=f"{volume}/raw")
    entries = listed.structured_content["entries"]
    assert [(e["path"], e["size"]) for e in entries] == [(target, len(CSV))]

    head = await ok(mcp, "files_read", path=target, max_chars=20)
    assert head.structured_content["text"] == CSV[:20]
    assert head.structured_content["truncated"] is True

    saved = await ok(mcp, "files_download", path=target, local_path="downloads/trips.csv")
    saved_path = Path(saved.structured_content["local_path"])
    assert saved_path.read_text() == CSV

    preview = await ok(mcp, "files_delete", path=target)
    assert "Would delete file" in text_of(preview)
    assert preview.structured_content["deleted"] is False
    assert ws.files.get_metadata(target).content_length == len(CSV)  # nothing deleted

    deleted = await ok(mcp, "files_delete", path=target, confirm=True)
    assert deleted.structured_content["deleted"] is True
    with pytest.raises(NotFound):
        ws.files.get_metadata(target)


async def test_upload_a_folder_and_delete_it_recursively(
    mcp: Any, ws: Any, volume: str, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    (folder / "2026").mkdir(parents=True)
    (folder / "a.csv").write_text(CSV)
    (folder / "2026" / "b.csv").write_text(CSV)
    done = await ok(mcp, "files_upload", local_path=str(folder), path=f"{volume}/batch")
    assert sorted(done.structured_content["files"]) == [
        f"{volume}/batch/2026/b.csv",
        f"{volume}/batch/a.csv",
    ]
    preview = await ok(mcp, "files_delete", path=f"{volume}/batch", confirm=True)
    assert preview.structured_content["needs_recursive"] is True
    assert ws.files.get_metadata(f"{volume}/batch/a.csv").content_length == len(CSV)
    await ok(mcp, "files_delete", path=f"{volume}/batch", recursive=True, confirm=True)
    assert [e.name for e in ws.files.list_directory_contents(volume)] == []


async def test_download_stays_in_the_results_folder(mcp: Any, ws: Any, volume: str) -> None:
    ws.files.upload(f"{volume}/x.csv", io.BytesIO(CSV.encode()))
    error = await fails(
        mcp, "files_download", path=f"{volume}/x.csv", local_path="../../outside.csv"
    )
    assert "'..' is not allowed" in error


async def test_upload_refuses_a_different_existing_file_without_overwrite(
    mcp: Any, volume: str, tmp_path: Path
) -> None:
    local = tmp_path / "t.csv"
    local.write_text(CSV)
    await ok(mcp, "files_upload", local_path=str(local), path=f"{volume}/t.csv")
    # The same bytes again (a repeated call, a retried PUT): already done, not a conflict.
    await ok(mcp, "files_upload", local_path=str(local), path=f"{volume}/t.csv")
    local.write_text(CSV + "9,changed\n")
    error = await fails(mcp, "files_upload", local_path=str(local), path=f"{volume}/t.csv")
    assert "already exists" in error
    await ok(mcp, "files_upload", local_path=str(local), path=f"{volume}/t.csv", overwrite=True)


async def test_read_only_mode_offers_only_list_and_read(backend: Any) -> None:
    async with mcp_session(backend, read_only=True) as client:
        names = {t.name for t in (await client.list_tools()).tools}
    assert {n for n in names if n.startswith("files_")} == {"files_list", "files_read"}
