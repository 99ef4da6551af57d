"""Configuration of the local workspace: where it keeps its data, who the user is."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from local_workspace.faults import FaultConfig

DEFAULT_USER = "dev@dbx-devkit.local"
WORKSPACE_ID = "1000000000000001"
# How a starter hands a chosen token to the workspace process (never on its command line).
TOKEN_ENV = "DBX_DEVKIT_LOCAL_TOKEN"


def default_data_dir() -> Path:
    """``$DBX_DEVKIT_DATA_DIR`` or ``~/.dbx-devkit/local-workspace``."""
    env = os.environ.get("DBX_DEVKIT_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".dbx-devkit" / "local-workspace"


@dataclass
class LocalConfig:
    """Settings of one local workspace instance."""

    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 0
    user: str = DEFAULT_USER
    token: str | None = None
    seed: bool = True
    # Fault injection for tests (local_workspace/faults.py): off unless set.
    faults: FaultConfig | None = None
    # Import MLflow's server in the background at start (seconds of CPU); when off, it
    # starts on the first MLflow request instead (benches that never call MLflow).
    warm_mlflow: bool = True

    def resolved_token(self) -> str:
        """The access token: given, or persisted in the data directory so clients can reattach."""
        if self.token:
            return self.token
        path = self.data_dir / "token"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token = "dapi" + secrets.token_hex(16)
        path.write_text(token)
        path.chmod(0o600)
        return token
