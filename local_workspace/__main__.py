"""The local workspace's own process: ``python -m local_workspace --data-dir DIR ...``.

Started by :class:`local_workspace.runner.LocalWorkspace` (an MCP server's supervisor, a
test, a bench). Once it answers requests it writes one JSON line ``{"url", "pid"}`` to the
file descriptor ``--ready-fd`` and closes it: the starter's readiness signal. The token
comes from ``DBX_DEVKIT_LOCAL_TOKEN`` or the data directory, never the command line (which
any local user can read).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The child's command line (written by LocalWorkspace, not by people)."""
    parser = argparse.ArgumentParser(prog="python -m local_workspace")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user")
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--no-warm-mlflow", action="store_true")
    parser.add_argument("--faults", help="fault spec (tests); '' arms none but allows re-arming")
    parser.add_argument("--owned", action="store_true", help="end when no owner lease is live")
    parser.add_argument("--ready-fd", type=int, help="write the ready line here")
    parser.add_argument("--spare", action="store_true", help="import, then wait for 'go' on stdin")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until stopped; 0 on a clean stop."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # `kill -USR1 <pid>` writes every thread's stack to the log (stderr): how a workspace that
    # stopped answering is diagnosed without stopping it.
    faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)
    go = _wait_for_go() if args.spare else None
    # The imports are most of a start: a spare has them done before it is needed.
    from local_workspace.config import DEFAULT_USER, TOKEN_ENV, LocalConfig
    from local_workspace.faults import parse_faults
    from local_workspace.serve import serve

    if go is not None:
        # The log says when a spare can take over (tests and people read it).
        print(f"spare workspace process {os.getpid()} ready", file=sys.stderr, flush=True)
        go.wait()
    config = LocalConfig(
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        user=args.user or DEFAULT_USER,
        token=os.environ.pop(TOKEN_ENV, None),
        seed=not args.no_seed,
        faults=parse_faults(args.faults) if args.faults is not None else None,
        warm_mlflow=not args.no_warm_mlflow,
    )

    def ready(url: str, token: str) -> None:
        if args.ready_fd is None:
            return
        with os.fdopen(args.ready_fd, "w") as pipe:
            pipe.write(json.dumps({"url": url, "pid": os.getpid()}) + "\n")

    serve(config, ready, owned=args.owned)
    return 0


def _wait_for_go() -> threading.Event:
    """A spare's go signal: set when its starter writes "go"; the process ends at once when
    the starter goes away instead (its stdin closes), even in the middle of its imports."""
    go = threading.Event()

    def read() -> None:
        if sys.stdin.readline().strip() == "go":
            go.set()
        else:
            os._exit(0)  # nothing to clean up: the spare has touched nothing yet

    threading.Thread(target=read, name="dbx-devkit-spare", daemon=True).start()
    return go


if __name__ == "__main__":
    sys.exit(main())
