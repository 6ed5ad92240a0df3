"""The packed tree format: reading a few files without unpacking the rest."""

from __future__ import annotations

from pathlib import Path

from vigil_common.schemas import ManifestFile, TreeManifest
from vigil_common.trees import pack_tree, read_files, unpack_tree


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
    pack_tree(root, manifest, tmp_path / "tree.tar.gz")
    return tmp_path / "tree.tar.gz"


def test_read_files_returns_only_the_named_files_as_unpacking_would(tmp_path: Path) -> None:
    files = {"app/a.py": "a = 1\n", "app/b.py": "b = 2\r\n", "c.txt": "c"}
    archive = packed(tmp_path, files)
    found = read_files(archive, {"app/b.py", "c.txt", "missing.py"})
    assert found == {"app/b.py": b"b = 2\r\n", "c.txt": b"c"}
    unpack_tree(archive, tmp_path / "out")
    assert (tmp_path / "out" / "app" / "b.py").read_bytes() == found["app/b.py"]


def test_read_files_of_nothing_is_empty(tmp_path: Path) -> None:
    assert read_files(packed(tmp_path, {"a.py": "x"}), set()) == {}
