"""The cached tools/list: identical to building every tool, and its tools work when called.

Start-up answers tools/list from the listing cache (server/tool_catalog.py) and builds a tool
only on its first call, so start-up does not grow with the number of tools.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from server import tool_catalog
from server.app import build_server
from server.runtime import Runtime
from server.settings import Settings
from tests.conftest import fails, mcp_session, ok, subprocess_env, text_of
from tools_core.backend import Backend

pytestmark = pytest.mark.anyio


async def listing(backend: Backend | None = None, **settings: Any) -> list[dict[str, Any]]:
    config = Settings(**settings)
    runtime = Runtime(config, backend) if backend else Runtime(config)
    async with Client(build_server(config, runtime)) as client:
        tools = (await client.list_tools()).tools
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


def cached_listings() -> list[Path]:
    return sorted(tool_catalog.cache_dir().glob("tools-*.json"))


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"read_only": True},
        {"toolsets": ("sql", "jobs")},
        {"toolsets": ("jobs",), "read_only": True},
    ],
)
async def test_a_start_from_the_cache_lists_exactly_what_building_every_tool_lists(
    settings: dict[str, Any],
) -> None:
    assert cached_listings() == []
    first = await listing(**settings)  # builds every tool, fills the cache
    assert len(cached_listings()) == 1
    second = await listing(**settings)  # from the cache, nothing built
    assert second == first
    built = await listing(output_schemas=True, **settings)  # always built, never cached
    without_outputs = [{k: v for k, v in t.items() if k != "outputSchema"} for t in built]
    assert second == without_outputs


async def test_tools_listed_from_the_cache_run_and_validate_their_arguments(
    backend: Backend,
) -> None:
    await listing(backend)  # fill the cache
    async with mcp_session(backend) as client:
        result = await ok(client, "sql_query", statement="SELECT 40 + 2 AS answer")
        assert "42" in text_of(result)
        wrong_type = await fails(client, "sql_query", statement="SELECT 1", limit="x")
        assert wrong_type.startswith("INVALID_PARAMETER_VALUE")
        misnamed = await fails(client, "uc_list_schemas", catalgo="samples")
        assert "did you mean 'catalog'" in misnamed


async def test_an_unreadable_cache_is_rebuilt_not_served() -> None:
    first = await listing()
    [cached] = cached_listings()
    cached.write_text("{not json")
    assert await listing() == first
    assert json.loads(cached.read_text())  # rewritten whole


def test_a_start_from_the_cache_imports_no_tool_module(tmp_path: Path) -> None:
    probe = (
        "import sys; from server.app import build_server; from server.settings import Settings;"
        "build_server(Settings());"
        "print(sorted(m for m in sys.modules if m.startswith('server.tools')))"
    )
    env = subprocess_env(tmp_path)
    runs = [
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        for _ in range(2)
    ]
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr[-2000:]
    assert "server.tools.jobs" in runs[0].stdout  # the first start builds every tool
    assert runs[1].stdout.strip() == "[]", runs[1].stdout
