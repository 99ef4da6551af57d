"""A seeded sample of the fuzz corpus (bench/fuzz_tools.py) through every read-only tool,
against the session's local workspace: no crash, every error bounded. The bench runs the
whole corpus through every tool, writers included, against a fresh workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.fuzz_tools import ERROR_MAX_CHARS, fuzz
from tools_core.backend import Backend

pytestmark = pytest.mark.anyio


async def test_a_sample_of_the_fuzz_corpus_crashes_no_tool_and_bounds_every_error(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Readers may write local files too (save_to): inside tmp_path, deep enough for '../..'.
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    tally = await fuzz(backend, seed=11, per_tool=5, deadline=60, budget=240, read_only=True)
    assert not tally.stopped_early
    assert tally.calls >= 180, tally.calls
    assert tally.crashes == [], tally.crashes
    assert tally.max_error[0] <= ERROR_MAX_CHARS, tally.max_error
    assert tally.unavailable == 0, tally.notes
