"""The scanner runner: success codes, failures with their stderr, timeouts and cancellation."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from vigil_static_scan.scanners.runner import ScannerFailed, run_tool

PY = sys.executable


async def test_an_ok_exit_code_returns_the_output(tmp_path: Path) -> None:
    done = await run_tool(
        [PY, "-c", "print('hi'); raise SystemExit(1)"],
        cwd=tmp_path, ok_exit_codes={0, 1}, limit_seconds=30,
    )  # fmt: skip
    assert (done.exit_code, done.stdout) == (1, b"hi\n")


async def test_another_exit_code_fails_with_the_end_of_stderr(tmp_path: Path) -> None:
    with pytest.raises(ScannerFailed, match=r"exited with code 2: .*config is broken"):
        await run_tool(
            [PY, "-c", "import sys; sys.stderr.write('config is broken\\n'); sys.exit(2)"],
            cwd=tmp_path, ok_exit_codes={0}, limit_seconds=30,
        )  # fmt: skip


async def test_a_missing_binary_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ScannerFailed, match="could not start"):
        await run_tool([str(tmp_path / "nope")], cwd=tmp_path, ok_exit_codes={0}, limit_seconds=5)


async def test_a_tool_past_its_limit_is_killed(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    script = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    with pytest.raises(ScannerFailed, match="ran past its 1 s limit"):
        await run_tool([PY, "-c", script], cwd=tmp_path, ok_exit_codes={0}, limit_seconds=1)
    await asyncio.sleep(3)
    assert not marker.exists()


async def test_cancelling_the_stage_kills_the_tool(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    script = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    task = asyncio.create_task(
        run_tool([PY, "-c", script], cwd=tmp_path, ok_exit_codes={0}, limit_seconds=60)
    )
    await asyncio.sleep(1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(3)
    assert not marker.exists()
