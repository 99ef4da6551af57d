"""Who keeps a supervised local workspace alive: one lease file per owning process.

An MCP server that starts or attaches to a local workspace writes ``owners/<pid>-<holder>``
in the data directory (its pid and start time: pids are recycled, the pair is not). A workspace
started for owners (``--owned``) ends itself once no lease names a live process, so it
outlives the server that started it while another server is attached, and never outlives
them all, even when they were killed without a chance to say goodbye.
"""

from __future__ import annotations

import contextlib
import os
import uuid
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
    """The leases on one data directory's workspace, and this holder's own.

    Each holder (a supervisor, a LocalWorkspace handle) has its own lease file,
    ``<pid>-<holder>``: two holders in one process give theirs up independently.
    """

    def __init__(self, data_dir: Path) -> None:
        self.folder = data_dir / "owners"
        self._name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"

    def add(self) -> None:
        """Take this holder's lease (for this process)."""
        started = start_time(os.getpid())
        if started is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / self._name).write_text(started)

    def remove(self) -> None:
        """Give up this holder's lease."""
        with contextlib.suppress(OSError):
            (self.folder / self._name).unlink()

    def alive(self) -> list[int]:
        """The pids whose leases still name a live process; stale leases are removed."""
        try:
            leases = list(self.folder.iterdir())
        except OSError:
            return []
        live: list[int] = []
        for lease in leases:
            pid_text = lease.name.split("-", 1)[0]
            if not pid_text.isdigit():
                continue
            try:
                recorded = lease.read_text()
            except OSError:
                continue
            pid = int(pid_text)
            if start_time(pid) == recorded:
                live.append(pid)
            else:
                with contextlib.suppress(OSError):
                    lease.unlink()
        return sorted(set(live))
