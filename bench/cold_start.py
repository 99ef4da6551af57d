"""Stdio cold start: spawn to the tools/list answer, dbx-devkit beside a bare MCPServer.

Both servers are spawned N times, interleaved, in the same run, with HOME and the data
directory in a temporary directory and no Databricks configuration (so the local backend
is selected, which must not be started before tools/list is answered).

    python bench/cold_start.py [-n 5] [--base REV]

With ``--base REV`` it also spawns the server as it was at commit REV (a temporary git
worktree, the same virtual environment), interleaved in the same run: the before/after figure
of a change.

Prints one line per figure; the last is the ratio of medians (target: at most 1.3x).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_RATIO = 1.3

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "cold-start-bench", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
TOOLS_LIST = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}


def devkit_command() -> list[str]:
    """``dbx-devkit serve`` from the same environment as this interpreter."""
    script = Path(sys.executable).parent / "dbx-devkit"
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "server.cli", "serve"]


def bare_command() -> list[str]:
    """The baseline: a one-tool MCPServer."""
    return [sys.executable, str(HERE / "bare_server.py")]


def clean_env(home: Path) -> dict[str, str]:
    """The environment without any Databricks/MLflow/dbx-devkit configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABRICKS_", "MLFLOW_", "DBX_DEVKIT_"))
    }
    env["HOME"] = str(home)
    env["DBX_DEVKIT_DATA_DIR"] = str(home / "data")
    return env


def base_worktree(rev: str, into: Path) -> Path:
    """A temporary git worktree of ``rev`` (removed by the caller's cleanup of ``into``)."""
    path = into / "base"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(path), rev],
        cwd=HERE.parent,
        check=True,
    )
    return path


def time_to_tools_list(
    command: list[str], env: dict[str, str], cwd: Path | None = None
) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and the number of tools listed."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        for message in (INITIALIZE, INITIALIZED, TOOLS_LIST):
            process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        tools = -1
        for line in process.stdout:
            answer = json.loads(line)
            if answer.get("id") == 2:
                tools = len(answer["result"]["tools"])
                break
        elapsed = time.perf_counter() - start
        if tools < 0:
            raise RuntimeError(f"{command} closed stdout before answering tools/list")
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return elapsed, tools


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5, help="spawns per server (default 5)")
    parser.add_argument(
        "--report-only", action="store_true", help="exit 0 even over target (CI smoke runs)"
    )
    parser.add_argument("--base", help="also measure the server at this git revision")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="dbx-devkit-bench-"))
    base: list[float] = []
    base_tools = 0
    try:
        env = clean_env(home)
        base_dir = base_worktree(args.base, home) if args.base else None
        # The base checkout's packages come first on sys.path (cwd with -m, and PYTHONPATH).
        base_env = {**env, "PYTHONPATH": str(base_dir)} if base_dir else env
        base_command = [sys.executable, "-m", "server.cli", "serve"]
        # One unmeasured spawn each: byte-compile and warm the OS file cache. For dbx-devkit
        # it is also the first start, which builds every tool and fills the listing cache.
        first, _ = time_to_tools_list(devkit_command(), env)
        time_to_tools_list(bare_command(), env)
        if base_dir:
            time_to_tools_list(base_command, base_env, base_dir)
        devkit: list[float] = []
        bare: list[float] = []
        tools = 0
        for _ in range(args.n):
            seconds, tools = time_to_tools_list(devkit_command(), env)
            devkit.append(seconds)
            bare.append(time_to_tools_list(bare_command(), env)[0])
            if base_dir:
                seconds, base_tools = time_to_tools_list(base_command, base_env, base_dir)
                base.append(seconds)
    finally:
        if args.base:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(home / "base")],
                cwd=HERE.parent,
                check=False,
            )
        shutil.rmtree(home, ignore_errors=True)
    ratio = statistics.median(devkit) / statistics.median(bare)
    print(f"cold_start.devkit.median_s {statistics.median(devkit):.3f} ({tools} tools)")
    print(f"cold_start.devkit.min_s {min(devkit):.3f}")
    print(f"cold_start.devkit.first_start_s {first:.3f} (listing cache empty)")
    print(f"cold_start.bare.median_s {statistics.median(bare):.3f}")
    print(f"cold_start.bare.min_s {min(bare):.3f}")
    if base:
        base_ratio = statistics.median(base) / statistics.median(bare)
        change = statistics.median(devkit) / statistics.median(base)
        print(f"cold_start.base.median_s {statistics.median(base):.3f} ({base_tools} tools)")
        print(f"cold_start.base.ratio {base_ratio:.2f}x (base over bare)")
        print(f"cold_start.change {change:.2f}x (this tree over {args.base})")
    verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"cold_start.ratio {ratio:.2f}x (target <= {TARGET_RATIO}x: {verdict})")
    return 0 if ratio <= TARGET_RATIO or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())
