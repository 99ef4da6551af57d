"""uc tools (filled by the uc work)."""

from __future__ import annotations
