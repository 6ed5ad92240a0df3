"""The packed tree format: round trips, reading a few files, and hostile or damaged streams."""

from __future__ import annotations

import gzip
import struct
import tarfile
from pathlib import Path

import pytest

from vigil_common.schemas import ManifestFile, TreeManifest
from vigil_common.trees import MAGIC, TreeError, TreeWriter, pack_tree, read_files, unpack_tree


def packed(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "src"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    manifest = TreeManifest(
        files=[ManifestFile(path=name, size=len(text), sha256="") for name, text in files.items()],
        total_files=len(files),
        total_bytes=sum(len(text) for text in files.values()),
    )
    pack_tree(root, manifest, tmp_path / "tree.packed")
    return tmp_path / "tree.packed"


def test_read_files_returns_only_the_named_files_as_unpacking_would(tmp_path: Path) -> None:
    files = {"app/a.py": "a = 1\n", "app/b.py": "b = 2\r\n", "c.txt": "c"}
    archive = packed(tmp_path, files)
    found = read_files(archive, {"app/b.py", "c.txt", "missing.py"})
    assert found == {"app/b.py": b"b = 2\r\n", "c.txt": b"c"}
    unpack_tree(archive, tmp_path / "out")
    assert (tmp_path / "out" / "app" / "b.py").read_bytes() == found["app/b.py"]


def test_read_files_of_nothing_is_empty(tmp_path: Path) -> None:
    assert read_files(packed(tmp_path, {"a.py": "x"}), set()) == {}


def test_a_tree_unpacks_to_the_same_bytes_in_nested_folders(tmp_path: Path) -> None:
    files = {"a/b/c/deep.py": "x = 1\n", "a/top.js": "let y;\n", "empty.txt": ""}
    unpack_tree(packed(tmp_path, files), tmp_path / "out")
    for name, text in files.items():
        assert (tmp_path / "out" / name).read_text() == text


def test_a_truncated_tree_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "cut.packed"
    with TreeWriter(archive) as writer:
        writer.add("a.py", b"x" * 1000)
    whole = gzip.decompress(archive.read_bytes())
    archive.write_bytes(gzip.compress(whole[:-20]))  # the end mark and some bytes lost
    with pytest.raises(TreeError, match="truncated"):
        unpack_tree(archive, tmp_path / "out")


@pytest.mark.parametrize("path", ["../escape.py", "/etc/passwd", "a//b.py", "a/./b.py", "x\0y"])
def test_a_path_outside_the_folder_is_refused_when_read(tmp_path: Path, path: str) -> None:
    name = path.encode()
    body = MAGIC + struct.pack(">IQ", len(name), 2) + name + b"hi" + struct.pack(">IQ", 0, 0)
    (tmp_path / "evil.packed").write_bytes(gzip.compress(body))
    with pytest.raises(TreeError, match="unsafe path"):
        unpack_tree(tmp_path / "evil.packed", tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()


def test_a_path_named_twice_is_refused(tmp_path: Path) -> None:
    name = b"a.py"
    entry = struct.pack(">IQ", len(name), 1) + name + b"x"
    body = MAGIC + entry + entry + struct.pack(">IQ", 0, 0)
    (tmp_path / "twice.packed").write_bytes(gzip.compress(body))
    with pytest.raises(TreeError, match="twice"):
        unpack_tree(tmp_path / "twice.packed", tmp_path / "out")


def test_the_writer_refuses_an_unsafe_path(tmp_path: Path) -> None:
    with pytest.raises(TreeError), TreeWriter(tmp_path / "t.packed") as writer:
        writer.add("../x", b"")


def test_tar_gz_archives_still_read(tmp_path: Path) -> None:
    """The git history is kept as .tar.gz, and so were trees stored by earlier versions."""
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "m.py").write_text("m = 1\n")
    with tarfile.open(tmp_path / "old.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "src" / "pkg" / "m.py", arcname="pkg/m.py")
    assert read_files(tmp_path / "old.tar.gz", {"pkg/m.py"}) == {"pkg/m.py": b"m = 1\n"}
    unpack_tree(tmp_path / "old.tar.gz", tmp_path / "out")
    assert (tmp_path / "out" / "pkg" / "m.py").read_text() == "m = 1\n"
