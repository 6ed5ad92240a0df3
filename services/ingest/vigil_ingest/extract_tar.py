"""Safe reading of a tarball (plain, gzip, bzip2 or xz), never with ``tarfile.extractall``.

Only regular files and folders are accepted. Links are refused entirely, symbolic and hard,
in-tree or not: a source tree needs none, and allowing "safe" ones is where extractors go
wrong. Devices, FIFOs and sparse or unknown member types are refused too. Names get the same
checks as ZIP entries. The whole archive may expand at most ``max_ratio`` times its own size
(past a 1 MiB floor), since tar has no per-entry compressed size to judge.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal

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

TarMode = Literal["r:", "r:gz", "r:bz2", "r:xz"]
MODES: Final[dict[str, TarMode]] = {
    "tar": "r:",
    "tar.gz": "r:gz",
    "tar.bz2": "r:bz2",
    "tar.xz": "r:xz",
}


def tar_entries(
    archive: Path, limits: Limits, archive_format: str, keep_bytes: int, first: str = ""
) -> Iterator[ArchiveEntry]:
    """The files of ``archive`` (``first``, a tree path, before the rest), read in memory.

    Headers are all read first (one pass), then the files in archive order, so only moving
    ``first`` to the front costs a seek back.
    """
    with tarfile.open(archive, MODES[archive_format]) as tar:
        plan = _plan(tar, limits)
        strip = common_top_folder([name for _, name in plan])
        paths = [strip_parts(name, strip) for _, name in plan]
        budget = _budget(archive.stat().st_size, limits)
        for index in ignore_file_first(paths, first):
            member, name = plan[index]
            source = tar.extractfile(member)
            if source is None:  # a regular member always has data; guard the Optional
                raise ArchiveRefused(f"entry {name!r} has no data")
            with source:
                size, data = read_counted(source, name, limits, budget, keep_bytes)
            yield ArchiveEntry(paths[index], size, data)


def _plan(tar: tarfile.TarFile, limits: Limits) -> list[tuple[tarfile.TarInfo, str]]:
    """Read every header (stopping past the file limit) and check the entries."""
    members: list[tarfile.TarInfo] = []
    for count, member in enumerate(tar, start=1):
        # tarfile keeps every header in memory: bound folders too, not only files.
        if count > 2 * limits.max_files:
            raise ArchiveRefused(f"the archive holds more than {2 * limits.max_files} entries")
        if member.isdir():
            continue
        _check_member(member, limits)
        members.append(member)
        if len(members) > limits.max_files:
            raise ArchiveRefused(f"the archive holds more than {limits.max_files} files")
    names = [safe_name(member.name) for member in members]
    refuse_collisions(names)
    return list(zip(members, names, strict=True))


def _check_member(member: tarfile.TarInfo, limits: Limits) -> None:
    name = safe_name(member.name)
    if member.issym() or member.islnk():
        raise ArchiveRefused(f"entry {name!r} is a link; links are not accepted in tarballs")
    if member.ischr() or member.isblk() or member.isfifo():
        raise ArchiveRefused(f"entry {name!r} is a device file or FIFO")
    if not member.isreg() or member.issparse():
        raise ArchiveRefused(f"entry {name!r} is not a regular file")
    check_declared_size(name, member.size, limits)


def _budget(archive_bytes: int, limits: Limits) -> Budget:
    by_ratio = max(archive_bytes * limits.max_ratio, RATIO_FLOOR_BYTES)
    if by_ratio < limits.max_total_bytes:
        return Budget(
            by_ratio,
            f"the archive expands more than {limits.max_ratio}-fold: a decompression bomb?",
        )
    return Budget(
        limits.max_total_bytes, f"the archive expands past {limits.max_total_bytes} bytes"
    )
