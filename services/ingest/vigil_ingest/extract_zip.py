"""Safe reading of a ZIP archive: every entry checked before a byte is decompressed.

Refused: absolute paths, drive letters and ``..``; symbolic links, devices and other
non-regular entries; encrypted entries; duplicate or colliding names; entries past the size,
count or compression-ratio limits. Nested archives are written as opaque files, never opened.
"""

from __future__ import annotations

import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from vigil_ingest.limits import (
    RATIO_FLOOR_BYTES,
    ArchiveEntry,
    ArchiveRefused,
    Budget,
    Limits,
    check_declared_size,
    common_top_folder,
    ignore_file_first,
    read_counted,
    refuse_collisions,
    safe_name,
    strip_parts,
)

_ENCRYPTED_FLAG: Final = 0x1


def zip_entries(
    archive: Path, limits: Limits, keep_bytes: int, first: str = ""
) -> Iterator[ArchiveEntry]:
    """The files of ``archive`` (``first``, a tree path, before the rest), read in memory."""
    with zipfile.ZipFile(archive) as zf:
        plan = _plan(zf, limits)
        strip = common_top_folder([name for _, name in plan])
        paths = [strip_parts(name, strip) for _, name in plan]
        budget = Budget(
            limits.max_total_bytes, f"the archive expands past {limits.max_total_bytes} bytes"
        )
        for index in ignore_file_first(paths, first):
            info, name = plan[index]
            with zf.open(info) as source:
                size, data = read_counted(source, name, limits, budget, keep_bytes)
            _check_ratio(name, size, info.compress_size, limits)
            yield ArchiveEntry(paths[index], size, data)


def _plan(zf: zipfile.ZipFile, limits: Limits) -> list[tuple[zipfile.ZipInfo, str]]:
    """The file entries with their safe names, once every entry has passed its checks."""
    # Not ``ZipInfo.is_dir()``: it raises IndexError on an empty name (found by fuzzing).
    members = [info for info in zf.infolist() if not info.filename.endswith("/")]
    if len(members) > limits.max_files:
        raise ArchiveRefused(f"the archive holds more than {limits.max_files} files")
    names = [safe_name(info.filename) for info in members]
    refuse_collisions(names)
    for info, name in zip(members, names, strict=True):
        _check_entry(info, name, limits)
    return list(zip(members, names, strict=True))


def _check_entry(info: zipfile.ZipInfo, name: str, limits: Limits) -> None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveRefused(f"entry {name!r} is a symbolic link; links are not accepted")
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        raise ArchiveRefused(f"entry {name!r} is not a regular file")
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise ArchiveRefused(f"entry {name!r} is encrypted; upload an unencrypted archive")
    check_declared_size(name, info.file_size, limits)
    _check_ratio(name, info.file_size, info.compress_size, limits)


def _check_ratio(name: str, size: int, compressed: int, limits: Limits) -> None:
    """Judged twice: on the header's sizes, then on the bytes really written."""
    ratio = size / max(compressed, 1)
    if size > RATIO_FLOOR_BYTES and ratio > limits.max_ratio:
        raise ArchiveRefused(
            f"entry {name!r} expands {ratio:.0f}-fold (limit {limits.max_ratio}): a zip bomb?"
        )
