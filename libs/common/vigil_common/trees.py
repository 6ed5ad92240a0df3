"""The normalised source tree format shared by ingest (writes) and later stages (read).

One gzip-compressed tar of regular files with relative paths, plus a JSON manifest, so a stage
fetches a whole tree in one request. Unpacking uses tarfile's ``data`` filter: even our own
archives are read as if hostile.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import msgspec

from vigil_common.schemas import TreeManifest


def pack_tree(root: Path, manifest: TreeManifest, out: Path) -> None:
    """Write the manifest's files, read from ``root``, as a ``.tar.gz`` at ``out``."""
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        for entry in manifest.files:
            tar.add(root / entry.path, arcname=entry.path, recursive=False)


def unpack_tree(archive: Path, dest: Path) -> None:
    """Extract a packed tree into ``dest`` (refusing links, devices and escaping paths)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(dest, filter="data")


def read_files(archive: Path, paths: set[str]) -> dict[str, bytes]:
    """The contents of the regular files named ``paths`` in a packed tree, without unpacking it.

    A stage that needs a few files of a large tree reads them in one pass over the stream
    instead of writing every file to disk first.
    """
    found: dict[str, bytes] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.isfile() and member.name in paths:
                extracted = tar.extractfile(member)
                if extracted is not None:
                    found[member.name] = extracted.read()
                if len(found) == len(paths):
                    break
    return found


def encode_manifest(manifest: TreeManifest) -> bytes:
    """The manifest as stored in S3."""
    return msgspec.json.encode(manifest)


def decode_manifest(data: bytes) -> TreeManifest:
    """Read a stored manifest."""
    return msgspec.json.decode(data, type=TreeManifest)
