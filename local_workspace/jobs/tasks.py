"""Task runtime: run one job task attempt in its own subprocess (own process group).

The scheduler builds a ``TaskLaunch`` (source fetched from the workspace store, parameters,
environment) and drives a ``TaskProcess``: ``start()``, then ``wait()`` for the
``TaskOutcome``; ``cancel()`` from any thread ends the whole process group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass
class TaskLaunch:
    """Everything a task attempt needs to run."""

    task_key: str
    kind: Literal["notebook", "python"]
    source: str
    source_path: str
    language: str = "PYTHON"
    parameters: dict[str, str] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    workdir: Path = Path(".")
    env: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    libraries: list[dict[str, Any]] = field(default_factory=list)
    environment: dict[str, Any] | None = None


@dataclass
class TaskOutcome:
    """How a task attempt ended."""

    result_state: Literal["SUCCESS", "FAILED", "TIMEDOUT", "CANCELED"]
    exit_code: int | None
    logs: str
    logs_truncated: bool
    error: str | None
    error_trace: str | None
    notebook_output: str | None
    start_time_ms: int
    end_time_ms: int


class TaskProcess:
    """One task attempt as a subprocess in its own process group."""

    def __init__(self, launch: TaskLaunch) -> None:
        self.launch = launch

    def start(self) -> None:
        """Spawn the child process."""
        raise NotImplementedError

    def wait(self) -> TaskOutcome:
        """Block until the process ends, times out or is cancelled."""
        raise NotImplementedError

    def cancel(self) -> None:
        """End the process group (SIGTERM, SIGKILL after ~2 s); returns at once."""
        raise NotImplementedError
