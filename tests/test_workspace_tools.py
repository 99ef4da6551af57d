"""The workspace_* tools through the MCP server, as an agent uses them."""

from __future__ import annotations

import pytest

from tests.conftest import call, fails, ok, text_of

pytestmark = pytest.mark.anyio

HOME = "/Users/dev@dbx-devkit.local"


async def test_a_written_notebook_reads_back_with_its_header(mcp) -> None:
    path = f"{HOME}/t_ws_tool_nb/etl"
    written = await ok(mcp, "workspace_write", path=path, content="print('hi')", language="PYTHON")
    assert "Created NOTEBOOK PYTHON" in text_of(written)
    assert f"Created missing parent directory {HOME}/t_ws_tool_nb" in text_of(written)
    read = await ok(mcp, "workspace_read", path=path)
    assert "# Databricks notebook source\nprint('hi')" in text_of(read)
    assert read.structured_content is not None
    assert read.structured_content["language"] == "PYTHON"
    listing = text_of(await ok(mcp, "workspace_list", path=f"{HOME}/t_ws_tool_nb"))
    assert "| NOTEBOOK | PYTHON |" in listing and path in listing


async def test_kind_and_language_are_taken_in_either_case(mcp) -> None:
    notebook = await ok(
        mcp,
        "workspace_write",
        path=f"{HOME}/t_ws_tool_case/query",
        content="SELECT 1",
        kind="NOTEBOOK",
        language="sql",
        overwrite=True,
    )
    assert "NOTEBOOK SQL" in text_of(notebook), text_of(notebook)
    file = await ok(
        mcp, "workspace_write", path=f"{HOME}/t_ws_tool_case/a.txt", content="x", kind="File",
        overwrite=True,
    )  # fmt: skip
    assert "FILE" in text_of(file), text_of(file)


async def test_a_long_read_is_capped_with_a_hint_for_the_next_offset(mcp) -> None:
    path = f"{HOME}/t_ws_tool_long.txt"
    content = "".join(f"line {i:05d}\n" for i in range(2000))
    await ok(mcp, "workspace_write", path=path, content=content, kind="file")
    first = await ok(mcp, "workspace_read", path=path, max_chars=1000)
    text = text_of(first)
    assert "line 00000" in text and "line 00100" not in text
    assert "call workspace_read with offset=1000" in text
    second = text_of(await ok(mcp, "workspace_read", path=path, offset=1000, max_chars=100_000))
    assert second.rstrip().endswith("line 01999") and "offset=" not in second


async def test_write_refuses_to_overwrite_and_leaves_the_old_content(mcp) -> None:
    path = f"{HOME}/t_ws_tool_keep.sql"
    await ok(mcp, "workspace_write", path=path, content="select 'old'", language="SQL")
    error = await fails(mcp, "workspace_write", path=path, content="select 'new'", language="SQL")
    assert error.startswith("RESOURCE_ALREADY_EXISTS")
    assert "overwrite=true" in error
    assert "select 'old'" in text_of(await ok(mcp, "workspace_read", path=path))
    replaced = await ok(
        mcp, "workspace_write", path=path, content="select 'new'", language="SQL", overwrite=True
    )
    assert "Replaced" in text_of(replaced)
    assert "select 'new'" in text_of(await ok(mcp, "workspace_read", path=path))


async def test_delete_without_confirm_only_says_what_it_would_delete(mcp) -> None:
    base = f"{HOME}/t_ws_tool_del"
    await ok(mcp, "workspace_write", path=f"{base}/a", content="1")
    await ok(mcp, "workspace_write", path=f"{base}/sub/b.txt", content="2", kind="file")
    preview = text_of(await ok(mcp, "workspace_delete", path=base, recursive=True))
    assert "Would delete DIRECTORY" in preview and "3 object(s)" in preview
    assert "confirm=true" in preview
    assert "| FILE |" in text_of(await ok(mcp, "workspace_list", path=base, depth=2))
    deleted = text_of(await ok(mcp, "workspace_delete", path=base, recursive=True, confirm=True))
    assert deleted.startswith("Deleted DIRECTORY")
    assert (await fails(mcp, "workspace_list", path=base)).startswith("RESOURCE_DOES_NOT_EXIST")


async def test_delete_of_a_non_empty_directory_without_recursive_says_so(mcp) -> None:
    base = f"{HOME}/t_ws_tool_nonempty"
    await ok(mcp, "workspace_write", path=f"{base}/a", content="1")
    preview = text_of(await ok(mcp, "workspace_delete", path=base))
    assert "recursive=true" in preview
    error = await fails(mcp, "workspace_delete", path=base, confirm=True)
    assert error.startswith("DIRECTORY_NOT_EMPTY") and "recursive=true" in error


async def test_a_wrong_path_fails_with_resource_does_not_exist_and_a_hint(mcp) -> None:
    error = await fails(mcp, "workspace_read", path=f"{HOME}/t_ws_tool_missing")
    assert error.startswith("RESOURCE_DOES_NOT_EXIST")
    assert "list the parent" in error


async def test_a_missing_argument_fails_with_invalid_parameter_value(mcp) -> None:
    error = await fails(mcp, "workspace_write", path=f"{HOME}/t_ws_tool_noarg")
    assert error.startswith("INVALID_PARAMETER_VALUE")
    assert "content" in error


async def test_a_relative_path_is_refused_before_any_call(mcp) -> None:
    error = await fails(mcp, "workspace_mkdirs", path="Users/someone")
    assert error.startswith("INVALID_PARAMETER_VALUE") and "absolute" in error


async def test_list_depth_expands_subdirectories_and_limit_truncates(mcp) -> None:
    base = f"{HOME}/t_ws_tool_depth"
    await ok(mcp, "workspace_mkdirs", path=f"{base}/a/b/c")
    for i in range(3):
        await ok(mcp, "workspace_write", path=f"{base}/n{i}", content=str(i))
    shallow = text_of(await ok(mcp, "workspace_list", path=base))
    assert f"{base}/a/b" not in shallow and "raise depth" in shallow
    deep = text_of(await ok(mcp, "workspace_list", path=base, depth=3))
    assert f"{base}/a/b/c" in deep
    capped = await ok(mcp, "workspace_list", path=base, limit=2)
    assert capped.structured_content is not None
    assert capped.structured_content["truncated"] is True
    assert "raise limit" in text_of(capped)


async def test_mkdirs_is_idempotent_and_says_whether_it_created(mcp) -> None:
    path = f"{HOME}/t_ws_tool_mkdirs/x"
    assert "Created" in text_of(await ok(mcp, "workspace_mkdirs", path=path))
    assert "already existed" in text_of(await ok(mcp, "workspace_mkdirs", path=path))


async def test_reading_a_directory_points_to_workspace_list(mcp) -> None:
    result = await call(mcp, "workspace_read", path=HOME)
    assert result.is_error
    assert text_of(result).startswith("INVALID_PARAMETER_VALUE")
    assert "workspace_list" in text_of(result)


async def test_reading_a_binary_file_says_so_instead_of_dumping_bytes(mcp, ws) -> None:
    from databricks.sdk.service.workspace import ImportFormat

    ws.workspace.upload(f"{HOME}/t_ws_tool_bin", b"\xff\xfe\x00binary", format=ImportFormat.RAW)
    text = text_of(await ok(mcp, "workspace_read", path=f"{HOME}/t_ws_tool_bin"))
    assert "binary content (9 bytes)" in text
