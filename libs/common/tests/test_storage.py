"""The S3 store against a real S3 server with enforced credentials."""

from __future__ import annotations

import asyncio
import io
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import msgspec
import pytest

from vigil_common.config import Settings
from vigil_common.errors import StorageError
from vigil_common.storage import ObjectMissing, ObjectStore


async def test_round_trip_of_bytes_and_files(store: ObjectStore, tmp_path: Path) -> None:
    key = f"tests/{uuid.uuid4()}"
    await store.put_fileobj(key, io.BytesIO(b"hello tree"), "application/octet-stream")
    assert await store.get_bytes(key) == b"hello tree"
    assert await store.head(key) == 10
    await store.download(key, tmp_path / "copy")
    assert (tmp_path / "copy").read_bytes() == b"hello tree"


async def test_a_missing_key_is_reported_as_missing(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(ObjectMissing):
        await store.get_bytes(f"tests/{uuid.uuid4()}")
    with pytest.raises(ObjectMissing):
        await store.download(f"tests/{uuid.uuid4()}", tmp_path / "x")


async def test_presigned_put_lets_a_plain_http_client_upload(store: ObjectStore) -> None:
    key = f"uploads/{uuid.uuid4()}.zip"
    url = await store.presign_put(key, 60, "application/zip")
    request = urllib.request.Request(
        url, data=b"PK\x05\x06" + bytes(18), method="PUT",
        headers={"Content-Type": "application/zip"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert await store.head(key) == 22


async def test_wrong_credentials_are_refused(settings: Settings) -> None:
    wrong = ObjectStore(msgspec.structs.replace(settings, s3_secret_key="not-the-secret"))
    with pytest.raises(StorageError):
        await wrong.put_bytes("tests/denied", b"x", "text/plain")


async def test_expired_presigned_get_is_refused(store: ObjectStore) -> None:
    key = f"tests/{uuid.uuid4()}"
    await store.put_bytes(key, b"x", "text/plain")
    url = await store.presign_get(key, 1)
    await asyncio.sleep(2)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    assert refused.value.code == 403
