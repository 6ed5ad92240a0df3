"""Sort the files of an unpacked tree into included, ignored and risky-skipped, and describe them.

- **ignored**: vendored or generated (``node_modules/``, ``vendor/``, ``.git/``, ``dist/``,
  ``build/``, minified bundles, source maps) and whatever ``.vigilignore`` names. Lockfiles are
  kept: the dependency audit reads them.
- **risky-skipped**, each with a reason: links, binaries, files over
  ``max_source_file_bytes``, names that are not UTF-8.
- **included**: everything else, including nested archives, kept as opaque files (never
  opened). Only included files go into the stored tree.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Final

import msgspec

from vigil_common.schemas import ManifestFile
from vigil_ingest.languages import count_lines, language_of
from vigil_ingest.vigilignore import IgnoreRules

IGNORED_FOLDERS: Final = frozenset({
    "node_modules", "bower_components", "jspm_packages", "vendor", "dist", "build",
    ".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".next", ".nuxt", ".gradle", ".idea",
})  # fmt: skip
GENERATED_SUFFIXES: Final = (".min.js", ".min.css", "-min.js", ".bundle.js", ".map")
ARCHIVE_SUFFIXES: Final = (
    ".zip", ".jar", ".war", ".ear", ".aar", ".apk", ".whl", ".egg", ".nupkg", ".tar", ".tgz",
    ".gz", ".bz2", ".xz", ".zst", ".7z", ".rar",
)  # fmt: skip
# Git and grep judge "binary" the same way: a NUL byte near the start.
_BINARY_PROBE: Final = 8000
_HEAD: Final = 4096


class LanguageStats(msgspec.Struct, frozen=True):
    """Files and lines of code of one language."""

    files: int
    lines: int


class Classification(msgspec.Struct, frozen=True, kw_only=True):
    """What a tree holds and what was kept of it."""

    included: list[ManifestFile]
    total_files: int
    total_bytes: int
    ignored_files: int
    skipped: dict[str, str]
    max_depth: int

    @property
    def included_bytes(self) -> int:
        """Bytes of the files kept in the stored tree."""
        return sum(f.size for f in self.included)

    def language_stats(self) -> dict[str, LanguageStats]:
        """Files and lines per language among the included files."""
        files: dict[str, int] = {}
        lines: dict[str, int] = {}
        for f in self.included:
            if f.language is not None:
                files[f.language] = files.get(f.language, 0) + 1
                lines[f.language] = lines.get(f.language, 0) + f.lines
        return {lang: LanguageStats(files[lang], lines[lang]) for lang in sorted(files)}


def classify_tree(root: Path, max_source_file_bytes: int) -> Classification:
    """Walk ``root`` (never following links) and sort every file found."""
    rules = IgnoreRules.load(root)
    included: list[ManifestFile] = []
    skipped: dict[str, str] = {}
    total = ignored = total_bytes = depth = 0
    for relative in walk_files(root):
        total += 1
        depth = max(depth, relative.count("/"))
        path = root / relative
        total_bytes += path.lstat().st_size
        if _ignored(relative, rules):
            ignored += 1
        elif isinstance(verdict := _read(relative, path, max_source_file_bytes), str):
            skipped[_printable(relative)] = verdict
        else:
            included.append(verdict)
    return Classification(
        included=included,
        total_files=total,
        total_bytes=total_bytes,
        ignored_files=ignored,
        skipped=skipped,
        max_depth=depth,
    )


def walk_files(root: Path) -> Iterator[str]:
    """Every non-folder entry under ``root`` as a relative POSIX path, in a stable order.

    Links to folders are yielded (and later skipped) rather than walked into.
    """
    for folder, dirs, files in os.walk(root, followlinks=False):
        base = Path(folder).relative_to(root)
        links = [d for d in dirs if (Path(folder) / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if d not in links)
        for name in sorted(files + links):
            yield (base / name).as_posix()


def _ignored(relative: str, rules: IgnoreRules) -> bool:
    parts = PurePosixPath(relative).parts
    if any(part in IGNORED_FOLDERS for part in parts[:-1]):
        return True
    return parts[-1].lower().endswith(GENERATED_SUFFIXES) or rules.matches(relative)


def _read(relative: str, path: Path, max_bytes: int) -> ManifestFile | str:
    """The file's manifest entry, or the reason it must not go into the tree."""
    if path.is_symlink():
        return "symbolic link"
    if not path.is_file():
        return "not a regular file"
    if _printable(relative) != relative:
        return "name is not valid UTF-8"
    if path.stat().st_size > max_bytes:
        return f"larger than {max_bytes} bytes"
    data = path.read_bytes()
    if not _is_archive(relative) and b"\0" in data[:_BINARY_PROBE]:
        return "binary file"
    return describe_file(relative, data)


def _is_archive(relative: str) -> bool:
    return relative.lower().endswith(ARCHIVE_SUFFIXES)


def describe_file(relative: str, data: bytes) -> ManifestFile:
    """The manifest entry of an included file: size, hash, language and lines of code."""
    digest = hashlib.sha256(data).hexdigest()
    if _is_archive(relative):
        return ManifestFile(relative, len(data), digest)  # opaque: never read as text
    language = language_of(relative, data[:_HEAD])
    return ManifestFile(relative, len(data), digest, language, count_lines(data))


def _printable(relative: str) -> str:
    """The path with undecodable bytes (surrogate escapes) replaced, safe to encode as JSON."""
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
