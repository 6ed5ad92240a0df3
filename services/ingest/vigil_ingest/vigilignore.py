"""``.vigilignore``: paths a repository asks Vigil to leave out, in gitignore syntax.

Only the file at the root of the tree is read (nested ones are not), with the ``pathspec``
library's gitignore semantics, so ``build/``, ``*.log``, ``!keep.log`` and ``/top`` behave
as they do for git.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pathspec

FILE_NAME: Final = ".vigilignore"
# A pattern file larger than this is not a real one; reading it whole would be the attack.
_MAX_BYTES: Final = 256 * 1024


class IgnoreRules:
    """The patterns of one tree's ``.vigilignore`` (none when the file is absent)."""

    def __init__(self, lines: list[str]) -> None:
        self._spec = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None

    @classmethod
    def load(cls, root: Path) -> IgnoreRules:
        """Read ``root/.vigilignore`` if it is a regular file of sensible size."""
        path = root / FILE_NAME
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return cls([])
        return cls(path.read_text("utf-8", errors="replace").splitlines())

    @classmethod
    def parse(cls, data: bytes | None) -> IgnoreRules:
        """The rules in a ``.vigilignore`` read from an archive (None: too large to read)."""
        if data is None or len(data) > _MAX_BYTES:
            return cls([])
        return cls(data.decode("utf-8", errors="replace").splitlines())

    def matches(self, relative: str) -> bool:
        """Whether the tree-relative POSIX path is excluded."""
        return self._spec is not None and self._spec.match_file(relative)
