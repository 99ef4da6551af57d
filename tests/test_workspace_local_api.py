"""The local workspace's Workspace API, driven by the real databricks-sdk."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk.errors import (
    BadRequest,
    DatabricksError,
    InvalidParameterValue,
    NotFound,
    ResourceAlreadyExists,
)
from databricks.sdk.service.workspace import ExportFormat, ImportFormat, Language, ObjectType

from local_workspace.config import LocalConfig
from local_workspace.runner import LocalWorkspace
from tools_core.backend import workspace_client

HOME = "/Users/dev@dbx-devkit.local"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def exported(ws: Any, path: str, fmt: ExportFormat = ExportFormat.SOURCE) -> bytes:
    return base64.b64decode(ws.workspace.export(path, format=fmt).content or "")


def test_upload_of_a_py_path_makes_a_python_notebook_that_downloads_with_its_header(ws) -> None:
    path = f"{HOME}/t_ws_upload_nb.py"
    ws.workspace.upload(path, io.BytesIO(b"print(1)"))
    with ws.workspace.download(path) as f:
        assert f.read() == b"# Databricks notebook source\nprint(1)"
    status = ws.workspace.get_status(path)
    assert status.object_type == ObjectType.NOTEBOOK
    assert status.language == Language.PYTHON
    assert status.object_id


def test_json_import_of_a_sql_notebook_round_trips_through_export(ws) -> None:
    path = f"{HOME}/t_ws_sql_nb"
    source = "select 1\n\n-- COMMAND ----------\n\nselect 2"
    ws.workspace.import_(
        path, content=b64(source.encode()), format=ImportFormat.SOURCE, language=Language.SQL
    )
    response = ws.workspace.export(path, format=ExportFormat.SOURCE)
    assert response.file_type == "sql"
    assert base64.b64decode(response.content).decode() == (
        f"-- Databricks notebook source\n{source}"
    )
    # Content that already carries the header is not given a second one.
    ws.workspace.import_(
        path,
        content=b64(b"-- Databricks notebook source\nselect 3"),
        format=ImportFormat.SOURCE,
        language=Language.SQL,
        overwrite=True,
    )
    assert exported(ws, path) == b"-- Databricks notebook source\nselect 3"


def test_auto_import_treats_plain_content_as_a_file_and_keeps_bytes_exact(ws) -> None:
    path = f"{HOME}/t_ws_auto/data.bin"
    ws.workspace.mkdirs(f"{HOME}/t_ws_auto")
    payload = bytes(range(256)) * 4
    ws.workspace.upload(path, payload, format=ImportFormat.AUTO)
    status = ws.workspace.get_status(path)
    assert status.object_type == ObjectType.FILE
    assert status.size == len(payload)
    assert status.language is None
    assert ws.workspace.download(path).read() == payload


def test_auto_import_of_a_notebook_source_strips_the_extension(ws) -> None:
    ws.workspace.upload(
        f"{HOME}/t_ws_auto_nb.py",
        b"# Databricks notebook source\nx = 1",
        format=ImportFormat.AUTO,
    )
    status = ws.workspace.get_status(f"{HOME}/t_ws_auto_nb")
    assert status.object_type == ObjectType.NOTEBOOK
    with pytest.raises(NotFound):
        ws.workspace.get_status(f"{HOME}/t_ws_auto_nb.py")


def test_jupyter_notebooks_import_as_source_and_export_back(ws) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Title"], "metadata": {}},
            {"cell_type": "code", "source": ["x = 1\n", "print(x)"], "metadata": {}},
        ],
        "metadata": {"kernelspec": {"language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    ws.workspace.upload(
        f"{HOME}/t_ws_jupyter.ipynb", json.dumps(notebook).encode(), format=ImportFormat.AUTO
    )
    path = f"{HOME}/t_ws_jupyter"
    source = exported(ws, path).decode()
    assert source.startswith("# Databricks notebook source\n# MAGIC %md\n# MAGIC # Title")
    assert "# COMMAND ----------" in source and source.endswith("x = 1\nprint(x)")
    back = json.loads(exported(ws, path, ExportFormat.JUPYTER))
    assert [c["cell_type"] for c in back["cells"]] == ["markdown", "code"]
    assert "".join(back["cells"][1]["source"]) == "x = 1\nprint(x)"


def test_list_shows_children_with_types_languages_and_sizes(ws) -> None:
    base = f"{HOME}/t_ws_list"
    ws.workspace.mkdirs(f"{base}/sub/deeper")
    ws.workspace.upload(f"{base}/nb", b"1", format=ImportFormat.SOURCE, language=Language.R)
    ws.workspace.upload(f"{base}/f.txt", b"hello", format=ImportFormat.AUTO)
    objects = {o.path: o for o in ws.workspace.list(base)}
    assert set(objects) == {f"{base}/sub", f"{base}/nb", f"{base}/f.txt"}
    assert objects[f"{base}/sub"].object_type == ObjectType.DIRECTORY
    assert objects[f"{base}/nb"].language == Language.R
    assert objects[f"{base}/f.txt"].size == 5
    assert objects[f"{base}/f.txt"].modified_at
    # The SDK's recursive listing walks the directories itself.
    recursive = [o.path for o in ws.workspace.list(base, recursive=True)]
    assert f"{base}/sub" not in recursive and f"{base}/nb" in recursive
    # /Workspace/... names the same object as /...
    assert ws.workspace.get_status(f"/Workspace{base}/nb").path == f"{base}/nb"


def test_the_root_holds_users_and_shared_and_the_users_home_exists(ws) -> None:
    assert {"/Users", "/Shared"} <= {o.path for o in ws.workspace.list("/")}
    assert ws.workspace.get_status(HOME).object_type == ObjectType.DIRECTORY


def test_import_without_overwrite_on_an_existing_path_is_resource_already_exists(ws) -> None:
    path = f"{HOME}/t_ws_exists.py"
    ws.workspace.upload(path, b"print('first')")
    with pytest.raises(ResourceAlreadyExists):
        ws.workspace.upload(path, b"print('second')")
    assert exported(ws, path).endswith(b"print('first')")
    ws.workspace.upload(path, b"print('third')", overwrite=True)
    assert exported(ws, path).endswith(b"print('third')")


def test_import_into_a_missing_folder_is_not_found(ws) -> None:
    with pytest.raises(NotFound, match="parent folder"):
        ws.workspace.import_(
            f"{HOME}/t_ws_no_such_dir/nb",
            content=b64(b"1"),
            format=ImportFormat.SOURCE,
            language=Language.PYTHON,
        )


def test_mkdirs_is_idempotent_and_refuses_to_pass_through_a_file(ws) -> None:
    base = f"{HOME}/t_ws_mkdirs/a/b"
    ws.workspace.mkdirs(base)
    ws.workspace.mkdirs(base)
    assert ws.workspace.get_status(f"{HOME}/t_ws_mkdirs/a").object_type == ObjectType.DIRECTORY
    ws.workspace.upload(f"{base}/f", b"x", format=ImportFormat.RAW)
    with pytest.raises(ResourceAlreadyExists):
        ws.workspace.mkdirs(f"{base}/f/g")


def test_delete_of_a_non_empty_directory_needs_recursive(ws) -> None:
    base = f"{HOME}/t_ws_delete"
    ws.workspace.mkdirs(f"{base}/inner")
    ws.workspace.upload(f"{base}/inner/f.txt", b"x", format=ImportFormat.AUTO)
    with pytest.raises(DatabricksError) as caught:
        ws.workspace.delete(base)
    assert caught.value.error_code == "DIRECTORY_NOT_EMPTY"
    assert ws.workspace.get_status(f"{base}/inner/f.txt")
    ws.workspace.delete(base, recursive=True)
    with pytest.raises(NotFound):
        ws.workspace.get_status(f"{base}/inner/f.txt")
    with pytest.raises(NotFound):
        ws.workspace.delete(base)


def test_bad_requests_are_invalid_parameter_value(ws) -> None:
    with pytest.raises(InvalidParameterValue):
        ws.workspace.get_status("Users/relative")
    with pytest.raises(InvalidParameterValue):
        ws.workspace.import_(
            f"{HOME}/t_ws_bad_b64", content="not base64!!", format=ImportFormat.AUTO
        )
    with pytest.raises(InvalidParameterValue):
        ws.api_client.do(
            "POST",
            "/api/2.0/workspace/import",
            body={"path": f"{HOME}/t_ws_bad_fmt", "content": "", "format": "PDF"},
        )


def test_imports_over_ten_megabytes_are_refused(ws) -> None:
    with pytest.raises(BadRequest) as caught:
        ws.workspace.upload(
            f"{HOME}/t_ws_big.bin", b"x" * (10 * 1024 * 1024 + 1), format=ImportFormat.RAW
        )
    assert caught.value.error_code == "MAX_NOTEBOOK_SIZE_EXCEEDED"


def test_a_directory_exports_as_a_zip_of_its_notebook_sources(ws) -> None:
    base = f"{HOME}/t_ws_zip"
    ws.workspace.mkdirs(f"{base}/sub")
    ws.workspace.upload(f"{base}/sub/nb", b"1", format=ImportFormat.SOURCE, language=Language.SQL)
    ws.workspace.upload(f"{base}/f.txt", b"x", format=ImportFormat.AUTO)
    with zipfile.ZipFile(io.BytesIO(exported(ws, base, ExportFormat.SOURCE))) as archive:
        assert archive.namelist() == ["sub/nb.sql"]
    with zipfile.ZipFile(io.BytesIO(exported(ws, base, ExportFormat.AUTO))) as archive:
        assert sorted(archive.namelist()) == ["f.txt", "sub/nb.sql"]


def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    config = LocalConfig(data_dir=tmp_path / "ws-restart", token="dapi-restart", warm_mlflow=False)
    with LocalWorkspace(config) as first:
        client = workspace_client(host=first.url, token=first.token, retry_timeout_seconds=5)
        client.workspace.mkdirs(f"{HOME}/t_ws_restart")
        client.workspace.upload(f"{HOME}/t_ws_restart/nb.py", b"print('kept')")
        client.workspace.upload(f"{HOME}/t_ws_restart/f.txt", b"kept", format=ImportFormat.AUTO)
        before = client.workspace.get_status(f"{HOME}/t_ws_restart/nb.py")
    with LocalWorkspace(config) as second:
        client = workspace_client(host=second.url, token=second.token, retry_timeout_seconds=5)
        after = client.workspace.get_status(f"{HOME}/t_ws_restart/nb.py")
        assert after.object_id == before.object_id
        assert after.language == Language.PYTHON
        assert (
            client.workspace.download(f"{HOME}/t_ws_restart/nb.py")
            .read()
            .endswith(b"print('kept')")
        )
        assert client.workspace.download(f"{HOME}/t_ws_restart/f.txt").read() == b"kept"
