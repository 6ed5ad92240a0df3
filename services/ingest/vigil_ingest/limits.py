"""What every archive extractor checks: entry names, collisions, sizes and expansion.

The extractors (``extract_zip``, ``extract_tar``) read untrusted archives. They share these
checks so that a ZIP and a tarball are refused for the same reasons, in the same words.
Sizes are counted while decompressing, never taken from the archive's own headers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Final

_CHUNK: Final = 1024 * 1024
_DRIVE: Final = re.compile(r"^[A-Za-z]:")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")  # undecodable bytes, escaped
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
    if _SURROGATE.search(raw):
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
        for end in _folder_ends(folded):
            folders.setdefault(folded[:end], name)
    for folder, name in folders.items():
        if folder in files:
            raise ArchiveRefused(f"entries {files[folder]!r} and {name!r} collide")


def _folder_ends(name: str) -> Iterator[int]:
    """Where each enclosing folder's path ends in ``name`` (``a/b/c`` gives ``a``, ``a/b``)."""
    end = name.find("/")
    while end >= 0:
        yield end
        end = name.find("/", end + 1)


def common_top_folder(names: list[str]) -> int:
    """1 when every entry sits under one shared top-level folder, else 0."""
    tops = {name.split("/", 1)[0] for name in names}
    nested = all("/" in name for name in names)
    return 1 if len(tops) == 1 and nested else 0


def strip_parts(name: str, strip: int) -> str:
    """``name`` (a ``safe_name``) without its first ``strip`` folders."""
    return name.split("/", strip)[-1] if strip else name


def check_declared_size(name: str, size: int, limits: Limits) -> None:
    """Refuse an entry whose header already admits it is too large."""
    if size > limits.max_file_bytes:
        raise ArchiveRefused(f"entry {name!r} is larger than {limits.max_file_bytes} bytes")


@dataclass(frozen=True)
class ArchiveEntry:
    """One regular file of an archive, read: its tree-relative path, real size and bytes.

    ``data`` is None for a file larger than the caller asked to keep: it was counted against
    the limits, and is then skipped as too large for the tree.
    """

    path: str
    size: int
    data: bytes | None


def read_counted(
    source: IO[bytes], name: str, limits: Limits, budget: Budget, keep_bytes: int
) -> tuple[int, bytes | None]:
    """Read one entry, counting the real bytes against the per-file limit and the budget.

    At most ``keep_bytes`` are held in memory; the size and the bytes (None past that).
    """
    size, chunks = 0, []
    while chunk := source.read(_CHUNK):
        size += len(chunk)
        if size > limits.max_file_bytes:
            raise ArchiveRefused(f"entry {name!r} is larger than {limits.max_file_bytes} bytes")
        budget.spend(len(chunk))
        if size <= keep_bytes:
            chunks.append(chunk)
    return size, (b"".join(chunks) if size <= keep_bytes else None)


def ignore_file_first(names: list[str], first: str) -> list[int]:
    """The order to read entries in: ``first`` (the tree's ``.vigilignore``) before the rest,
    so whether each later file is kept is known when it is read."""
    order = list(range(len(names)))
    return sorted(order, key=lambda i: names[i] != first)
