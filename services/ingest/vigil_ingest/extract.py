"""Safe extraction of an uploaded ZIP archive into a normalised tree, with its manifest.

Archives are untrusted. Nothing is written outside the destination: absolute paths, drive
letters and ``..`` are refused, as are symlinks, encrypted entries, duplicate or case-colliding
names and anything past the size, count or compression-ratio limits. Sizes are counted while
decompressing, never taken from the archive's own headers. A single top-level folder (GitHub's
``owner-repo-sha/``) is stripped.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Final

from vigil_common.schemas import ManifestFile, TreeManifest
from vigil_ingest.languages import language_of

_CHUNK: Final = 1024 * 1024
_DRIVE: Final = re.compile(r"^[A-Za-z]:")
# Small files compress far better than any real source can; only judge the ratio past this.
_RATIO_FLOOR_BYTES: Final = 1024 * 1024


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


def extract_zip(archive: Path, dest: Path, limits: Limits) -> TreeManifest:
    """Extract ``archive`` into ``dest`` and describe what was written."""
    try:
        with zipfile.ZipFile(archive) as zf:
            return _extract_members(zf, dest, limits)
    except zipfile.BadZipFile as exc:
        raise ArchiveRefused(f"the upload is not a valid ZIP archive ({exc})") from None


def _extract_members(zf: zipfile.ZipFile, dest: Path, limits: Limits) -> TreeManifest:
    members = [info for info in zf.infolist() if not info.is_dir()]
    if len(members) > limits.max_files:
        raise ArchiveRefused(f"the archive holds more than {limits.max_files} files")
    names = [safe_name(info.filename) for info in members]
    _refuse_collisions(names)
    strip = _common_top_folder(names)
    files, total = [], 0
    for info, name in zip(members, names, strict=True):
        _check_entry(info, name, limits)
        relative = "/".join(PurePosixPath(name).parts[strip:])
        size, digest = _copy_member(zf, info, dest / relative, limits, total)
        total += size
        files.append(ManifestFile(relative, size, digest, language_of(relative)))
    languages = Counter(f.language for f in files if f.language)
    return TreeManifest(
        files=files, total_files=len(files), total_bytes=total, languages=dict(languages)
    )


def safe_name(raw: str) -> str:
    """The entry's path as relative POSIX parts, or a refusal saying what is wrong with it."""
    if "\x00" in raw:
        raise ArchiveRefused(f"entry name {raw!r} contains a NUL byte")
    name = raw.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise ArchiveRefused(f"entry {raw!r} has an absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveRefused(f"entry {raw!r} points outside the archive ('..')")
    if not parts:
        raise ArchiveRefused(f"entry {raw!r} has an empty name")
    return "/".join(parts)


def _refuse_collisions(names: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in names:
        folded = name.casefold()
        if folded in seen:
            raise ArchiveRefused(f"entries {seen[folded]!r} and {name!r} collide")
        seen[folded] = name


def _common_top_folder(names: list[str]) -> int:
    """1 when every entry sits under one shared top-level folder, else 0."""
    tops = {PurePosixPath(name).parts[0] for name in names}
    nested = all(len(PurePosixPath(name).parts) > 1 for name in names)
    return 1 if len(tops) == 1 and nested else 0


def _check_entry(info: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveRefused(f"entry {name!r} is a symbolic link; links are not accepted")
    if mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
        raise ArchiveRefused(f"entry {name!r} is not a regular file")
    if info.flag_bits & 0x1:
        raise ArchiveRefused(f"entry {name!r} is encrypted; upload an unencrypted archive")
    if info.file_size > limits.max_file_bytes:
        raise ArchiveRefused(f"entry {name!r} is larger than {limits.max_file_bytes} bytes")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
        raise ArchiveRefused(
            f"entry {name!r} expands {ratio:.0f}-fold (limit {limits.max_ratio}): a zip bomb?"
        )


def _copy_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: Limits, written: int
) -> tuple[int, str]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as source, target.open("xb") as sink:
        return _copy_counted(source, sink, info.filename, limits, written)


def _copy_counted(
    source: IO[bytes], sink: IO[bytes], name: str, limits: Limits, written: int
) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(_CHUNK):
        size += len(chunk)
        if size > limits.max_file_bytes:
            raise ArchiveRefused(f"entry {name!r} is larger than {limits.max_file_bytes} bytes")
        if written + size > limits.max_total_bytes:
            raise ArchiveRefused(f"the archive expands past {limits.max_total_bytes} bytes")
        digest.update(chunk)
        sink.write(chunk)
    return size, digest.hexdigest()
