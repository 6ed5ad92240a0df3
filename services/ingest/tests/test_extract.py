"""The extractor refuses hostile archives with a reason and never writes outside its folder."""

import io
import stat
import zipfile
from pathlib import Path

import pytest

from vigil_ingest.extract import ArchiveRefused, Limits, extract_zip, safe_name

LIMITS = Limits(max_total_bytes=10_000_000, max_files=50, max_file_bytes=5_000_000, max_ratio=100)


def make_zip(path: Path, entries: dict[str, bytes], *, link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo("evil-link")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, link)
    return path


def test_extracts_files_and_strips_one_top_folder(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "a.zip",
        {"owner-repo-abc123/app/main.py": b"print(1)\n", "owner-repo-abc123/README.md": b"hi"},
    )
    manifest = extract_zip(archive, tmp_path / "out", LIMITS)
    assert sorted(f.path for f in manifest.files) == ["README.md", "app/main.py"]
    assert (tmp_path / "out" / "app" / "main.py").read_bytes() == b"print(1)\n"
    assert manifest.total_files == 2
    assert manifest.total_bytes == 11
    assert manifest.languages == {"python": 1}


def test_keeps_several_top_level_entries(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"a/x.py": b"1", "b.py": b"2"})
    manifest = extract_zip(archive, tmp_path / "out", LIMITS)
    assert sorted(f.path for f in manifest.files) == ["a/x.py", "b.py"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../escape.py", "outside the archive"),
        ("a/../../escape.py", "outside the archive"),
        ("/etc/passwd", "absolute path"),
        ("C:/Windows/evil.dll", "absolute path"),
        ("..\\..\\evil.py", "outside the archive"),
    ],
)
def test_refuses_escaping_names(tmp_path: Path, name: str, reason: str) -> None:
    archive = make_zip(tmp_path / "a.zip", {name: b"x", "ok.py": b"y"})
    with pytest.raises(ArchiveRefused, match=reason):
        extract_zip(archive, tmp_path / "out", LIMITS)
    assert not (tmp_path / "escape.py").exists()


def test_refuses_symlinks(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"ok.py": b"y"}, link="/etc/passwd")
    with pytest.raises(ArchiveRefused, match="symbolic link"):
        extract_zip(archive, tmp_path / "out", LIMITS)


def test_refuses_case_colliding_names(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"src/App.py": b"1", "src/app.py": b"2"})
    with pytest.raises(ArchiveRefused, match="collide"):
        extract_zip(archive, tmp_path / "out", LIMITS)


def test_refuses_a_zip_bomb_by_ratio(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {"zeros.txt": b"\0" * 4_000_000})
    with pytest.raises(ArchiveRefused, match="expands"):
        extract_zip(archive, tmp_path / "out", LIMITS)


def test_refuses_too_many_files(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", {f"f{i}.py": b"x" for i in range(51)})
    with pytest.raises(ArchiveRefused, match="more than 50 files"):
        extract_zip(archive, tmp_path / "out", LIMITS)


def test_counts_real_bytes_not_the_headers(tmp_path: Path) -> None:
    small = Limits(max_total_bytes=1000, max_files=50, max_file_bytes=5000, max_ratio=100)
    archive = make_zip(tmp_path / "a.zip", {"a.txt": b"a" * 600, "b.txt": b"b" * 600})
    with pytest.raises(ArchiveRefused, match="expands past 1000 bytes"):
        extract_zip(archive, tmp_path / "out", small)


def test_refuses_what_is_not_a_zip(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    archive.write_bytes(b"PK\x03\x04 but then garbage")
    with pytest.raises(ArchiveRefused, match="not a valid ZIP"):
        extract_zip(archive, tmp_path / "out", LIMITS)


def test_safe_name_normalises_harmless_forms() -> None:
    assert safe_name("./a//b/./c.py") == "a/b/c.py"
    assert safe_name("dir\\file.py") == "dir/file.py"


def test_empty_archive_gives_an_empty_tree(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    archive = tmp_path / "empty.zip"
    archive.write_bytes(buffer.getvalue())
    manifest = extract_zip(archive, tmp_path / "out", LIMITS)
    assert manifest.files == []
    assert manifest.total_files == 0
