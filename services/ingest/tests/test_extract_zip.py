"""The ZIP extractor refuses hostile archives with a reason and never writes outside its folder."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from vigil_ingest.extract import archive_entries
from vigil_ingest.limits import ArchiveRefused, Limits, safe_name

LIMITS = Limits(max_total_bytes=10_000_000, max_files=50, max_file_bytes=5_000_000, max_ratio=100)


def make_zip(path: Path, entries: dict[str, bytes], *, mode: int | None = None) -> Path:
    """A ZIP of ``entries``; the last entry gets Unix ``mode`` when given."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None and name == list(entries)[-1]:
                info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


def extract(archive: Path, dest: Path, limits: Limits = LIMITS) -> list[str]:
    """The archive's files as ingest reads them, written under ``dest``; their paths."""
    for entry in archive_entries(archive, "zip", limits, limits.max_file_bytes):
        (dest / entry.path).parent.mkdir(parents=True, exist_ok=True)
        (dest / entry.path).write_bytes(entry.data or b"")
    return sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())


def test_extracts_files_and_strips_one_top_folder(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "a.zip",
        {"owner-repo-abc123/app/main.py": b"print(1)\n", "owner-repo-abc123/README.md": b"hi"},
    )
    assert extract(archive, tmp_path / "out") == ["README.md", "app/main.py"]
    assert (tmp_path / "out" / "app" / "main.py").read_bytes() == b"print(1)\n"


def test_keeps_several_top_level_entries(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"a/x.py": b"1", "b.py": b"2"})
    assert extract(archive, tmp_path / "out") == ["a/x.py", "b.py"]


def test_keeps_nested_archives_as_opaque_files(tmp_path: Path) -> None:
    inner = make_zip(tmp_path / "inner.zip", {"../../evil.py": b"x"})
    archive = make_zip(tmp_path / "a.zip", {"lib/inner.zip": inner.read_bytes(), "a.py": b""})
    assert extract(archive, tmp_path / "out") == ["a.py", "lib/inner.zip"]


@pytest.mark.parametrize(
    ("entries", "mode", "reason"),
    [
        ({"../escape.py": b"x"}, None, "outside the archive"),
        ({"a/../../escape.py": b"x"}, None, "outside the archive"),
        ({"..\\..\\escape.py": b"x"}, None, "outside the archive"),
        ({"/etc/passwd": b"x"}, None, "absolute path"),
        ({"C:/Windows/evil.dll": b"x"}, None, "absolute path"),
        ({"c:\\evil.dll": b"x"}, None, "absolute path"),
        ({"ok.py": b"y", "link": b"/etc/passwd"}, stat.S_IFLNK | 0o777, "symbolic link"),
        ({"ok.py": b"y", "dev": b""}, stat.S_IFCHR | 0o666, "not a regular file"),
        ({"ok.py": b"y", "fifo": b""}, stat.S_IFIFO | 0o666, "not a regular file"),
        ({"src/App.py": b"1", "src/app.py": b"2"}, None, "collide"),
        ({"caf\u00e9.py": b"1", "cafe\u0301.py": b"2"}, None, "collide"),
        ({"a": b"file", "a/b.py": b"2"}, None, "collide"),
        ({"a/b.py": b"2", "A": b"file"}, None, "collide"),
        ({"bad\x01name.py": b"1"}, None, "control characters"),
        ({"x" * 300 + ".py": b"1"}, None, "longer than 255 bytes"),
    ],
)
def test_refuses_hostile_entries(
    tmp_path: Path, entries: dict[str, bytes], mode: int | None, reason: str
) -> None:
    archive = make_zip(tmp_path / "a.zip", entries, mode=mode)
    with pytest.raises(ArchiveRefused, match=reason):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()
    assert not list((tmp_path / "out").rglob("*"))  # refused before anything is written


