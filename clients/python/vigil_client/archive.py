"""Zipping a local folder for upload, leaving out what ``.gitignore`` and ``.vigilignore`` say.

Both files are read in every folder, with git's rules (``pathspec``'s gitwildmatch): a
pattern applies below the folder of its file, later patterns win, ``!`` re-includes. The
``.git`` folder is always left out. The gateway applies ``.vigilignore`` again on its side;
doing it here too keeps ignored files (build output, fixtures, secrets) off the wire.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Final

import pathspec

IGNORE_FILES: Final = (".gitignore", ".vigilignore")
ALWAYS_LEFT_OUT: Final = frozenset({".git"})

Rules = list[tuple[PurePosixPath, pathspec.GitIgnoreSpec]]


def _rules_of(folder: Path, relative: PurePosixPath) -> Rules:
    lines: list[str] = []
    for name in IGNORE_FILES:
        path = folder / name
        if path.is_file():
            lines += path.read_text(errors="replace").splitlines()
    return [(relative, pathspec.GitIgnoreSpec.from_lines(lines))] if lines else []


def _ignored(rules: Rules, path: PurePosixPath, is_dir: bool) -> bool:
    for base, spec in rules:
        inner = path.relative_to(base).as_posix() if base.parts else path.as_posix()
        if spec.match_file(inner + "/" if is_dir else inner):
            return True
    return False


def included_files(root: Path) -> Iterator[PurePosixPath]:
    """The files under ``root`` to upload, as sorted POSIX paths relative to it."""
    rules_by_dir: dict[PurePosixPath, Rules] = {}
    for current, dirs, files in os.walk(root):
        relative = PurePosixPath(Path(current).relative_to(root).as_posix())
        relative = PurePosixPath() if relative == PurePosixPath(".") else relative
        parent = rules_by_dir.get(relative.parent, []) if relative.parts else []
        rules = parent + _rules_of(Path(current), relative)
        rules_by_dir[relative] = rules
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in ALWAYS_LEFT_OUT
            and not os.path.islink(os.path.join(current, d))
            and not _ignored(rules, relative / d, is_dir=True)
        )
        for name in sorted(files):
            path = relative / name
            if not os.path.islink(os.path.join(current, name)) and not _ignored(
                rules, path, is_dir=False
            ):
                yield path


def zip_folder(root: Path) -> bytes:
    """A ZIP of :func:`included_files` (symbolic links are left out: never followed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in included_files(root):
            archive.write(root / path, path.as_posix())
    return buffer.getvalue()
