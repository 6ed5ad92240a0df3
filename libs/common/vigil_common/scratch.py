"""Scratch folders for one message's work, removed without blocking the event loop."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


@asynccontextmanager
async def scratch_dir(prefix: str) -> AsyncIterator[Path]:
    """A fresh temporary folder, removed in a thread on exit.

    A stage publishes its result inside the block, so the next stage starts while this one
    still deletes (removing a 20,000-file tree takes about a second).
    """
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=prefix))
    try:
        yield folder
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
