"""vigil-osv-sync against a local server serving OSV-style ``all.zip`` exports built here."""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web

from vigil_static_scan.deps.audit import audit
from vigil_static_scan.deps.osv_index import describe_source, load_index
from vigil_static_scan.deps.sync import SyncError, main, sync

OSV_DIR = Path(
    os.environ.get("VIGIL_OSV_DIR") or Path(__file__).resolve().parents[4] / "shared" / "osv"
)
pytestmark = pytest.mark.skipif(
    not OSV_DIR.is_dir(), reason=f"offline OSV folder {OSV_DIR} not found (set VIGIL_OSV_DIR)"
)
RECORDS = {"PyPI": ["PYSEC-2023-74"], "npm": ["x_NSWG-ECO-516", "x_NSWG-ECO-1"]}
EXPORTS = web.AppKey("exports", dict)


def _export(ecosystem: str) -> bytes:
    """An ``all.zip`` as OSV publishes it (flat ``<ID>.json``), plus two hostile members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for vuln_id in RECORDS[ecosystem]:
            archive.writestr(
                f"{vuln_id}.json", (OSV_DIR / ecosystem / f"{vuln_id}.json").read_bytes()
            )
        archive.writestr("../escape.json", b"{}")
        archive.writestr("nested/inner.json", b"{}")
    return buffer.getvalue()


async def _serve(request: web.Request) -> web.Response:
    body = request.app[EXPORTS].get(request.match_info["ecosystem"])
    if body is None:
        raise web.HTTPNotFound()
    return web.Response(body=body, content_type="application/zip")


@pytest.fixture
async def exports(unused_tcp_port: int) -> AsyncIterator[tuple[str, dict[str, bytes]]]:
    app = web.Application()
    app[EXPORTS] = served = {eco: _export(eco) for eco in RECORDS}
    app.router.add_get("/{ecosystem}/all.zip", _serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield f"http://127.0.0.1:{unused_tcp_port}", served
    await runner.cleanup()


async def test_sync_writes_the_layout_the_index_reads(
    exports: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    base, _ = exports
    dest = tmp_path / "osv"
    snapshot = await asyncio.to_thread(sync, dest, ["PyPI", "npm"], base)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        "PyPI/PYSEC-2023-74.json",
        "npm/x_NSWG-ECO-1.json",
        "npm/x_NSWG-ECO-516.json",
        "snapshot.json",
    ]
    assert json.loads((dest / "snapshot.json").read_text()) == {
        "date": today,
        "source": base,
        "ecosystems": {"PyPI": 1, "npm": 2},
    }
    assert (snapshot.date, snapshot.ecosystems) == (today, {"PyPI": 1, "npm": 2})
    assert not (tmp_path / "escape.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["osv"]
    index = load_index(dest)
    assert index.records == 3
    assert index.source == f"OSV offline, {dest.resolve()}, snapshot {today}"
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "requirements.txt").write_text("requests==2.30.0\n")
    found, note = audit(tmp_path / "tree", str(dest))
    assert [f.rule_id for f in found] == ["PYSEC-2023-74"]
    assert note.endswith(f"(OSV offline, {dest.resolve()}, snapshot {today})")


async def test_a_second_sync_replaces_the_snapshot_and_the_index(
    exports: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    base, _ = exports
    dest = tmp_path / "osv"
    await asyncio.to_thread(sync, dest, ["PyPI", "npm"], base)
    assert load_index(dest).records == 3
    os.utime(dest / "snapshot.json", ns=(0, 0))  # a sync within the same clock tick still shows
    await asyncio.to_thread(sync, dest, ["npm"], base)
    assert sorted(p.name for p in dest.iterdir()) == ["npm", "snapshot.json"]
    assert load_index(dest).records == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["osv"]


async def test_a_failed_download_leaves_the_old_snapshot(
    exports: tuple[str, dict[str, bytes]], tmp_path: Path
) -> None:
    base, served = exports
    dest = tmp_path / "osv"
    await asyncio.to_thread(sync, dest, ["npm"], base)
    with pytest.raises(SyncError, match=r"^Go: could not download http://127\.0\.0\.1:\d+/Go/all"):
        await asyncio.to_thread(sync, dest, ["npm", "Go"], base)
    served["npm"] = b"not a zip"
    with pytest.raises(SyncError, match=r"^npm: the export is not a readable zip"):
        await asyncio.to_thread(sync, dest, ["npm"], base)
    assert sorted(p.name for p in (dest / "npm").iterdir()) == [
        "x_NSWG-ECO-1.json",
        "x_NSWG-ECO-516.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["osv"]


async def test_the_command_line(
    exports: tuple[str, dict[str, bytes]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = exports
    dest = tmp_path / "osv"
    argv = ["--dest", str(dest), "--ecosystem", "PyPI", "--ecosystem", "npm", "--base-url", base]
    assert await asyncio.to_thread(main, argv) == 0
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert capsys.readouterr().out == (
        f"vigil-osv-sync: {dest} snapshot {today}: PyPI 1, npm 2 records\n"
    )
    assert describe_source(dest) == f"OSV offline, {dest}, snapshot {today}"
    assert await asyncio.to_thread(main, [*argv[:2], "--ecosystem", "Go", "--base-url", base]) == 1
    assert capsys.readouterr().err.startswith("vigil-osv-sync: Go: could not download ")
