"""Poll long work (runs, updates) until it ends or a deadline passes, reporting progress."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tools_core.retries import each_poll

T = TypeVar("T")
# (done, total, message): what MCP progress notifications carry.
Progress = tuple[float, float, str]


def poll_until_done(
    fetch: Callable[[], T],
    is_done: Callable[[T], bool],
    progress: Callable[[T], Progress],
    timeout_s: float,
    on_progress: Callable[[float, float, str], None] | None = None,
    check: Callable[[], None] | None = None,
    first_interval_s: float = 0.2,
) -> tuple[T, bool]:
    """``fetch()`` until ``is_done`` or ``timeout_s`` passes: (the last state, whether done).

    ``on_progress`` is called whenever the progress picture changes; ``check()`` runs before
    every fetch and raises to stop waiting (e.g. the client cancelled). The interval grows
    1.5x per poll up to 2 s, so short work is seen at once and long work costs few calls.
    """
    deadline = time.monotonic() + timeout_s
    interval = first_interval_s
    last: Progress | None = None
    while True:
        if check is not None:
            check()
        with each_poll():  # each poll is a short call of its own, bounded as one
            state = fetch()
        picture = progress(state)
        if on_progress is not None and picture != last:
            on_progress(*picture)
            last = picture
        if is_done(state):
            return state, True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return state, False
        time.sleep(min(interval, remaining))
        interval = min(interval * 1.5, 2.0)
