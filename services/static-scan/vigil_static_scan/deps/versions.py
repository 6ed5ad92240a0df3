"""Version ordering per ecosystem, as OSV ranges need it: PEP 440 for PyPI, SemVer otherwise.

SemVer follows semver.org 2.0.0 section 11: numeric core, then a release sorts above its
prereleases, prerelease identifiers compared one by one (numeric below alphanumeric), build
metadata ignored. Go versions drop their leading ``v`` and ``+incompatible`` (golang/vulndb's
events carry neither, see the OSV folder's README); a Go pseudo-version
(``v0.0.0-20210101000000-abcdef123456``) is a SemVer prerelease of its base by design, so it
sorts where Go's own tooling sorts it (https://go.dev/ref/mod#pseudo-versions).
"""

from __future__ import annotations

import re
from functools import total_ordering
from typing import Any, Final, Literal

from packaging.version import InvalidVersion, Version

Ecosystem = Literal["PyPI", "npm", "Go", "crates.io"]
ECOSYSTEMS: Final[tuple[Ecosystem, ...]] = ("PyPI", "npm", "Go", "crates.io")

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


def parse_version(ecosystem: str, text: str) -> Any:
    """A comparable version of ``ecosystem``, or None when ``text`` cannot be read as one."""
    if ecosystem == "PyPI":
        try:
            return Version(text)
        except InvalidVersion:
            return None
    if ecosystem == "Go":
        text = text.removesuffix("+incompatible")
    return parse_semver(text)
