"""Migrations, the scan state machine and finding writes against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import msgspec

from conftest import Tenant
from vigil_common import findings, scans
from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.migrate import migrate, migration_files
from vigil_common.schemas import Finding


async def test_concurrent_migrations_apply_each_version_once(settings: Settings) -> None:
    name = f"migrate_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(settings.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = settings.database_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        results = await asyncio.gather(*(migrate(url) for _ in range(5)))
        applied = [version for result in results for version in result]
        assert sorted(applied) == [version for version, _ in migration_files()]
        assert await migrate(url) == []
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def new_scan(pool: Pool, tenant: Tenant) -> dict[str, uuid.UUID]:
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id",
        tenant.org_id,
        f"p-{uuid.uuid4().hex[:6]}",
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status)"
        " VALUES ($1, $2, $3, 'upload', 'queued')",
        scan_id,
        tenant.org_id,
        project_id,
    )
    return {"id": scan_id, "org_id": tenant.org_id, "project_id": project_id}


def finding(rule: str, line: int) -> Finding:
    return Finding(
        scanner="semgrep", rule_id=rule, title=rule, severity="high", file_path="a.py",
        start_line=line, end_line=line,
        fingerprint=findings.fingerprint("semgrep", rule, "a.py", str(line)),
    )  # fmt: skip


async def test_terminal_states_never_change(pool: Pool, tenant: Tenant) -> None:
    scan = await new_scan(pool, tenant)
    assert await scans.start_stage(pool, scan["id"], "ingest") is not None
    assert await scans.fail_scan(pool, scan["id"], "first reason") is not None
    assert await scans.fail_scan(pool, scan["id"], "second reason") is None
    assert await scans.start_stage(pool, scan["id"], "static") is None
    assert await scans.complete_scan(pool, scan["id"], {}) is None
    row = await scans.fetch_scan(pool, scan["id"])
    assert row is not None
    assert (row["status"], row["error"]) == ("failed", "first reason")


async def test_history_rows_are_written_once(pool: Pool, tenant: Tenant) -> None:
    scan = await new_scan(pool, tenant)
    for _ in range(3):  # a redelivered message runs the stage again
        await scans.start_stage(pool, scan["id"], "ingest")
        await scans.finish_stage(pool, scan["id"], "ingest", "3 files")
    names = await pool.fetch("SELECT name FROM scan_events WHERE scan_id = $1", scan["id"])
    assert [row["name"] for row in names] == ["ingest.started", "ingest.done"]


async def test_findings_are_not_duplicated_when_written_again(pool: Pool, tenant: Tenant) -> None:
    scan = await new_scan(pool, tenant)
    batch = [finding("rule-a", 1), finding("rule-b", 2)]
    await findings.insert_findings(pool, scan, batch)
    await findings.insert_findings(pool, scan, batch)
    counts = await findings.severity_counts(pool, scan["id"])
    assert counts == {"critical": 0, "high": 2, "medium": 0, "low": 0, "info": 0}


async def test_identical_code_on_two_lines_is_two_findings(pool: Pool, tenant: Tenant) -> None:
    scan = await new_scan(pool, tenant)
    same = findings.fingerprint("semgrep", "rule-a", "a.py", "eval(x)")
    twice = [
        msgspec.structs.replace(finding("rule-a", line), fingerprint=same) for line in (3, 9, 9)
    ]
    await findings.insert_findings(pool, scan, twice)
    await findings.insert_findings(pool, scan, twice)  # a redelivery changes nothing
    rows = await pool.fetch(
        "SELECT start_line, fingerprint FROM findings WHERE scan_id = $1 ORDER BY start_line",
        scan["id"],
    )
    assert [row["start_line"] for row in rows] == [3, 9]
    assert rows[0]["fingerprint"] == same  # the first occurrence keeps the plain fingerprint
