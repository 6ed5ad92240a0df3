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
    "application/x-tar": "tar",
    "application/gzip": "tar.gz",
    "application/x-gzip": "tar.gz",
    "application/x-tar+gzip": "tar.gz",
    "application/x-bzip2": "tar.bz2",
    "application/x-xz": "tar.xz",
}
CONTENT_TYPES: Final = {
    "zip": "application/zip",
    "tar": "application/x-tar",
    "tar.gz": "application/gzip",
    "tar.bz2": "application/x-bzip2",
    "tar.xz": "application/x-xz",
}
EXTENSIONS: Final = {fmt: fmt for fmt in CONTENT_TYPES}
# (offset, magic bytes) of each format; plain tar has "ustar" in its first header.
_MAGIC: Final = {
    "zip": ((0, b"PK\x03\x04"), (0, b"PK\x05\x06")),
    "tar": ((257, b"ustar"),),
    "tar.gz": ((0, b"\x1f\x8b"),),
    "tar.bz2": ((0, b"BZh"),),
    "tar.xz": ((0, b"\xfd7zXZ\x00"),),
}
_SPOOL_IN_MEMORY: Final = 8 * 1024 * 1024
_CHUNK: Final = 256 * 1024


def archive_format(content_type: str) -> str | None:
    """The archive format a request's Content-Type declares, or ``None``."""
    return ARCHIVE_TYPES.get(content_type)


async def receive_archive(request: web.Request, fmt: str, max_bytes: int) -> IO[bytes]:
    """Copy the body to a spool file (in memory while small) and return it rewound.

    Answers 413 as soon as the body passes ``max_bytes``, 422 if it is empty or not ``fmt``.
    """
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large(max_bytes)
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 - returned open
    try:
        await _copy_capped(request, spool, max_bytes)
        _check_magic(spool, fmt)
    except BaseException:
        spool.close()
        raise
    return spool


async def _copy_capped(request: web.Request, spool: IO[bytes], max_bytes: int) -> None:
    received = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise too_large(max_bytes)
        spool.write(chunk)
    spool.seek(0)


def _check_magic(spool: IO[bytes], fmt: str) -> None:
    head = spool.read(512)
    spool.seek(0)
    if not head:
        raise ApiError(422, "empty_archive", "the request body is empty: send the archive")
    if not any(head[at : at + len(magic)] == magic for at, magic in _MAGIC[fmt]):
        raise ApiError(422, "invalid_archive", f"the request body is not a {fmt} archive")


def too_large(max_bytes: int) -> ApiError:
    """The 413 for an archive past the configured limit."""
    return ApiError(
        413,
        "payload_too_large",
        f"the archive is larger than the {max_bytes} bytes this server accepts",
        {"max_bytes": max_bytes},
    )


def unsupported(content_type: str) -> ApiError:
    """The 415 for a body that is neither JSON nor a supported archive."""
    return ApiError(
        415,
        "unsupported_media_type",
        "send JSON (application/json) or an archive (application/zip, application/gzip, …);"
        f" got {content_type!r}",
        {"accepted": ["application/json", *sorted(ARCHIVE_TYPES)]},
    )
