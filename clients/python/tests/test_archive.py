"""Folder zipping honours .gitignore and .vigilignore (git's rules, in every folder)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from vigil_client.archive import included_files, zip_folder


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_ignore_files_in_every_folder_apply_below_it(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n!keep.log\n",
            ".vigilignore": "fixtures/\n",
            "app.py": "",
            "debug.log": "",
            "keep.log": "",
            "build/out.py": "",
            "fixtures/evil.py": "",
            "pkg/.gitignore": "generated.py\n",
            "pkg/generated.py": "",
            "pkg/code.py": "",
            "other/generated.py": "",
            ".git/config": "",
        },
    )
    assert [p.as_posix() for p in included_files(root)] == [
        ".gitignore", ".vigilignore", "app.py", "keep.log", "other/generated.py",
        "pkg/.gitignore", "pkg/code.py",
    ]  # fmt: skip


def test_symbolic_links_are_never_followed(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {"app.py": "x = 1\n"})
    outside = tree(tmp_path / "outside", {"secret.txt": "s"})
    (root / "link").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "secret.txt")
    assert [p.as_posix() for p in included_files(root)] == ["app.py"]


def test_zip_folder_holds_the_included_files_with_their_content(tmp_path: Path) -> None:
    root = tree(tmp_path, {"src/app.py": "print(1)\n", ".vigilignore": "*.md\n", "README.md": ""})
    with zipfile.ZipFile(io.BytesIO(zip_folder(root))) as archive:
        assert archive.namelist() == [".vigilignore", "src/app.py"]
        assert archive.read("src/app.py") == b"print(1)\n"
