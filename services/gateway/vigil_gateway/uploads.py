"""Receiving an archive in a request body: streamed to a spool file, size-capped, sniffed."""

from __future__ import annotations

import tempfile
from typing import IO, Final

from aiohttp import web

from vigil_gateway.errors import ApiError

# Content types accepted for a direct upload, and the archive format each one means.
ARCHIVE_TYPES: Final = {
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
}
_ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
_SPOOL_IN_MEMORY: Final = 8 * 1024 * 1024
_CHUNK: Final = 256 * 1024


def archive_format(request: web.Request) -> str:
    """The archive format the request declares, or 415 listing what is accepted."""
    fmt = ARCHIVE_TYPES.get(request.content_type)
    if fmt is None:
        raise ApiError(
            415,
            "unsupported_media_type",
            f"send the archive with Content-Type: application/zip (got {request.content_type!r})",
            {"accepted": sorted(ARCHIVE_TYPES)},
        )
    return fmt


async def receive_archive(request: web.Request, max_bytes: int) -> IO[bytes]:
    """Copy the body to a spool file (in memory while small) and return it rewound.

    Answers 413 as soon as the body passes ``max_bytes``, 422 if it is empty or not a ZIP.
    """
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large(max_bytes)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - returned open
    try:
        await _copy_capped(request, spool, max_bytes)
        _check_zip(spool)
    except BaseException:
        spool.close()
        raise
    return spool


async def _copy_capped(request: web.Request, spool: IO[bytes], max_bytes: int) -> None:
    received = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(max_bytes)
        spool.write(chunk)
    spool.seek(0)


def _check_zip(spool: IO[bytes]) -> None:
    head = spool.read(4)
    spool.seek(0)
    if not head:
        raise ApiError(422, "empty_archive", "the request body is empty: send the ZIP archive")
    if head not in _ZIP_MAGIC:
        raise ApiError(422, "invalid_archive", "the request body is not a ZIP archive")


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the archive is larger than the {max_bytes} bytes this server accepts",
        {"max_bytes": max_bytes},
    )
