"""The gateway's scan domain: creating scans and reading them back, scoped to an organisation."""

from __future__ import annotations

import re
import uuid
from typing import Final

import asyncpg

from vigil_common.db import Pool
from vigil_common.scans import record_event
from vigil_gateway.errors import invalid
from vigil_gateway.models import FileCounts, FindingOut, HistoryEntry, ScanOut, Source

PROJECT_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
DEFAULT_PROJECT: Final = "default"


def parse_project(name: str | None) -> str:
    """A valid project name (letters, digits, ``. _ / -``; at most 200), or 422."""
    name = DEFAULT_PROJECT if name is None else name
    if not PROJECT_NAME.fullmatch(name):
        raise invalid(
            "project must be 1-200 characters of letters, digits, '.', '_', '/' or '-',"
            " starting with a letter or digit",
            field="project",
        )
    return name


async def create_upload_scan(
    pool: Pool, org_id: uuid.UUID, project: str, scan_id: uuid.UUID, upload_key: str, fmt: str
) -> None:
    """Record a queued scan of an uploaded archive (its project created on first use)."""
    async with pool.acquire() as conn, conn.transaction():
        project_id = await conn.fetchval(
            "INSERT INTO projects (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name)"
            " DO UPDATE SET name = EXCLUDED.name RETURNING id",
            org_id,
            project,
        )
        await conn.execute(
            "INSERT INTO scans (id, org_id, project_id, source_type, archive_format, upload_key,"
            " status) VALUES ($1, $2, $3, 'upload', $4, $5, 'queued')",
            scan_id,
            org_id,
            project_id,
            fmt,
            upload_key,
        )
        await record_event(conn, scan_id, "queued", "queued")


async def load_scan(pool: Pool, org_id: uuid.UUID, scan_id: uuid.UUID) -> ScanOut | None:
    """The scan with its history and findings, if it belongs to ``org_id``."""
    row = await pool.fetchrow(
        "SELECT s.*, p.name AS project FROM scans s JOIN projects p ON p.id = s.project_id"
        " WHERE s.id = $1 AND s.org_id = $2",
        scan_id,
        org_id,
    )
    if row is None:
        return None
    history = await pool.fetch(
        "SELECT name, status, stage, detail, at FROM scan_events WHERE scan_id = $1 ORDER BY seq",
        scan_id,
    )
    findings = await pool.fetch(
        "SELECT * FROM findings WHERE scan_id = $1 ORDER BY"
        " array_position(ARRAY['critical','high','medium','low','info'], severity),"
        " file_path, start_line",
        scan_id,
    )
    return _scan_out(row, history, findings)


def _scan_out(
    row: asyncpg.Record, history: list[asyncpg.Record], findings: list[asyncpg.Record]
) -> ScanOut:
    return ScanOut(
        id=row["id"],
        project=row["project"],
        status=row["status"],
        stage=row["stage"],
        error=row["error"],
        source=Source(
            type=row["source_type"],
            format=row["archive_format"],
            repo_url=row["repo_url"],
            ref=row["ref"],
            commit=row["commit_sha"],
        ),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        files=FileCounts(total=row["total_files"], bytes=row["total_bytes"]),
        languages=row["languages"] or {},
        finding_counts=row["finding_counts"] or {},
        history=[HistoryEntry(**dict(entry)) for entry in history],
        findings=[_finding_out(finding) for finding in findings],
    )


def _finding_out(row: asyncpg.Record) -> FindingOut:
    fields = {name: row[name] for name in FindingOut.__struct_fields__}
    return FindingOut(**fields)
