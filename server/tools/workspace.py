"""workspace tools (filled by the workspace work)."""

from __future__ import annotations
