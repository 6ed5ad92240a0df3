"""Blob storage on any S3-compatible server through boto3, with blocking calls off the loop.

Key layout: ``uploads/<scan>.<ext>`` (archives received), ``trees/<scan>/…`` (the normalised
source of a scan) and ``reports/<scan>/…`` (rendered reports).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import boto3
import botocore.config
import botocore.exceptions

from vigil_common.config import Settings
from vigil_common.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class ObjectMissing(StorageError):
    """The key does not exist in the bucket."""


def upload_key(scan_id: object, extension: str) -> str:
    """Where an uploaded archive for ``scan_id`` is kept."""
    return f"uploads/{scan_id}.{extension}"


def tree_keys(scan_id: object) -> tuple[str, str]:
    """Where the normalised source tree of ``scan_id`` and its manifest are kept."""
    return f"trees/{scan_id}/source.tree.gz", f"trees/{scan_id}/manifest.json"


def history_key(scan_id: object) -> str:
    """Where the git history of ``scan_id`` (its ``.git`` folder, packed) is kept."""
    return f"trees/{scan_id}/history.tar.gz"


class ObjectStore:
    """One bucket of an S3-compatible store. Safe to share between tasks."""

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self._create_bucket = settings.s3_create_bucket
        self._client: S3Client = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint,
            aws_access_key_id=settings.s3_access_key,
            aws_secret_access_key=settings.s3_secret_key,
            region_name=settings.s3_region,
            config=botocore.config.Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    async def _run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(functools.partial(call, *args, **kwargs))
        except botocore.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES:
                raise ObjectMissing(f"no object {kwargs.get('Key', '')!r}") from exc
            raise StorageError(f"object store refused {call.__name__}: {code}") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise StorageError(f"object store unreachable: {type(exc).__name__}") from exc

    async def ensure_bucket(self) -> None:
        """Create the bucket when ``VIGIL_S3_CREATE_BUCKET`` is set and it does not exist."""
        try:
            await self._run(self._client.head_bucket, Bucket=self.bucket)
        except StorageError:
            if not self._create_bucket:
                raise
            await self._run(self._client.create_bucket, Bucket=self.bucket)

    async def check(self) -> None:
        """Raise :class:`StorageError` unless the bucket answers (used by readiness probes)."""
        await self._run(self._client.head_bucket, Bucket=self.bucket)

    async def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` at ``key``."""
        await self._run(
            self._client.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
        )

    async def put_fileobj(self, key: str, fileobj: IO[bytes], content_type: str) -> None:
        """Stream an open binary file to ``key`` (multipart for large files)."""
        await self._run(
            self._client.upload_fileobj,
            fileobj,
            self.bucket,
            key,
            ExtraArgs={"ContentType": content_type},
        )

    async def get_bytes(self, key: str) -> bytes:
        """Read the whole object at ``key``."""
        response = await self._run(self._client.get_object, Bucket=self.bucket, Key=key)
        return await asyncio.to_thread(response["Body"].read)

    async def download(self, key: str, path: Path) -> None:
        """Copy the object at ``key`` to a local file."""
        await self._run(self._client.download_file, self.bucket, key, str(path))

    async def head(self, key: str) -> int:
        """Return the size of the object at ``key``, or raise :class:`ObjectMissing`."""
        response = await self._run(self._client.head_object, Bucket=self.bucket, Key=key)
        return int(response["ContentLength"])

    async def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many."""
        deleted = 0
        while True:
            listing = await self._run(
                self._client.list_objects_v2, Bucket=self.bucket, Prefix=prefix, MaxKeys=1000
            )
            keys = [{"Key": item["Key"]} for item in listing.get("Contents", [])]
            if not keys:
                return deleted
            await self._run(
                self._client.delete_objects, Bucket=self.bucket, Delete={"Objects": keys}
            )
            deleted += len(keys)

    async def presign_put(self, key: str, expires: int, content_type: str) -> str:
        """A URL that lets its holder PUT exactly this key until it expires."""
        return await self._run(
            self._client.generate_presigned_url,
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
            ExpiresIn=expires,
        )

    async def presign_get(self, key: str, expires: int) -> str:
        """A URL that lets its holder GET this key until it expires."""
        return await self._run(
            self._client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=expires,
        )
