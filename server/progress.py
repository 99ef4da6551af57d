"""Long waits for async tools: poll in a worker thread, report MCP progress, honour cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from mcp.server.mcpserver import Context

T = TypeVar("T")
Progress = Callable[[float, float, str], None]
Check = Callable[[], None]


async def wait_with_progress(ctx: Context, wait: Callable[[Progress, Check], T]) -> T:
    """Run the blocking ``wait(progress, check)`` off the event loop. ``progress`` sends MCP
    progress notifications; ``check`` raises once the client cancels the call, so the
    polling thread stops with it."""

    def progress(done: float, total: float, message: str) -> None:
        anyio.from_thread.run(ctx.report_progress, done, total, message)

    return await anyio.to_thread.run_sync(lambda: wait(progress, anyio.from_thread.check_cancelled))
