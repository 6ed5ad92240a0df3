"""Version ordering per ecosystem, as OSV ranges need it: PEP 440 for PyPI, SemVer otherwise.

SemVer follows semver.org 2.0.0 section 11: numeric core, then a release sorts above its
prereleases, prerelease identifiers compared one by one (numeric below alphanumeric), build
metadata ignored. Go versions drop their leading ``v`` and ``+incompatible`` (golang/vulndb's
events carry neither, see the OSV folder's README); a Go pseudo-version
(``v0.0.0-20210101000000-abcdef123456``) is a SemVer prerelease of its base by design, so it
sorts where Go's own tooling sorts it (https://go.dev/ref/mod#pseudo-versions).

RubyGems follows ``Gem::Version``: segments split at dots and between digits and letters,
a letter segment makes a prerelease (``1.0.a`` < ``1.0``), missing segments count as 0.
Packagist follows PHP's ``version_compare`` as OSV's own Packagist ordering does: a leading
``v`` dropped, ``-``, ``_`` and ``+`` read as dots, dots put between digits and letters, then
part by part with ``dev`` < ``alpha``/``a`` < ``beta``/``b`` < ``RC`` < a number <
``patch``/``pl``/``p``, and any other word below ``dev``
(https://www.php.net/manual/en/function.version-compare.php).
"""

from __future__ import annotations

import re
from functools import total_ordering
from typing import Any, Final, Literal

from packaging.version import InvalidVersion, Version

Ecosystem = Literal["PyPI", "npm", "Go", "crates.io", "RubyGems", "Packagist"]
ECOSYSTEMS: Final[tuple[Ecosystem, ...]] = (
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "RubyGems",
    "Packagist",
)

_SEMVER: Final = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


@total_ordering
class SemVer:
    """A parsed SemVer version; a missing minor or patch counts as 0 (``1.2`` is ``1.2.0``)."""

    __slots__ = ("core", "pre")

    def __init__(self, core: tuple[int, int, int], pre: tuple[str, ...]) -> None:
        self.core = core
        self.pre = pre

    def _key(self) -> tuple[tuple[int, int, int], bool, tuple[tuple[int, int, str], ...]]:
        # A release (no prerelease) sorts above every prerelease of the same core.
        return self.core, not self.pre, tuple(_identifier(part) for part in self.pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key() == other._key()

    def __lt__(self, other: SemVer) -> bool:
        return self._key() < other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"SemVer({self.core}, {self.pre})"


def _identifier(part: str) -> tuple[int, int, str]:
    """Numeric identifiers sort numerically and below alphanumeric ones."""
    return (0, int(part), "") if part.isdigit() else (1, 0, part)


def parse_semver(text: str) -> SemVer | None:
    """``1.2.3-rc.1+build`` (optionally ``v``-prefixed), or None when it is not SemVer."""
    match = _SEMVER.match(text.strip())
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    core = (int(major), int(minor or 0), int(patch or 0))
    return SemVer(core, tuple(pre.split(".")) if pre else ())


@total_ordering
class GemVersion:
    """A ``Gem::Version``-style version: comparable segments, trailing zeros ignored."""

    __slots__ = ("segments",)

    def __init__(self, segments: tuple[tuple[int, int, str], ...]) -> None:
        self.segments = segments

    def _padded(self, length: int) -> tuple[tuple[int, int, str], ...]:
        return self.segments + ((1, 0, ""),) * (length - len(self.segments))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GemVersion):
            return False
        length = max(len(self.segments), len(other.segments))
        return self._padded(length) == other._padded(length)

    def __lt__(self, other: GemVersion) -> bool:
        length = max(len(self.segments), len(other.segments))
        return self._padded(length) < other._padded(length)

    def __hash__(self) -> int:
        segments = list(self.segments)
        while segments and segments[-1] == (1, 0, ""):
            segments.pop()
        return hash(tuple(segments))

    def __repr__(self) -> str:
        return f"GemVersion({self.segments})"


_GEM: Final = re.compile(r"^[0-9]+(?:\.[0-9A-Za-z]+)*$")
_GEM_SEGMENT: Final = re.compile(r"[0-9]+|[A-Za-z]+")


def parse_gem(text: str) -> GemVersion | None:
    """``1.2.3.pre1`` as RubyGems orders it; a letter segment sorts below any number."""
    text = text.strip()
    if not _GEM.match(text) or len(text) > 128:
        return None
    segments = tuple(
        (1, int(part), "") if part.isdigit() else (0, 0, part.lower())
        for part in _GEM_SEGMENT.findall(text)
    )
    return GemVersion(segments)


# PHP's special forms; a number ranks between RC and patch, unknown words below dev.
_PHP_WORDS: Final = {"dev": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "rc": 3, "patch": 5}
_PHP_WORDS_EXTRA: Final = {"pl": 5, "p": 5}
_PHP_NUMBER: Final = 4
_PHP_PART: Final = re.compile(r"\d+|[^\d.]+")


def _php_rank(part: str) -> tuple[int, int]:
    if part.isdigit():
        return _PHP_NUMBER, int(part)
    word = part.lower()
    return _PHP_WORDS.get(word, _PHP_WORDS_EXTRA.get(word, -1)), 0


@total_ordering
class PhpVersion:
    """A version as PHP's ``version_compare`` orders it (Composer, Packagist)."""

    __slots__ = ("parts",)

    def __init__(self, parts: tuple[tuple[int, int], ...]) -> None:
        self.parts = parts

    def _key(self, length: int) -> tuple[tuple[int, int], ...]:
        # Past the end counts as "#" (a number ranking below any number), so 1.0 < 1.0.1,
        # 1.0-RC1 < 1.0 and 1.0 < 1.0-pl1, as version_compare has it.
        return self.parts + ((_PHP_NUMBER, -1),) * (length - len(self.parts))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhpVersion):
            return False
        length = max(len(self.parts), len(other.parts))
        return self._key(length) == other._key(length)

    def __lt__(self, other: PhpVersion) -> bool:
        length = max(len(self.parts), len(other.parts))
        return self._key(length) < other._key(length)

    def __hash__(self) -> int:
        return hash(self.parts)

    def __repr__(self) -> str:
        return f"PhpVersion({self.parts})"


def parse_php(text: str) -> PhpVersion | None:
    """``v5.4.19``, ``2.0.0-RC1``, ``1.0pl1``; None when there is no number in it."""
    text = text.strip()
    text = text[1:] if text[:1] in {"v", "V"} else text
    parts = _PHP_PART.findall(re.sub(r"[-_+]", ".", text)[:128])
    if not any(part.isdigit() for part in parts):
        return None
    return PhpVersion(tuple(_php_rank(part) for part in parts))


def parse_version(ecosystem: str, text: str) -> Any:
    """A comparable version of ``ecosystem``, or None when ``text`` cannot be read as one."""
    if ecosystem == "PyPI":
        try:
            return Version(text)
        except InvalidVersion:
            return None
    if ecosystem == "Go":
        text = text.removesuffix("+incompatible")
    if ecosystem == "RubyGems":
        return parse_gem(text)
    if ecosystem == "Packagist":
        return parse_php(text)
    return parse_semver(text)
