"""sql tools (filled by the sql work)."""

from __future__ import annotations
