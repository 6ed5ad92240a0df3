"""Scratch folders for one message's work, removed without blocking the event loop.

Where they go: ``VIGIL_SCRATCH_DIR`` when set; otherwise memory-backed ``/dev/shm`` when the
work's size is known and it has room for twice that; otherwise the system's temp folder.
Static-scan writes every file of a tree for the scanners to read, and on a busy or
network-backed disk creating 20,000 small files took 8-16 s where tmpfs takes 1.3 s
(docs/decisions.md); twice the size keeps a large tree from filling the memory.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

# mkdtemp makes a private (0700), unpredictably named folder in it: no shared-/tmp race.
MEMORY_BACKED: Final = Path("/dev/shm")  # noqa: S108


def scratch_root(configured: str | None, needed_bytes: int) -> Path | None:
    """The folder to make scratch folders in (None: the system's temp folder)."""
    if configured:
        return Path(configured)
    if needed_bytes <= 0 or not os.access(MEMORY_BACKED, os.W_OK | os.X_OK):
        return None
    try:
        stats = os.statvfs(MEMORY_BACKED)
    except OSError:
        return None
    free = stats.f_bavail * stats.f_frsize
    return MEMORY_BACKED if free >= 2 * needed_bytes else None


@asynccontextmanager
async def scratch_dir(prefix: str, root: Path | None = None) -> AsyncIterator[Path]:
    """A fresh temporary folder (under ``root`` when given), removed in a thread on exit.

    A stage publishes its result inside the block, so the next stage starts while this one
    still deletes (removing a 20,000-file tree takes about a second).
    """
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=prefix, dir=root))
    try:
        yield folder
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
