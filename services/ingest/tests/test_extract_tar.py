"""The tar extractor (plain, gz, bz2, xz) refuses links, devices, escapes and bombs."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from vigil_ingest.extract import archive_entries
from vigil_ingest.limits import ArchiveRefused, Limits

LIMITS = Limits(max_total_bytes=10_000_000, max_files=50, max_file_bytes=5_000_000, max_ratio=100)
COMPRESSION = {"tar": "w:", "tar.gz": "w:gz", "tar.bz2": "w:bz2", "tar.xz": "w:xz"}


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = "") -> tuple:
    return name, data, kind, link


def make_tar(path: Path, members: list[tuple], fmt: str = "tar.gz") -> Path:
    with tarfile.open(path, COMPRESSION[fmt]) as tar:  # type: ignore[call-overload]
        for name, data, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.linkname = link
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    return path


def extract(archive: Path, dest: Path, fmt: str = "tar.gz", limits: Limits = LIMITS) -> list[str]:
    """The archive's files as ingest reads them, written under ``dest``; their paths."""
    for entry in archive_entries(archive, fmt, limits, limits.max_file_bytes):
        (dest / entry.path).parent.mkdir(parents=True, exist_ok=True)
        (dest / entry.path).write_bytes(entry.data or b"")
    return sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())


@pytest.mark.parametrize("fmt", sorted(COMPRESSION))
def test_extracts_every_compression_and_strips_the_top_folder(tmp_path: Path, fmt: str) -> None:
    archive = make_tar(
        tmp_path / "a",
        [member("repo-1.0/src/m.py", b"x = 1\n"), member("repo-1.0/README", b"r")],
        fmt,
    )
    assert extract(archive, tmp_path / "out", fmt) == ["README", "src/m.py"]
    assert (tmp_path / "out" / "src" / "m.py").read_bytes() == b"x = 1\n"


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ([member("../escape.py", b"x")], "outside the archive"),
        ([member("/etc/cron.d/evil", b"x")], "absolute path"),
        ([member("C:\\evil.bat", b"x")], "absolute path"),
        ([member("ok.py", b"1"), member("l", kind=tarfile.SYMTYPE, link="/etc/passwd")], "link"),
        ([member("ok.py", b"1"), member("l", kind=tarfile.SYMTYPE, link="ok.py")], "link"),
        ([member("ok.py", b"1"), member("h", kind=tarfile.LNKTYPE, link="ok.py")], "link"),
        ([member("h", kind=tarfile.LNKTYPE, link="../../etc/passwd")], "link"),
        ([member("dev", kind=tarfile.CHRTYPE)], "device file or FIFO"),
        ([member("blk", kind=tarfile.BLKTYPE)], "device file or FIFO"),
        ([member("fifo", kind=tarfile.FIFOTYPE)], "device file or FIFO"),
        ([member("a.py", b"1"), member("A.py", b"2")], "collide"),
        ([member("a.py", b"1"), member("./a.py", b"2")], "collide"),
        ([member("x", b"1"), member("x/y.py", b"2")], "collide"),
    ],
)
def test_refuses_hostile_members(tmp_path: Path, members: list[tuple], reason: str) -> None:
    archive = make_tar(tmp_path / "a.tgz", members)
    with pytest.raises(ArchiveRefused, match=reason):
        extract(archive, tmp_path / "out")
    assert not list((tmp_path / "out").rglob("*"))
    assert not (tmp_path / "escape.py").exists()


def test_refuses_names_that_are_not_utf8(tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        info = tarfile.TarInfo("caf\xe9.py")  # written as the Latin-1 byte 0xE9
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(ArchiveRefused, match="not valid UTF-8"):
        extract(archive, tmp_path / "out", "tar")


def test_refuses_a_decompression_bomb(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "a.tgz", [member("zeros", b"\0" * 4_000_000)])
    with pytest.raises(ArchiveRefused, match="more than 100-fold"):
        extract(archive, tmp_path / "out")


def test_refuses_past_the_total_size(tmp_path: Path) -> None:
    small = Limits(max_total_bytes=1000, max_files=50, max_file_bytes=5000, max_ratio=100)
    archive = make_tar(
        tmp_path / "a.tar", [member("a", b"a" * 600), member("b", b"b" * 600)], "tar"
    )
    with pytest.raises(ArchiveRefused, match="expands past 1000 bytes"):
        extract(archive, tmp_path / "out", "tar", small)


def test_refuses_an_oversized_member(tmp_path: Path) -> None:
    small = Limits(max_total_bytes=10_000, max_files=50, max_file_bytes=100, max_ratio=100)
    archive = make_tar(tmp_path / "a.tar", [member("big", b"a" * 101)], "tar")
    with pytest.raises(ArchiveRefused, match="larger than 100 bytes"):
        extract(archive, tmp_path / "out", "tar", small)


def test_refuses_too_many_files(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "a.tgz", [member(f"f{i}", b"") for i in range(51)])
    with pytest.raises(ArchiveRefused, match="more than 50 files"):
        extract(archive, tmp_path / "out")


def test_bounds_folder_entries_too(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "a.tgz", [member(f"d{i}", kind=tarfile.DIRTYPE) for i in range(101)]
    )
    with pytest.raises(ArchiveRefused, match="more than 100 entries"):
        extract(archive, tmp_path / "out")


@pytest.mark.parametrize("fmt", ["tar", "tar.gz", "tar.bz2", "tar.xz"])
def test_refuses_garbage(tmp_path: Path, fmt: str) -> None:
    archive = tmp_path / "a"
    archive.write_bytes(b"\x1f\x8b\x08 this is not a tarball at all" * 20)
    with pytest.raises(ArchiveRefused, match=r"not a valid|could not be read"):
        extract(archive, tmp_path / "out", fmt)


def test_keeps_nested_archives_unopened(tmp_path: Path) -> None:
    inner = make_tar(tmp_path / "inner.tgz", [member("../../evil", b"x")])
    archive = make_tar(
        tmp_path / "a.tgz", [member("vendor.tgz", inner.read_bytes()), member("m.py", b"")]
    )
    assert extract(archive, tmp_path / "out") == ["m.py", "vendor.tgz"]
