"""What every archive extractor checks: entry names, collisions, sizes and expansion.

The extractors (``extract_zip``, ``extract_tar``) read untrusted archives. They share these
checks so that a ZIP and a tarball are refused for the same reasons, in the same words.
Sizes are counted while decompressing, never taken from the archive's own headers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Final

_CHUNK: Final = 1024 * 1024
_DRIVE: Final = re.compile(r"^[A-Za-z]:")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
# Small files compress far better than any real source can; only judge the ratio past this.
RATIO_FLOOR_BYTES: Final = 1024 * 1024


class ArchiveRefused(Exception):
    """The archive is malformed or hostile; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """Bounds on what one archive may unpack to."""

    max_total_bytes: int
    max_files: int
    max_file_bytes: int
    max_ratio: int


class Budget:
    """The bytes an archive may still expand to; refuses with ``reason`` once overspent."""

    def __init__(self, capacity: int, reason: str) -> None:
        self.remaining = capacity
        self.reason = reason

    def spend(self, size: int) -> None:
        """Count ``size`` more bytes written."""
        self.remaining -= size
        if self.remaining < 0:
            raise ArchiveRefused(self.reason)


def safe_name(raw: str) -> str:
    """The entry's path as relative POSIX parts, or a refusal saying what is wrong with it."""
    if "\x00" in raw or _CONTROL.search(raw):
        raise ArchiveRefused(f"entry name {raw!r} contains control characters")
    if any("\ud800" <= char <= "\udfff" for char in raw):
        raise ArchiveRefused(f"entry name {raw!r} is not valid UTF-8")
    name = raw.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise ArchiveRefused(f"entry {raw!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveRefused(f"entry {raw!r} points outside the archive ('..')")
    if not parts:
        raise ArchiveRefused(f"entry {raw!r} has an empty name")
    if any(len(part.encode()) > 255 for part in parts):
        raise ArchiveRefused(f"entry {raw!r} has a name part longer than 255 bytes")
    return "/".join(parts)


def refuse_collisions(names: list[str]) -> None:
    """Refuse duplicate names, names equal but for case or Unicode form, and file/folder clashes.

    Folding case and Unicode form (NFC) means the tree unpacks the same on macOS and Windows.
    """
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    for name in names:
        folded = unicodedata.normalize("NFC", name).casefold()
        clash = files.get(folded) or folders.get(folded)
        if clash is not None:
            raise ArchiveRefused(f"entries {clash!r} and {name!r} collide")
        files[folded] = name
        for parent in PurePosixPath(folded).parents[:-1]:
            folders.setdefault(str(parent), name)
    for folder, name in folders.items():
        if folder in files:
            raise ArchiveRefused(f"entries {files[folder]!r} and {name!r} collide")


def common_top_folder(names: list[str]) -> int:
    """1 when every entry sits under one shared top-level folder, else 0."""
    tops = {PurePosixPath(name).parts[0] for name in names}
    nested = all(len(PurePosixPath(name).parts) > 1 for name in names)
    return 1 if len(tops) == 1 and nested else 0


def strip_parts(name: str, strip: int) -> str:
    """``name`` without its first ``strip`` folders."""
    return "/".join(PurePosixPath(name).parts[strip:])


def check_declared_size(name: str, size: int, limits: Limits) -> None:
    """Refuse an entry whose header already admits it is too large."""
    if size > limits.max_file_bytes:
        raise ArchiveRefused(f"entry {name!r} is larger than {limits.max_file_bytes} bytes")


def copy_counted(
    source: IO[bytes], sink: IO[bytes], name: str, limits: Limits, budget: Budget
) -> int:
    """Copy one entry, counting the real bytes against the per-file limit and the budget."""
    size = 0
    while chunk := source.read(_CHUNK):
        size += len(chunk)
        if size > limits.max_file_bytes:
            raise ArchiveRefused(f"entry {name!r} is larger than {limits.max_file_bytes} bytes")
        budget.spend(len(chunk))
        sink.write(chunk)
    return size
