"""Local files the tools write stay where they belong: save_to writes only new files inside
the one results folder (never through a link, never over a file), and project_init never
writes through a link or into a folder that is not empty. A host canary proves nothing
outside was touched."""

from __future__ import annotations

import csv
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from mcp import Client

from server.runtime import Runtime
from server.settings import Settings
from tests.conftest import fails, mcp_session, ok, text_of
from tools_core.backend import Backend
from tools_core.errors import InvalidInput
from tools_core.localfiles import save_new
from tools_core.project import init_project

RESULT = "SELECT id, id * 2 AS twice FROM range(5) r(id)"
CANARY = b"host canary: must stay as it is\n"


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A folder outside the results folder holding a canary file."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.csv").write_bytes(CANARY)
    return outside


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"


def tree(folder: Path) -> dict[str, bytes | str]:
    """Every entry under ``folder`` (links as their target, never followed)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[key] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "dir"
    return found


@asynccontextmanager
async def server(backend: Backend, results: Path, **settings: Any) -> AsyncIterator[Client]:
    async with mcp_session(
        backend, results_dir=str(results), output_schemas=True, **settings
    ) as client:
        yield client


@pytest.mark.anyio
async def test_a_good_name_writes_a_new_file_and_the_result_names_its_absolute_path(
    backend: Backend, results: Path
) -> None:
    async with server(backend, results) as client:
        result = await ok(client, "sql_query", statement=RESULT, save_to="doubles.csv")
    data = result.structured_content
    written = results / "doubles.csv"
    assert data["saved_to"] == str(written.resolve()) and Path(data["saved_to"]).is_absolute()
    assert data["saved_rows"] == 5 and data["saved_bytes"] == written.stat().st_size
    assert str(written.resolve()) in text_of(result) and "5 rows" in text_of(result)
    with written.open() as handle:
        assert list(csv.reader(handle)) == [["id", "twice"]] + [
            [str(i), str(2 * i)] for i in range(5)
        ]
    assert tree(results) == {"doubles.csv": written.read_bytes()}  # no temporary left


@pytest.mark.anyio
async def test_a_relative_path_or_an_absolute_path_inside_the_folder_is_accepted(
    backend: Backend, results: Path
) -> None:
    async with server(backend, results) as client:
        nested = await ok(client, "sql_query", statement=RESULT, save_to="q3/week1/doubles.json")
        inside = str(results / "q3" / "doubles.parquet")
        absolute = await ok(client, "sql_query", statement=RESULT, save_to=inside)
    assert nested.structured_content["saved_to"] == str(results.resolve() / "q3/week1/doubles.json")
    assert absolute.structured_content["saved_to"] == str(results.resolve() / "q3/doubles.parquet")
    assert (results / "q3/week1/doubles.json").read_text().startswith('[{"id": "0", "twice": "0"}')


def bad_names(outside: Path) -> list[str]:
    return [
        "../escape.csv",
        "sub/../../escape.csv",
        str(outside / "escape.csv"),
        str(outside / "canary.csv"),
        "/etc/dbx-devkit-escape.csv",
        "~/.escape.csv",
        "~root/escape.csv",
        "escape\x00.csv",
        "line\nbreak.csv",
        "x" * 300 + ".csv",
        "a/" * 600 + "x.csv",
        "escape.sh",
        ".",
    ]


@pytest.mark.anyio
@pytest.mark.parametrize("read_only", [False, True])
async def test_save_to_cannot_leave_its_folder(
    backend: Backend, results: Path, host: Path, tmp_path: Path, read_only: bool
) -> None:
    before = tree(tmp_path)
    async with server(backend, results, read_only=read_only) as client:
        for name in bad_names(host):
            text = await fails(client, "sql_query", statement=RESULT, save_to=name)
            assert text.startswith("INVALID_PARAMETER_VALUE: save_to must be a file name"), text
            assert str(results) in text and len(text) < 700
    assert tree(tmp_path) == before  # canary unchanged, nothing new anywhere (HOME included)


@pytest.mark.anyio
async def test_a_bad_save_to_on_sql_execute_refuses_before_the_statement_runs(
    mcp: Client, backend: Backend, results: Path
) -> None:
    table = "main.default.t_local_writes_insert"
    await ok(mcp, "sql_execute", statement=f"CREATE TABLE {table} (id INT)")
    async with server(backend, results) as client:
        statement = f"INSERT INTO {table} VALUES (1)"
        await fails(client, "sql_execute", statement=statement, save_to="../x.csv")
    rows = await ok(mcp, "sql_query", statement=f"SELECT count(*) FROM {table}")
    assert rows.structured_content["rows"] == [["0"]]


@pytest.mark.anyio
async def test_a_link_inside_the_folder_pointing_out_is_never_written_through(
    backend: Backend, results: Path, host: Path
) -> None:
    results.mkdir()
    (results / "planted.csv").symlink_to(host / "canary.csv")
    (results / "dangling.csv").symlink_to(host / "not-yet.csv")
    async with server(backend, results) as client:
        planted = await ok(client, "sql_query", statement=RESULT, save_to="planted.csv")
        dangling = await ok(client, "sql_query", statement=RESULT, save_to="dangling.csv")
    assert planted.structured_content["saved_to"] == str(results.resolve() / "planted-1.csv")
    assert dangling.structured_content["saved_to"] == str(results.resolve() / "dangling-1.csv")
    assert tree(host) == {"canary.csv": CANARY}
    assert (results / "planted.csv").is_symlink() and (results / "dangling.csv").is_symlink()


@pytest.mark.anyio
async def test_a_linked_sub_folder_is_refused(backend: Backend, results: Path, host: Path) -> None:
    results.mkdir()
    (results / "sub").symlink_to(host, target_is_directory=True)
    async with server(backend, results) as client:
        for name in ("sub/escape.csv", "sub/deeper/escape.csv"):
            text = await fails(client, "sql_query", statement=RESULT, save_to=name)
            assert text.startswith("INVALID_PARAMETER_VALUE") and "symbolic link" in text
    assert tree(host) == {"canary.csv": CANARY}


@pytest.mark.anyio
async def test_an_existing_file_is_never_overwritten(backend: Backend, results: Path) -> None:
    results.mkdir()
    (results / "keep.csv").write_text("mine\n")
    async with server(backend, results) as client:
        first = await ok(client, "sql_query", statement=RESULT, save_to="keep.csv")
        second = await ok(client, "sql_query", statement=RESULT, save_to="keep.csv")
    assert (results / "keep.csv").read_text() == "mine\n"
    assert first.structured_content["saved_to"].endswith("/keep-1.csv")
    assert second.structured_content["saved_to"].endswith("/keep-2.csv")
    assert "keep.csv existed (never overwritten); wrote keep-1.csv" in text_of(first)


@pytest.mark.anyio
async def test_sql_get_result_and_sql_execute_save_into_the_same_folder(
    backend: Backend, results: Path
) -> None:
    async with server(backend, results) as client:
        page = await ok(client, "sql_query", statement=RESULT, limit=1)
        statement_id = page.structured_content["statement_id"]
        saved = await ok(client, "sql_get_result", statement_id=statement_id, save_to="page.csv")
        executed = await ok(client, "sql_execute", statement=RESULT, save_to="exec.json")
    assert saved.structured_content["saved_rows"] == 5
    assert Path(executed.structured_content["saved_to"]).parent == results.resolve()
    assert sorted(tree(results)) == ["exec.json", "page.csv"]


def test_a_failed_write_leaves_no_file(results: Path) -> None:
    def half_then_fail(handle: BinaryIO) -> int:
        handle.write(b"id\n1\n")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        save_new(results, "partial.csv", half_then_fail, (".csv",))
    assert tree(results) == {}


def test_the_results_folder_is_one_setting_local_even_against_a_remote_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    assert Runtime(Settings(data_dir=data)).results_dir == data / "results"
    monkeypatch.setenv("DBX_DEVKIT_DATA_DIR", str(data))
    monkeypatch.setenv("DATABRICKS_HOST", "https://example.cloud.databricks.com")
    remote = Runtime(Settings())
    assert remote.backend_kind == "remote" and remote.results_dir == data / "results"
    monkeypatch.setenv("DBX_DEVKIT_RESULTS_DIR", str(tmp_path / "mine"))
    assert Runtime(Settings()).results_dir == tmp_path / "mine"


# -- project_init --


def test_project_init_refuses_a_linked_component_pointing_elsewhere(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere, target_is_directory=True)
    for path in (tmp_path / "link", tmp_path / "link" / "proj"):
        with pytest.raises(InvalidInput, match="symbolic link"):
            init_project(path, "linked", "minimal")
    assert tree(elsewhere) == {}


@pytest.mark.anyio
async def test_the_project_init_tool_refuses_a_link_too(mcp: Client, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere, target_is_directory=True)
    text = await fails(mcp, "project_init", path=str(tmp_path / "link" / "p"), name="linked")
    assert text.startswith("INVALID_PARAMETER_VALUE") and "symbolic link" in text
    assert tree(elsewhere) == {} and not (tmp_path / "p").exists()


def test_project_init_writes_into_a_new_or_empty_folder_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    written = init_project(empty, "fresh", "minimal")
    assert written.path == str(empty.resolve()) and (empty / "databricks.yml").is_file()
    created = init_project(tmp_path / "new" / "deeper", "deeper", "minimal")
    assert Path(created.path, "pyproject.toml").is_file()
    with pytest.raises(Exception, match="not empty"):
        init_project(empty, "again", "minimal")