def test_refuses_an_empty_entry_name(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"": b"x"})
    with pytest.raises(ArchiveRefused, match="empty name"):
        extract(archive, tmp_path / "out")


def test_refuses_names_flagged_utf8_that_are_not(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"caf\u00e9.py": b"x"})  # stored as UTF-8, flagged
    data = archive.read_bytes().replace("caf\u00e9".encode(), b"caf\xff\xfe")
    archive.write_bytes(data)
    with pytest.raises(ArchiveRefused, match="not valid UTF-8"):
        extract(archive, tmp_path / "out")


def test_refuses_duplicate_names(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        zf.writestr("same.py", b"1")
        zf.writestr("same.py", b"2")
    with pytest.raises(ArchiveRefused, match="collide"):
        extract(archive, tmp_path / "out")


def test_refuses_encrypted_entries(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"secret.py": b"x"})
    data = bytearray(archive.read_bytes())
    # Set the "encrypted" flag (bit 0 of the general-purpose flags) in both headers.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(signature) + offset
        data[at] |= 0x1
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveRefused, match="encrypted"):
        extract(archive, tmp_path / "out")


def test_refuses_a_zip_bomb_by_ratio(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"zeros.txt": b"\0" * 4_000_000})
    with pytest.raises(ArchiveRefused, match="expands"):
        extract(archive, tmp_path / "out")


def test_refuses_an_oversized_entry(tmp_path: Path) -> None:
    small = Limits(max_total_bytes=10_000, max_files=50, max_file_bytes=100, max_ratio=100)
    archive = make_zip(tmp_path / "a.zip", {"big.txt": b"a" * 101})
    with pytest.raises(ArchiveRefused, match="larger than 100 bytes"):
        extract(archive, tmp_path / "out", small)


def test_refuses_too_many_files(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {f"f{i}.py": b"x" for i in range(51)})
    with pytest.raises(ArchiveRefused, match="more than 50 files"):
        extract(archive, tmp_path / "out")


def test_counts_real_bytes_not_the_headers(tmp_path: Path) -> None:
    small = Limits(max_total_bytes=1000, max_files=50, max_file_bytes=5000, max_ratio=100)
    archive = make_zip(tmp_path / "a.zip", {"a.txt": b"a" * 600, "b.txt": b"b" * 600})
    with pytest.raises(ArchiveRefused, match="expands past 1000 bytes"):
        extract(archive, tmp_path / "out", small)


def test_refuses_a_header_that_lies_about_the_size(tmp_path: Path) -> None:
    small = Limits(max_total_bytes=10_000, max_files=50, max_file_bytes=100, max_ratio=100)
    archive = make_zip(tmp_path / "a.zip", {"liar.txt": b"a" * 500})
    data = bytearray(archive.read_bytes())
    # Claim 10 bytes uncompressed in the central directory (offset 24 from its signature).
    at = data.index(b"PK\x01\x02") + 24
    data[at : at + 4] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(ArchiveRefused):
        extract(archive, tmp_path / "out", small)
    assert not (tmp_path / "out" / "liar.txt").exists() or (
        (tmp_path / "out" / "liar.txt").stat().st_size <= 100
    )


def test_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(b"PK\x03\x04 but then garbage")
    with pytest.raises(ArchiveRefused, match="not a valid zip"):
        extract(archive, tmp_path / "out")


def test_refuses_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ArchiveRefused, match="not supported"):
        list(archive_entries(tmp_path / "a.rar", "rar", LIMITS, LIMITS.max_file_bytes))


def test_safe_name_normalises_harmless_forms() -> None:
    assert safe_name("./a//b/./c.py") == "a/b/c.py"
    assert safe_name("dir\\file.py") == "dir/file.py"


def test_empty_archive_gives_an_empty_tree(tmp_path: Path) -> None:
    archive = tmp_path / "empty.zip"
    zipfile.ZipFile(archive, "w").close()
    assert extract(archive, tmp_path / "out") == []
