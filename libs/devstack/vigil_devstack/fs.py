"""Folders the servers can use, including when PostgreSQL must run as another user."""

import os
import stat
import tempfile
from pathlib import Path


def ensure_dir(path: Path) -> Path:
    """Create `path` (and missing parents) and return it absolute and resolved.

    Folders created here get mode 0755 whatever the umask, so that PostgreSQL, which runs
    as `nobody` when we are root, can traverse them.
    """
    path = path.expanduser().absolute()
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(0o755)
    return path.resolve()


def make_temp_home(prefix: str = "vigil-devstack-") -> Path:
    """Create a fresh temporary folder usable as a stack home (mode 0755, unlike mkdtemp)."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    home.chmod(0o755)
    return home.resolve()


def first_blocked_folder(path: Path, uid: int, gid: int) -> Path | None:
    """Return the outermost folder of `path` (itself included) that uid/gid cannot enter."""
    for folder in reversed((path, *path.parents)):
        if not _can_enter(folder.stat(), uid, gid):
            return folder
    return None


def _can_enter(info: os.stat_result, uid: int, gid: int) -> bool:
    """Apply the owner/group/other execute bit that applies to uid/gid."""
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)
