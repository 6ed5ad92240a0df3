"""The real ingest handler against PostgreSQL, S3 and NATS: uploads and a git source."""

from __future__ import annotations

import io
import tarfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.errors import Reject
from vigil_common.schemas import ScanIngested, ScanRequested
from vigil_common.storage import ObjectStore
from vigil_common.subjects import SCAN_INGESTED, STREAM
from vigil_common.trees import decode_manifest, unpack_tree
from vigil_common.worker import StageContext
from vigil_ingest.handlers import make_handler

SOURCE = {
    "proj-main/app/main.py": b"import os\n\n\nprint(os.environ)\n",
    "proj-main/app/util.py": b"def f():\n    return 1\n",
    "proj-main/bin/run": b"#!/usr/bin/env bash\necho run\n",
    "proj-main/package-lock.json": b"{}\n",
    "proj-main/node_modules/x/index.js": b"module.exports = 1\n",
    "proj-main/static/app.min.js": b"a=1\n",
    "proj-main/assets/logo.png": b"\x89PNG\0\0\0",
    "proj-main/fixtures/data.txt": b"x" * 100,
    "proj-main/.vigilignore": b"fixtures/\n",
}


async def new_scan(pool: Pool, org_id: uuid.UUID, source_type: str = "upload") -> uuid.UUID:
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id",
        org_id,
        f"p-{uuid.uuid4().hex[:6]}",
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status)"
        " VALUES ($1, $2, $3, $4, 'queued')",
        scan_id,
        org_id,
        project_id,
        source_type,
    )
    return scan_id


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def tar_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def ctx(
    settings: Settings, pool: Pool, store: ObjectStore, nats_js: tuple[NATS, JetStreamContext]
) -> StageContext:
    return StageContext(settings, pool, store, nats_js[1])


async def ingested_event(js: JetStreamContext) -> ScanIngested:
    message = await js.get_last_msg(STREAM, SCAN_INGESTED)
    assert message.data is not None
    return msgspec.json.decode(message.data, type=ScanIngested)


@pytest.mark.parametrize(("archive_format", "pack"), [("zip", zip_bytes), ("tar.xz", tar_bytes)])
async def test_ingests_an_upload_and_records_the_classification(
    ctx: StageContext, tenant: Any, tmp_path: Path, archive_format: str, pack: Any
) -> None:
    scan_id = await new_scan(ctx.pool, tenant.org_id)
    upload_key = f"uploads/{scan_id}.{archive_format}"
    await ctx.store.put_bytes(upload_key, pack(SOURCE), "application/octet-stream")
    event = ScanRequested(
        scan_id=scan_id,
        org_id=tenant.org_id,
        source_type="upload",
        upload_key=upload_key,
        archive_format=archive_format,
    )
    await make_handler(ctx)(event)

    row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan_id)
    assert row["status"] == "running"
    assert row["stage"] == "ingest"
    assert (row["total_files"], row["included_files"]) == (9, 5)
    assert (row["ignored_files"], row["risky_skipped_files"]) == (3, 1)
    assert row["skipped_files"] == [{"path": "assets/logo.png", "reason": "binary file"}]
    assert row["languages"] == {"python": 2, "shell": 1, "json": 1}
    assert row["language_stats"]["python"] == {"files": 2, "lines": 4}
    assert row["total_bytes"] == sum(len(data) for data in SOURCE.values())
    assert row["included_bytes"] < 200
    assert row["complexity_label"] == "small"
    assert row["commit_sha"] is None

    sent = await ingested_event(ctx.js)
    assert (sent.scan_id, sent.tree_key) == (scan_id, row["tree_key"])
    manifest = decode_manifest(await ctx.store.get_bytes(row["manifest_key"]))
    paths = sorted(f.path for f in manifest.files)
    assert paths == [".vigilignore", "app/main.py", "app/util.py", "bin/run", "package-lock.json"]
    assert manifest.ignored_files == 3
    (tmp_path / "tree.packed").write_bytes(await ctx.store.get_bytes(row["tree_key"]))
    unpack_tree(tmp_path / "tree.packed", tmp_path / "tree")
    stored = sorted(
        p.relative_to(tmp_path / "tree").as_posix() for p in tmp_path.rglob("tree/**/*")
    )
    assert [p for p in stored if (tmp_path / "tree" / p).is_file()] == paths


async def test_a_hostile_upload_is_rejected_with_its_reason(ctx: StageContext, tenant: Any) -> None:
    scan_id = await new_scan(ctx.pool, tenant.org_id)
    key = f"uploads/{scan_id}.zip"
    await ctx.store.put_bytes(key, zip_bytes({"../../etc/cron.d/x": b"x"}), "application/zip")
    event = ScanRequested(
        scan_id=scan_id, org_id=tenant.org_id, source_type="upload", upload_key=key
    )
    with pytest.raises(Reject, match=r"archive refused: .* points outside the archive"):
        await make_handler(ctx)(event)


async def test_does_nothing_for_a_scan_that_already_ended(ctx: StageContext, tenant: Any) -> None:
    scan_id = await new_scan(ctx.pool, tenant.org_id)
    await ctx.pool.execute("UPDATE scans SET status = 'cancelled' WHERE id = $1", scan_id)
    event = ScanRequested(
        scan_id=scan_id, org_id=tenant.org_id, source_type="upload", upload_key="uploads/absent"
    )
    await make_handler(ctx)(event)  # no download attempted: the object does not even exist
    row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan_id)
    assert (row["status"], row["tree_key"], row["included_files"]) == ("cancelled", None, None)
