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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Final

import msgspec

from vigil_common.schemas import ManifestFile
from vigil_ingest.languages import count_lines, language_of
from vigil_ingest.limits import ArchiveEntry
from vigil_ingest.vigilignore import FILE_NAME as IGNORE_FILE
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


class Classifier:
    """Sorts files one by one and hands each included file's bytes to ``keep``."""

    def __init__(
        self, rules: IgnoreRules, max_source_file_bytes: int, keep: Callable[[str, bytes], None]
    ) -> None:
        self._rules, self._max, self._keep = rules, max_source_file_bytes, keep
        self._included: list[ManifestFile] = []
        self._skipped: dict[str, str] = {}
        self._total = self._ignored = self._bytes = self._depth = 0

    def add(self, relative: str, size: int, data: bytes | None, problem: str = "") -> None:
        """One file: ``data`` is None when it is larger than the limit or was not read, and
        ``problem`` says why a file that is not a regular one cannot be included."""
        self._total += 1
        self._depth = max(self._depth, relative.count("/"))
        self._bytes += size
        if _ignored(relative, self._rules):
            self._ignored += 1
        elif verdict := problem or _problem(relative, size, data, self._max):
            self._skipped[_printable(relative)] = verdict
        elif data is not None:
            self._included.append(describe_file(relative, data))
            self._keep(relative, data)

    def result(self) -> Classification:
        """Everything sorted so far; included files in the order a sorted walk finds them."""
        return Classification(
            included=sorted(self._included, key=lambda f: _walk_order(f.path)),
            total_files=self._total,
            total_bytes=self._bytes,
            ignored_files=self._ignored,
            skipped=self._skipped,
            max_depth=self._depth,
        )


def classify_tree(
    root: Path, max_source_file_bytes: int, keep: Callable[[str, bytes], None] = lambda *_: None
) -> Classification:
    """Walk ``root`` (never following links) and sort every file found."""
    rules = IgnoreRules.load(root)
    found = Classifier(rules, max_source_file_bytes, keep)
    for relative in walk_files(root):
        path = root / relative
        size = path.lstat().st_size
        if path.is_symlink():
            found.add(relative, size, None, "symbolic link")
        elif not path.is_file():
            found.add(relative, size, None, "not a regular file")
        elif size > max_source_file_bytes or _ignored(relative, rules):
            found.add(relative, size, None)
        else:
            found.add(relative, size, path.read_bytes())
    return found.result()


def classify_entries(
    entries: Iterable[ArchiveEntry],
    max_source_file_bytes: int,
    keep: Callable[[str, bytes], None],
) -> Classification:
    """Sort an archive's files as they are read; a root ``.vigilignore`` must come first."""
    found: Classifier | None = None
    for entry in entries:
        if found is None:
            rules = IgnoreRules.parse(entry.data) if entry.path == IGNORE_FILE else IgnoreRules([])
            found = Classifier(rules, max_source_file_bytes, keep)
        found.add(entry.path, entry.size, entry.data)
    return (found or Classifier(IgnoreRules([]), max_source_file_bytes, keep)).result()


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


def _walk_order(relative: str) -> list[tuple[int, str]]:
    """Sorts paths as ``walk_files`` yields them: a folder's files, then its folders in turn."""
    *folders, name = relative.split("/")
    return [(1, folder) for folder in folders] + [(0, name)]


def _ignored(relative: str, rules: IgnoreRules) -> bool:
    *folders, name = relative.split("/")
    if not IGNORED_FOLDERS.isdisjoint(folders):
        return True
    return name.lower().endswith(GENERATED_SUFFIXES) or rules.matches(relative)


def _problem(relative: str, size: int, data: bytes | None, max_bytes: int) -> str:
    """Why a regular file must not go into the tree ("" when it may)."""
    if _printable(relative) != relative:
        return "name is not valid UTF-8"
    if size > max_bytes or data is None:
        return f"larger than {max_bytes} bytes"
    if not _is_archive(relative) and b"\0" in data[:_BINARY_PROBE]:
        return "binary file"
    return ""


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
