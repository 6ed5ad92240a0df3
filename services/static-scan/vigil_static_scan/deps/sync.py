"""``vigil-osv-sync``: download OSV's per-ecosystem exports into an offline advisory folder.

Each ecosystem's ``<base>/<Ecosystem>/all.zip`` (https://google.github.io/osv.dev/data/) is
unpacked to ``<dest>/<Ecosystem>/<ID>.json``, the layout osv_index reads, with a
``snapshot.json`` naming the date and source. Everything is written to a temporary folder
beside ``dest`` and renamed into place, so a reader never sees half a snapshot; a failed
download leaves the previous snapshot untouched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Final
from urllib.error import URLError
from urllib.parse import quote

import msgspec

from vigil_static_scan.deps.osv_index import SNAPSHOT_FILE, Snapshot
from vigil_static_scan.deps.versions import ECOSYSTEMS

DEFAULT_BASE_URL: Final = "https://osv-vulnerabilities.storage.googleapis.com"
TIMEOUT_SECONDS: Final = 300
# Far above the largest export (PyPI, tens of MB) and far below what would fill a disk.
MAX_RECORD_BYTES: Final = 16 * 1024 * 1024


class SyncError(Exception):
    """A download or an archive failed; the message says which ecosystem and why."""


def download(base_url: str, ecosystem: str, target: Path) -> None:
    """Save ``<base_url>/<ecosystem>/all.zip`` to ``target``."""
    url = f"{base_url.rstrip('/')}/{quote(ecosystem)}/all.zip"
    if not url.startswith(("https://", "http://")):
        raise SyncError(f"{ecosystem}: {url} is not an http(s) URL")
    try:
        with (
            urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response,  # noqa: S310
            target.open("wb") as out,
        ):
            shutil.copyfileobj(response, out)
    except (URLError, OSError) as exc:
        raise SyncError(f"{ecosystem}: could not download {url} ({exc})") from exc


def unpack(archive: Path, folder: Path, ecosystem: str) -> int:
    """Write each ``<ID>.json`` of the export into ``folder``; the number written.

    Only flat, plainly named JSON members are taken: the export has no folders, and a name
    with a path in it must not reach outside ``folder``.
    """
    folder.mkdir(parents=True)
    written = 0
    try:
        with zipfile.ZipFile(archive) as export:
            for member in export.infolist():
                name = PurePosixPath(member.filename).name
                if name != member.filename or not name.endswith(".json") or name.startswith("."):
                    continue
                if member.file_size > MAX_RECORD_BYTES:
                    continue
                (folder / name).write_bytes(export.read(member))
                written += 1
    except (zipfile.BadZipFile, OSError) as exc:
        raise SyncError(f"{ecosystem}: the export is not a readable zip ({exc})") from exc
    return written


def sync(dest: Path, ecosystems: Sequence[str], base_url: str = DEFAULT_BASE_URL) -> Snapshot:
    """Replace ``dest`` with a fresh snapshot of ``ecosystems``; return what was recorded."""
    dest = dest.absolute()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.sync-", dir=dest.parent))
    try:
        counts = {}
        for ecosystem in ecosystems:
            archive = staging / f"{ecosystem}.zip"
            download(base_url, ecosystem, archive)
            counts[ecosystem] = unpack(archive, staging / ecosystem, ecosystem)
            archive.unlink()
        snapshot = Snapshot(
            date=datetime.now(UTC).strftime("%Y-%m-%d"), source=base_url, ecosystems=counts
        )
        (staging / SNAPSHOT_FILE).write_bytes(msgspec.json.format(msgspec.json.encode(snapshot)))
        _swap(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return snapshot


def _swap(staging: Path, dest: Path) -> None:
    """Rename ``staging`` to ``dest``; an old ``dest`` is moved aside first, then removed."""
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
        dest.rename(old / "snapshot")
    staging.chmod(0o755)
    staging.rename(dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``--dest DIR [--ecosystem NAME ...] [--base-url URL]``."""
    parser = argparse.ArgumentParser(
        prog="vigil-osv-sync",
        description="Download OSV's per-ecosystem exports into an offline advisory folder.",
    )
    parser.add_argument("--dest", required=True, type=Path, help="the folder to (re)write")
    parser.add_argument(
        "--ecosystem",
        action="append",
        help=f"an OSV ecosystem name, repeatable (default: {', '.join(ECOSYSTEMS)})",
    )
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL, help="the export's base URL")
    args = parser.parse_args(argv)
    try:
        snapshot = sync(args.dest, args.ecosystem or list(ECOSYSTEMS), args.base_url)
    except SyncError as exc:
        print(f"vigil-osv-sync: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{eco} {count}" for eco, count in snapshot.ecosystems.items())
    print(f"vigil-osv-sync: {args.dest} snapshot {snapshot.date}: {counts} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())
