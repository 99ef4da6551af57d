"""Volumes and the Files API 2.0 of the local workspace, through the real SDK's ``w.files``."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from databricks.sdk.errors import AlreadyExists, BadRequest, NotFound, NotImplemented
from databricks.sdk.service.catalog import VolumeType

from local_workspace.runner import LocalWorkspace


@pytest.fixture
def volume(ws: Any) -> Iterator[str]:
    """A fresh managed volume in a schema of its own: its /Volumes path."""
    schema = f"t_files_{uuid.uuid4().hex[:8]}"
    ws.schemas.create(schema, "main")
    ws.volumes.create("main", schema, "landing", VolumeType.MANAGED)
    yield f"/Volumes/main/{schema}/landing"
    ws.schemas.delete(f"main.{schema}", force=True)


def folder_of(local_ws: LocalWorkspace, volume_path: str) -> Path:
    _, _, catalog, schema, name = volume_path.split("/")
    return local_ws.config.data_dir / "volumes" / catalog / schema / name


def test_files_round_trip_through_the_sdk(ws: Any, volume: str) -> None:
    payload = os.urandom(300 * 1024)
    path = f"{volume}/raw/2026/trips.bin"
    ws.files.upload(path, io.BytesIO(payload), overwrite=False)

    downloaded = ws.files.download(path)
    assert downloaded.contents.read() == payload
    assert downloaded.content_length == len(payload)

    meta = ws.files.get_metadata(path)
    assert meta.content_length == len(payload)
    assert meta.content_type == "application/octet-stream"
    assert meta.last_modified  # an HTTP date

    entries = list(ws.files.list_directory_contents(f"{volume}/raw/2026"))
    assert [(e.name, e.is_directory, e.file_size) for e in entries] == [
        ("trips.bin", False, len(payload))
    ]
    assert entries[0].path == path
    top = list(ws.files.list_directory_contents(volume))
    assert [(e.name, e.is_directory) for e in top] == [("raw", True)]

    ws.files.delete(path)
    with pytest.raises(NotFound):
        ws.files.get_metadata(path)
    ws.files.delete_directory(f"{volume}/raw/2026")
    ws.files.delete_directory(f"{volume}/raw")
    assert list(ws.files.list_directory_contents(volume)) == []


def test_upload_from_and_download_to_local_files(ws: Any, volume: str, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    ws.files.upload_from(f"{volume}/big.bin", str(source), overwrite=True)
    target = tmp_path / "back.bin"
    ws.files.download_to(f"{volume}/big.bin", str(target))
    assert target.read_bytes() == source.read_bytes()


def test_directories_are_created_with_parents_and_deleted_only_when_empty(
    ws: Any, volume: str
) -> None:
    ws.files.create_directory(f"{volume}/a/b/c")
    ws.files.create_directory(f"{volume}/a/b/c")  # idempotent
    ws.files.get_directory_metadata(f"{volume}/a/b")
    with pytest.raises(BadRequest) as refused:
        ws.files.delete_directory(f"{volume}/a")
    assert "not empty" in str(refused.value)
    with pytest.raises(NotFound):
        ws.files.get_directory_metadata(f"{volume}/nope")


def test_listing_pages_with_page_size(ws: Any, volume: str) -> None:
    for n in range(5):
        ws.files.upload(f"{volume}/p/f{n}.txt", io.BytesIO(b"x"))
    names = [e.name for e in ws.files.list_directory_contents(f"{volume}/p", page_size=2)]
    assert names == [f"f{n}.txt" for n in range(5)]


def test_file_errors_are_databricks_errors(ws: Any, volume: str) -> None:
    with pytest.raises(NotFound) as missing:
        ws.files.download(f"{volume}/missing.csv").contents.read()
    assert "The file being accessed is not found" in str(missing.value)

    ws.files.upload(f"{volume}/once.csv", io.BytesIO(b"a,b\n"))
    with pytest.raises(AlreadyExists) as exists:
        ws.files.upload(f"{volume}/once.csv", io.BytesIO(b"c,d\n"), overwrite=False)
    assert "already exists" in str(exists.value)
    assert ws.files.download(f"{volume}/once.csv").contents.read() == b"a,b\n"

    with pytest.raises(BadRequest, match="volume"):
        ws.files.upload("/tmp/escape.txt", io.BytesIO(b"x"))
    with pytest.raises(NotFound, match="does not exist"):
        ws.files.upload("/Volumes/main/default/no_such_volume/x.txt", io.BytesIO(b"x"))


def test_dot_dot_never_leaves_the_volume(ws: Any, volume: str, local_ws: LocalWorkspace) -> None:
    sneaky = f"{volume}/../../../../../token"
    with pytest.raises((BadRequest, NotFound)):
        ws.files.download(sneaky).contents.read()
    with pytest.raises((BadRequest, NotFound)):
        ws.files.upload(f"{volume}/a/../../landing2/x.txt", io.BytesIO(b"x"))
    # The SDK's HTTP stack folds '..' away; a raw client can still send it, escaped.
    for method in ("GET", "PUT"):
        answer = requests.request(
            method,
            f"{local_ws.url}/api/2.0/fs/files{volume}/%2E%2E/%2E%2E/%2E%2E/%2E%2E/token",
            headers={"Authorization": f"Bearer {local_ws.token}"},
            data=b"x" if method == "PUT" else None,
            timeout=30,
        )
        assert answer.status_code == 400, answer.text
        assert "'..' are not allowed" in answer.json()["message"]


def test_a_symlink_planted_in_a_volume_is_refused(
    ws: Any, volume: str, local_ws: LocalWorkspace, tmp_path: Path
) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key.txt").write_text("do not read")
    folder = folder_of(local_ws, volume)
    (folder / "link").symlink_to(outside)
    (folder / "file_link").symlink_to(outside / "key.txt")
    with pytest.raises(BadRequest, match="symbolic link"):
        ws.files.download(f"{volume}/link/key.txt").contents.read()
    with pytest.raises(BadRequest, match="symbolic link"):
        ws.files.download(f"{volume}/file_link").contents.read()
    with pytest.raises(BadRequest, match="symbolic link"):
        ws.files.upload(f"{volume}/link/new.txt", io.BytesIO(b"x"))
    with pytest.raises(BadRequest, match="symbolic link"):
        list(ws.files.list_directory_contents(f"{volume}/link"))
    assert not (outside / "new.txt").exists()
    assert [e.name for e in ws.files.list_directory_contents(volume)] == []


def test_volumes_rest_update_renames_the_folder(
    ws: Any, volume: str, local_ws: LocalWorkspace
) -> None:
    _, _, catalog, schema, name = volume.split("/")
    ws.files.upload(f"{volume}/keep.txt", io.BytesIO(b"kept"))
    updated = ws.volumes.update(
        f"{catalog}.{schema}.{name}", comment="raw drops", owner="data-eng", new_name="inbox"
    )
    assert (updated.full_name, updated.comment, updated.owner) == (
        f"{catalog}.{schema}.inbox",
        "raw drops",
        "data-eng",
    )
    moved = f"/Volumes/{catalog}/{schema}/inbox/keep.txt"
    assert ws.files.download(moved).contents.read() == b"kept"
    with pytest.raises(NotFound):
        ws.files.get_metadata(f"{volume}/keep.txt")
    ws.volumes.delete(f"{catalog}.{schema}.inbox")
    assert not folder_of(local_ws, f"/Volumes/{catalog}/{schema}/inbox").exists()


def test_external_volumes_are_refused(ws: Any, volume: str) -> None:
    _, _, catalog, schema, _ = volume.split("/")
    with pytest.raises(NotImplemented, match="External volumes"):
        ws.volumes.create(
            catalog, schema, "ext", VolumeType.EXTERNAL, storage_location="s3://bucket/x"
        )
