"""Redaction of what job runs hand back: logs, notebook output, errors, tracebacks.

A task runs user code with the workspace's token in its environment; whatever it prints or
raises comes back through ``runs/get-output`` and run states. :func:`redact` is the one
function every such path applies before text is stored or served.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"

# Databricks token shapes: a prefix, 32 hex characters, and an optional rotation suffix `-N`.
# dapi: personal access tokens; dose: OAuth client secrets; doau: OAuth refresh tokens;
# dkea, dsapi: other Databricks-issued token prefixes (as secret scanners list them).
DATABRICKS_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:dapi|dkea|dose|doau|dsapi)[0-9a-fA-F]{32}(?:-\d+)?(?![A-Za-z0-9])"
)
# Shorter values are not masked by value: they would mask ordinary words.
MIN_SECRET_CHARS = 8


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and anything shaped like a Databricks token masked."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_CHARS}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return DATABRICKS_TOKEN.sub(MASK, text)
