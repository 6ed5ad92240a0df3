"""Classification of a tree: included, ignored (vendored, generated, .vigilignore), skipped."""

from __future__ import annotations

import os
from pathlib import Path

from vigil_ingest.classify import classify_tree
from vigil_ingest.summary import build_manifest, summarise


def write(root: Path, files: dict[str, bytes | str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return root


def test_counts_included_ignored_and_skipped_files(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "src/app.py": "import os\n\nprint(os.name)\n",
            "src/util.js": "export const a = 1;\n",
            "package-lock.json": "{}\n",
            "node_modules/left-pad/index.js": "module.exports = 1\n",
            "vendor/lib.go": "package lib\n",
            "dist/bundle.js": "x\n",
            "build/out.txt": "x\n",
            ".git/HEAD": "ref: refs/heads/main\n",
            "web/app.min.js": "a=1\n",
            "web/app.js.map": "{}\n",
            "logo.png": b"\x89PNG\r\n\x1a\n\0\0\0binary",
            "big.txt": "y" * 2_000,
            "libs/tool.jar": b"PK\x03\x04\0\0opaque",
        },
    )
    result = classify_tree(root, max_source_file_bytes=1_000)
    included = sorted(f.path for f in result.included)
    assert included == ["libs/tool.jar", "package-lock.json", "src/app.py", "src/util.js"]
    assert result.total_files == 13
    assert result.ignored_files == 7
    assert result.skipped == {"big.txt": "larger than 1000 bytes", "logo.png": "binary file"}
    assert result.total_bytes == sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert result.included_bytes == sum((root / p).stat().st_size for p in included)


def test_languages_and_lines_of_code(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "a.py": "x = 1\n\n\ny = 2\n",
            "b.py": "print(1)\n",
            "bin/run": "#!/usr/bin/env python3\nprint(2)\n",
            "tool": "#!/bin/bash\necho hi\n",
            "README": "words\n",
        },
    )
    summary = summarise(classify_tree(root, 10_000), None)
    assert summary.language_stats == {
        "python": {"files": 3, "lines": 5},
        "shell": {"files": 1, "lines": 2},
    }
    assert summary.languages == {"python": 3, "shell": 1}
    assert summary.complexity_label == "small"
    assert 0 <= summary.complexity_score < 30


def test_vigilignore_excludes_paths_in_gitignore_syntax(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            ".vigilignore": "# x\ntests/fixtures/\n*.generated.py\n!keep.generated.py\n/top.py\n",
            "tests/fixtures/evil.py": "x\n",
            "src/api.generated.py": "x\n",
            "src/keep.generated.py": "x\n",
            "top.py": "x\n",
            "src/top.py": "x\n",
        },
    )
    result = classify_tree(root, 10_000)
    included = sorted(f.path for f in result.included)
    assert included == [".vigilignore", "src/keep.generated.py", "src/top.py"]
    assert result.ignored_files == 3


def test_links_are_skipped_with_a_reason_and_never_followed(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"secret.py": "TOKEN = 1\n"})
    root = write(tmp_path / "tree", {"a.py": "x\n"})
    os.symlink(outside / "secret.py", root / "link.py")
    os.symlink(outside, root / "linked-dir")
    result = classify_tree(root, 10_000)
    assert [f.path for f in result.included] == ["a.py"]
    assert result.skipped == {"link.py": "symbolic link", "linked-dir": "symbolic link"}


def test_the_manifest_holds_only_included_files(tmp_path: Path) -> None:
    root = write(tmp_path, {"a.py": "x = 1\n", "node_modules/m.js": "y\n", "b.bin": b"\0\1"})
    manifest = build_manifest(classify_tree(root, 10_000), "abc123")
    assert [f.path for f in manifest.files] == ["a.py"]
    assert manifest.files[0].lines == 1
    assert manifest.total_files == 1
    assert manifest.ignored_files == 1
    assert manifest.skipped_files == {"b.bin": "binary file"}
    assert manifest.language_lines == {"python": 1}
    assert manifest.commit_sha == "abc123"
