"""The stuck-scan reaper against the session's real PostgreSQL and NATS.

Scans are written straight into the database in the states the pipeline leaves them in, their
clocks set back, so the timeout is exercised without waiting for it.
"""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from conftest import Tenant
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.errors import Retry
from vigil_common.reaper import reap_stuck
from vigil_common.schemas import ScanFailed
from vigil_common.subjects import SCAN_FAILED, STREAM

TIMEOUT = 60.0


async def _scan(
    pool: Pool, tenant: Tenant, status: str, stage: str | None, *, idle: int, admitted: bool = True
) -> uuid.UUID:
    """A scan in ``status``/``stage`` whose last change was ``idle`` seconds ago."""
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id",
        tenant.org_id, f"reaper-{uuid.uuid4().hex[:8]}",
    )  # fmt: skip
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status, stage, created_at,"
        " updated_at, admitted_at) VALUES ($1, $2, $3, 'upload', $4, $5,"
        " now() - make_interval(secs => $6), now() - make_interval(secs => $6),"
        " CASE WHEN $7 THEN now() - make_interval(secs => $6) END)",
        scan_id, tenant.org_id, project_id, status, stage, float(idle), admitted,
    )  # fmt: skip
    await pool.execute(
        "INSERT INTO scan_events (scan_id, name, status, at)"
        " VALUES ($1, 'queued', 'queued', now() - make_interval(secs => $2))",
        scan_id, float(idle),
    )  # fmt: skip
    return scan_id


async def _failed_events(js: JetStreamContext) -> list[ScanFailed]:
    """Every ``scan.failed`` message waiting in the stream (nothing consumes them here)."""
    info = await js.stream_info(STREAM)
    events = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(STREAM, seq)
        except nats.js.errors.NotFoundError:
            continue
        if msg.subject == SCAN_FAILED:
            events.append(msgspec.json.decode(msg.data or b"", type=ScanFailed))
    return events


async def _status(pool: Pool, scan_id: uuid.UUID) -> tuple[str, str | None]:
    row = await pool.fetchrow("SELECT status, error FROM scans WHERE id = $1", scan_id)
    return row["status"], row["error"]


async def test_a_scan_idle_past_the_timeout_is_failed_once_by_concurrent_reapers(
    pool: Pool, tenant: Tenant, nats_js: tuple[NATS, JetStreamContext]
) -> None:
    _, js = nats_js
    stuck = await _scan(pool, tenant, "running", "static", idle=3600)
    lost = await _scan(pool, tenant, "queued", None, idle=3600)
    reaped = await asyncio.gather(*(reap_stuck(pool, js, TIMEOUT) for _ in range(3)))
    assert sum(reaped) >= 2  # other tests' leftovers may be reaped too, never ours twice
    assert await _status(pool, stuck) == ("failed", "stuck: no progress in static for 60 s")
    assert await _status(pool, lost) == ("failed", "stuck: no progress in queue for 60 s")
    announced = [e for e in await _failed_events(js) if e.scan_id in (stuck, lost)]
    assert sorted((str(e.scan_id), e.stage, e.reason) for e in announced) == sorted([
        (str(stuck), "static", "stuck: no progress in static for 60 s"),
        (str(lost), None, "stuck: no progress in queue for 60 s"),
    ])  # fmt: skip
    history = await pool.fetch(
        "SELECT name, detail FROM scan_events WHERE scan_id = $1 ORDER BY seq", stuck
    )
    assert [(r["name"], r["detail"]) for r in history][-1] == (
        "failed", "stuck: no progress in static for 60 s",
    )  # fmt: skip
    assert await reap_stuck(pool, js, TIMEOUT) == 0  # terminal states never change


async def test_scans_that_move_wait_or_ended_are_left_alone(
    pool: Pool, tenant: Tenant, nats_js: tuple[NATS, JetStreamContext]
) -> None:
    _, js = nats_js
    busy = await _scan(pool, tenant, "running", "hunt", idle=10)
    recent_step = await _scan(pool, tenant, "running", "validate", idle=3600)
    await pool.execute(
        "INSERT INTO scan_events (scan_id, name, status, stage) VALUES ($1, 'validate.started',"
        " 'running', 'validate')",
        recent_step,
    )
    waiting_for_slot = await _scan(pool, tenant, "queued", None, idle=3600, admitted=False)
    waiting_for_upload = await _scan(pool, tenant, "created", None, idle=3600, admitted=False)
    ended = await _scan(pool, tenant, "completed", None, idle=3600)
    await reap_stuck(pool, js, TIMEOUT)
    for scan_id, status in [
        (busy, "running"), (recent_step, "running"), (waiting_for_slot, "queued"),
        (waiting_for_upload, "created"), (ended, "completed"),
    ]:  # fmt: skip
        assert await _status(pool, scan_id) == (status, None)
    assert not [e for e in await _failed_events(js) if e.scan_id in (busy, recent_step)]


async def test_without_the_bus_nothing_is_failed_silently(
    pool: Pool, tenant: Tenant, settings: Settings
) -> None:
    stuck = await _scan(pool, tenant, "running", "ingest", idle=3600)
    nc = await nats.connect(settings.nats_url)
    await nc.close()  # a bus that is gone: the announcement cannot go out
    with pytest.raises(Retry):
        await reap_stuck(pool, nc.jetstream(), TIMEOUT)
    assert await _status(pool, stuck) == ("running", None)
    history = await pool.fetchval("SELECT count(*) FROM scan_events WHERE scan_id = $1", stuck)
    assert history == 1
    await pool.execute("DELETE FROM scans WHERE id = $1", stuck)  # no leftover for others
