"""Read an uploaded archive of any accepted format, turning every failure into a refusal.

Formats are the ones the gateway accepts: ``zip``, ``tar``, ``tar.gz``, ``tar.bz2``,
``tar.xz``. Whatever goes wrong while reading (corrupt data, a truncated stream, a name the
file system cannot hold) becomes :class:`ArchiveRefused` with a sentence for the user.
"""

from __future__ import annotations

import lzma
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from vigil_ingest.extract_tar import MODES, tar_entries
from vigil_ingest.extract_zip import zip_entries
from vigil_ingest.limits import ArchiveEntry, ArchiveRefused, Limits
from vigil_ingest.vigilignore import FILE_NAME as IGNORE_FILE

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


def archive_entries(
    archive: Path, archive_format: str, limits: Limits, keep_bytes: int
) -> Iterator[ArchiveEntry]:
    """The files of ``archive``, each read in memory once (``.vigilignore`` first).

    Files larger than ``keep_bytes`` are counted but their bytes not kept. Nothing is written
    to disk: a 20,000-file upload costs no file creations, which on a busy disk take longer
    than everything else ingest does.
    """
    if archive_format not in FORMATS:
        raise ArchiveRefused(f"archives in {archive_format!r} format are not supported")
    try:
        if archive_format == "zip":
            yield from zip_entries(archive, limits, keep_bytes, IGNORE_FILE)
        else:
            yield from tar_entries(archive, limits, archive_format, keep_bytes, IGNORE_FILE)
    except UnicodeDecodeError:  # a ZIP entry flagged UTF-8 whose name is not
        raise ArchiveRefused("an entry name is not valid UTF-8") from None
    except _CORRUPT:
        raise ArchiveRefused(f"the upload is not a valid {archive_format} archive") from None
    except OSError:
        raise ArchiveRefused(
            f"the {archive_format} archive could not be read (corrupt or truncated data)"
        ) from None
