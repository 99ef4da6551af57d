"""Who keeps a supervised local workspace alive: one lease file per owning process.

An MCP server that starts or attaches to a local workspace writes ``owners/<pid>`` in the
data directory (its pid and start time: pids are recycled, the pair is not). A workspace
started for owners (``--owned``) ends itself once no lease names a live process, so it
outlives the server that started it while another server is attached, and never outlives
them all, even when they were killed without a chance to say goodbye.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_PROC = Path("/proc")


def start_time(pid: int) -> str | None:
    """A process's start time (clock ticks since boot) from ``/proc``; None when it is gone.

    Where ``/proc`` does not exist, any live pid gets the same placeholder: the lease then
    relies on the pid alone.
    """
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        if _PROC.is_dir():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "-"
    fields = stat.rsplit(")", 1)[-1].split()
    if not fields or fields[0] in ("Z", "X"):
        return None  # a zombie awaiting its reaper has ended
    return fields[19] if len(fields) > 19 else "-"


class Owners:
    """The leases on one data directory's workspace."""

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "owners"

    def add(self, pid: int | None = None) -> None:
        """Lease the workspace for ``pid`` (this process by default)."""
        pid = pid or os.getpid()
        started = start_time(pid)
        if started is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / str(pid)).write_text(started)

    def remove(self, pid: int | None = None) -> None:
        """Give up ``pid``'s lease (this process by default)."""
        with contextlib.suppress(OSError):
            (self.folder / str(pid or os.getpid())).unlink()

    def alive(self) -> list[int]:
        """The pids whose leases still name a live process; stale leases are removed."""
        try:
            leases = list(self.folder.iterdir())
        except OSError:
            return []
        live: list[int] = []
        for lease in leases:
            if not lease.name.isdigit():
                continue
            try:
                recorded = lease.read_text()
            except OSError:
                continue
            pid = int(lease.name)
            if start_time(pid) == recorded:
                live.append(pid)
            else:
                with contextlib.suppress(OSError):
                    lease.unlink()
        return sorted(live)
