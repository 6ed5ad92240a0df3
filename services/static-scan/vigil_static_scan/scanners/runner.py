"""Runs a scanner CLI as a subprocess with a timeout, and judges its exit code."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vigil_common.errors import VigilError

log = logging.getLogger(__name__)


class ScannerFailed(VigilError):
    """A scanner could not run or exited with a code that means failure."""

    def __init__(self, reason: str, exit_code: int | None = None) -> None:
        super().__init__(reason)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Completed:
    """A scanner run that exited with one of its success codes."""

    exit_code: int
    stdout: bytes
    stderr: bytes


async def run_tool(
    argv: Sequence[str],
    *,
    cwd: Path,
    ok_exit_codes: Collection[int],
    limit_seconds: float,
    env: Mapping[str, str] | None = None,
) -> Completed:
    """Run ``argv`` in ``cwd``; kill it past ``limit_seconds``; raise unless it exits ok."""
    name = Path(argv[0]).name
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
    except OSError as exc:
        raise ScannerFailed(f"{name} could not start: {exc.strerror}") from exc
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), limit_seconds)
    except TimeoutError:
        await _kill(proc)
        raise ScannerFailed(f"{name} ran past its {limit_seconds:.0f} s limit") from None
    except asyncio.CancelledError:  # the stage timed out or the worker is stopping
        await _kill(proc)
        raise
    if proc.returncode not in ok_exit_codes:
        tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise ScannerFailed(
            f"{name} exited with code {proc.returncode}: {' / '.join(tail)}", proc.returncode
        )
    return Completed(proc.returncode or 0, stdout, stderr)


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.kill()
        await proc.wait()
