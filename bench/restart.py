"""Supervised local workspace: first start, and restart after a SIGKILL, with and without the
spare process that has its imports done (the baseline, measured in the same run).

    python bench/restart.py [-n 3]

Prints one line per figure: seconds from the kill until the supervisor's workspace answers
its health check again (median of n kills each).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local_workspace.config import LocalConfig
from local_workspace.discovery import healthy
from local_workspace.supervisor import Supervisor

DEADLINE_S = 120.0


def back_after_kill(supervisor: Supervisor, with_spare: bool) -> float:
    """Seconds from SIGKILL of the workspace until a new one answers."""
    if not with_spare and supervisor._spare is not None:
        supervisor._spare.stop()  # the baseline: a restart that imports everything
        supervisor._spare = None
    elif with_spare:
        log = supervisor.log_path
        spares = log.read_text().count("spare workspace process")
        wait_until(lambda: supervisor._spare is not None)
        wait_until(lambda: log.read_text().count("spare workspace process") > spares)
    pid = supervisor.child_pid
    assert pid is not None
    restarts = supervisor.restarts
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: supervisor.restarts > restarts and healthy(supervisor.url))
    return time.monotonic() - killed


def wait_until(predicate: object) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit("restart.timeout: the workspace did not come back")
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=3, help="kills per variant (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        supervisor = Supervisor(LocalConfig(data_dir=Path(tmp) / "ws", warm_mlflow=False))
        started = time.monotonic()
        supervisor.start()
        print(f"restart.first_start_s {time.monotonic() - started:.2f}")
        try:
            figures: dict[str, list[float]] = {"spare": [], "no_spare": []}
            for _ in range(args.n):
                figures["spare"].append(back_after_kill(supervisor, with_spare=True))
                figures["no_spare"].append(back_after_kill(supervisor, with_spare=False))
            for name, values in figures.items():
                print(f"restart.{name}_s {statistics.median(values):.2f}")
            ratio = statistics.median(figures["no_spare"]) / statistics.median(figures["spare"])
            print(f"restart.ratio {ratio:.1f}x faster with the spare")
        finally:
            supervisor.close()


if __name__ == "__main__":
    main()
