"""Extract an uploaded archive of any accepted format, turning every failure into a refusal.

Formats are the ones the gateway accepts: ``zip``, ``tar``, ``tar.gz``, ``tar.bz2``,
``tar.xz``. Whatever goes wrong while reading (corrupt data, a truncated stream, a name the
file system cannot hold) becomes :class:`ArchiveRefused` with a sentence for the user.
"""

from __future__ import annotations

import lzma
import tarfile
import zipfile
import zlib
from pathlib import Path
from typing import Final

from vigil_ingest.extract_tar import MODES, extract_tar
from vigil_ingest.extract_zip import extract_zip
from vigil_ingest.limits import ArchiveRefused, Limits

FORMATS: Final = frozenset({"zip", *MODES})
# What the standard library raises on corrupt input: zipfile, tarfile and the codecs below
# them (bz2 raises OSError, lzma LZMAError, zlib zlib.error, truncated streams EOFError).
_CORRUPT: Final = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)


def extract_archive(archive: Path, archive_format: str, dest: Path, limits: Limits) -> int:
    """Extract ``archive`` into ``dest``; returns the number of files written."""
    if archive_format not in FORMATS:
        raise ArchiveRefused(f"archives in {archive_format!r} format are not supported")
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if archive_format == "zip":
            return extract_zip(archive, dest, limits)
        return extract_tar(archive, dest, limits, archive_format)
    except UnicodeDecodeError:  # a ZIP entry flagged UTF-8 whose name is not
        raise ArchiveRefused("an entry name is not valid UTF-8") from None
    except _CORRUPT:
        raise ArchiveRefused(f"the upload is not a valid {archive_format} archive") from None
    except OSError:
        raise ArchiveRefused(
            f"the {archive_format} archive could not be unpacked (corrupt data or an entry"
            " the file system cannot hold)"
        ) from None
