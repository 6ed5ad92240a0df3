"""Scratch folders: where they go, and that they are gone afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_common import scratch
from vigil_common.scratch import scratch_dir, scratch_root


def test_a_configured_folder_wins(tmp_path: Path) -> None:
    assert scratch_root(str(tmp_path), 10**15) == tmp_path


def test_memory_is_used_only_with_room_for_twice_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scratch, "MEMORY_BACKED", tmp_path)  # a folder we can measure
    assert scratch_root(None, 1000) == tmp_path
    assert scratch_root(None, 10**15) is None  # far beyond any free space: the temp folder
    assert scratch_root(None, 0) is None  # size unknown: the temp folder


def test_without_a_memory_backed_folder_the_temp_folder_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scratch, "MEMORY_BACKED", tmp_path / "missing")
    assert scratch_root(None, 1000) is None


async def test_the_folder_and_everything_in_it_is_removed(tmp_path: Path) -> None:
    async with scratch_dir("vigil-test-", tmp_path) as folder:
        (folder / "a" / "b").mkdir(parents=True)
        (folder / "a" / "b" / "f.txt").write_text("x")
        assert folder.parent == tmp_path
    assert list(tmp_path.iterdir()) == []
