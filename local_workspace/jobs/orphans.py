"""Task processes left behind by a previous life of the workspace, found and ended at restart.

A task process watches its parent and ends its process group when the workspace dies
(``child.py``), but a process that could not react (stopped, or stuck without releasing the
GIL) or a grandchild that left the group would run on. At start-up the scheduler ends the
processes of the task attempts that were still active. A process is ours only when its own
``/proc`` entry names the attempt: the task runtime's command line with the attempt's
folder, or the attempt's private TMPDIR in its environment. A pid alone proves nothing (pids
are recycled), so nothing else is ever signalled. Linux only (``/proc``); elsewhere nothing
is found.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

CHILD_MODULE = "local_workspace.jobs.child"
# How long ending orphans may delay the start-up.
END_WAIT_S = 5.0
_PROC = Path("/proc")


def end_orphans(workdirs: Iterable[Path]) -> dict[Path, list[int]]:
    """SIGKILL every process that belongs to one of these attempt folders; the pids per folder.

    Waits (at most ``END_WAIT_S``) until they are gone.
    """
    wanted = {str(Path(w)): Path(w) for w in workdirs}
    found: dict[Path, list[int]] = {}
    if not wanted or not _PROC.is_dir():
        return found
    for pid in _pids():
        workdir = _attempt_of(pid, wanted)
        if workdir is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                continue
            found.setdefault(workdir, []).append(pid)
    deadline = time.monotonic() + END_WAIT_S
    pending = [pid for pids in found.values() for pid in pids]
    while pending and time.monotonic() < deadline:
        pending = [pid for pid in pending if running(pid)]
        if pending:
            time.sleep(0.02)
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` is a process that still runs (a zombie awaiting its reaper has ended)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[-1].split()
    return bool(fields) and fields[0] not in ("Z", "X")


def _pids() -> list[int]:
    own = os.getpid()
    return [int(p.name) for p in _PROC.iterdir() if p.name.isdigit() and int(p.name) != own]


def _attempt_of(pid: int, wanted: dict[str, Path]) -> Path | None:
    """The attempt folder a process names, if it is one of ``wanted``."""
    try:
        args = (_PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    text = [a.decode("utf-8", "replace") for a in args]
    if CHILD_MODULE in text:
        for arg in text:
            if arg in wanted:
                return wanted[arg]
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return None
    for item in environ:
        if item.startswith(b"TMPDIR="):
            tmp = Path(item[len(b"TMPDIR=") :].decode("utf-8", "replace"))
            return wanted.get(str(tmp.parent)) if tmp.name == "tmp" else None
    return None
