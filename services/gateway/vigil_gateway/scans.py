"""The gateway's scan domain in SQL: create, read, list, start and cancel, scoped to an org."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, Final, TypeVar

import asyncpg
import msgspec

from vigil_common.db import Pool
from vigil_common.scans import TERMINAL, record_event
from vigil_gateway.errors import invalid
from vigil_gateway.models import (
    Complexity,
    FileCounts,
    FindingOut,
    HistoryEntry,
    LanguageStats,
    LaunchBlocker,
    LLMUsage,
    ScanList,
    ScanOut,
    ScanSummary,
    SkippedFile,
    Source,
)
from vigil_gateway.pagination import Page, encode_cursor, keyset_clause

PROJECT_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
DEFAULT_PROJECT: Final = "default"
STATUSES: Final = frozenset({"created", "queued", "running", *TERMINAL})

_SELECT: Final = "SELECT s.*, p.name AS project FROM scans s JOIN projects p ON p.id = s.project_id"


# The scan and its history in one row (migration 0018 keeps the history copy on the scan):
# this is the API's most frequent read. The jsonb columns only this read shows come as text
# and are decoded straight into their types below: one pass each, no generic decode first.
_SCAN_COLUMNS: Final = (
    "s.id, s.org_id, s.project_id, s.source_type, s.archive_format, s.repo_url, s.ref,"
    " s.commit_sha, s.language_hint, s.status, s.stage, s.error, s.created_at, s.started_at,"
    " s.finished_at, s.total_files, s.total_bytes, s.included_files, s.included_bytes,"
    " s.ignored_files, s.risky_skipped_files, s.complexity_score, s.complexity_label,"
    " s.finding_counts, s.score, s.grade, s.launch_readiness, s.summary, s.endpoint_count,"
    " s.is_mcp_server, s.languages::text AS languages, s.language_stats::text AS language_stats,"
    " s.skipped_files::text AS skipped_files, s.launch_blockers::text AS launch_blockers,"
    " s.llm_usage::text AS llm_usage, s.history::text AS history"
)
_LANGUAGES: Final = msgspec.json.Decoder(dict[str, int] | None)
_LANGUAGE_STATS: Final = msgspec.json.Decoder(dict[str, LanguageStats] | None, strict=False)
_SKIPPED: Final = msgspec.json.Decoder(list[SkippedFile] | None, strict=False)
_BLOCKERS: Final = msgspec.json.Decoder(list[LaunchBlocker] | None, strict=False)
_LLM_USAGE: Final = msgspec.json.Decoder(dict[str, LLMUsage] | None, strict=False)
_HISTORY: Final = msgspec.json.Decoder(list[HistoryEntry], strict=False)
T = TypeVar("T")

# Only fixed text is formatted in (the column list); every value is a $n parameter.
_WITH_HISTORY: Final = f"""
SELECT {_SCAN_COLUMNS}, p.name AS project, s.xmin::text AS version,
    CASE WHEN s.status = 'queued' AND s.admitted_at IS NULL THEN (
        SELECT count(*) + 1 FROM scans w WHERE w.org_id = s.org_id AND w.status = 'queued'
            AND w.admitted_at IS NULL AND (w.created_at, w.id) < (s.created_at, s.id)
    ) END AS queue_position
FROM scans s JOIN projects p ON p.id = s.project_id
WHERE s.id = $1 AND s.org_id = $2
"""  # noqa: S608


class NewScan(msgspec.Struct, kw_only=True, frozen=True):
    """What the gateway records when a scan is created."""

    id: uuid.UUID
    org_id: uuid.UUID
    project: str
    source_type: str
    status: str
    archive_format: str | None = None
    upload_key: str | None = None
    repo_url: str | None = None
    ref: str | None = None
    callback_url: str | None = None
    callback_secret_sealed: str | None = None
    language_hint: str | None = None


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


async def create_scan(pool: Pool, scan: NewScan) -> None:
    """Record a scan (its project created on first use) and the first step of its history."""
    async with pool.acquire() as conn, conn.transaction():
        project_id = await conn.fetchval(
            "INSERT INTO projects (org_id, name) VALUES ($1, $2) ON CONFLICT (org_id, name)"
            " DO UPDATE SET name = EXCLUDED.name RETURNING id",
            scan.org_id,
            scan.project,
        )
        await conn.execute(
            "INSERT INTO scans (id, org_id, project_id, source_type, archive_format, upload_key,"
            " repo_url, ref, status, callback_url, callback_secret_sealed, language_hint)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            scan.id,
            scan.org_id,
            project_id,
            scan.source_type,
            scan.archive_format,
            scan.upload_key,
            scan.repo_url,
            scan.ref,
            scan.status,
            scan.callback_url,
            scan.callback_secret_sealed,
            scan.language_hint,
        )
        await record_event(conn, scan.id, scan.status, scan.status)


async def queue_created_scan(pool: Pool, org_id: uuid.UUID, scan_id: uuid.UUID) -> bool:
    """Move a scan waiting for its upload to ``queued``; False if it was not waiting."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE scans SET status = 'queued', updated_at = now()"
            " WHERE id = $1 AND org_id = $2 AND status = 'created' RETURNING id",
            scan_id,
            org_id,
        )
        if row is not None:
            await record_event(conn, scan_id, "queued", "queued")
        return row is not None


async def cancel_scan(pool: Pool, org_id: uuid.UUID, scan_id: uuid.UUID) -> bool:
    """End a scan that has not finished as ``cancelled``; False if it already ended."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "UPDATE scans SET status = 'cancelled', finished_at = now(), updated_at = now()"
            " WHERE id = $1 AND org_id = $2 AND NOT status = ANY($3::text[]) RETURNING stage",
            scan_id,
            org_id,
            list(TERMINAL),
        )
        if row is not None:
            await record_event(conn, scan_id, "cancelled", "cancelled", row["stage"])
        return row is not None


async def scan_row(pool: Pool, org_id: uuid.UUID, scan_id: uuid.UUID) -> asyncpg.Record | None:
    """The scan's row with its project name, if it belongs to ``org_id``."""
    return await pool.fetchrow(f"{_SELECT} WHERE s.id = $1 AND s.org_id = $2", scan_id, org_id)


async def scan_version(pool: Pool, org_id: uuid.UUID, scan_id: uuid.UUID) -> str | None:
    """The version of the scan's row (new on every update), if it belongs to ``org_id``."""
    version: str | None = await pool.fetchval(
        "SELECT xmin::text FROM scans WHERE id = $1 AND org_id = $2", scan_id, org_id
    )
    return version


async def load_scan(
    pool: Pool, org_id: uuid.UUID, scan_id: uuid.UUID, *, with_findings: bool = False
) -> ScanOut | None:
    """The scan with its history (and findings when asked), if it belongs to ``org_id``."""
    loaded = await load_versioned_scan(pool, org_id, scan_id, with_findings=with_findings)
    return None if loaded is None else loaded[0]


async def load_versioned_scan(
    pool: Pool, org_id: uuid.UUID, scan_id: uuid.UUID, *, with_findings: bool = False
) -> tuple[ScanOut, str] | None:
    """``load_scan`` and the version of the row it was read from."""
    row = await pool.fetchrow(_WITH_HISTORY, scan_id, org_id)
    if row is None:
        return None
    findings = None
    if with_findings:
        rows = await pool.fetch(
            "SELECT * FROM findings WHERE scan_id = $1 ORDER BY"
            " array_position(ARRAY['critical','high','medium','low','info'], severity),"
            " file_path, start_line",
            scan_id,
        )
        findings = [finding_out(finding) for finding in rows]
    scan = ScanOut(
        **_summary_fields(row),
        languages=_decoded(_LANGUAGES, row["languages"], {}),
        language_stats=_decoded(_LANGUAGE_STATS, row["language_stats"], {}),
        complexity=_complexity(row),
        skipped_files=_decoded(_SKIPPED, row["skipped_files"], []),
        queue_position=row["queue_position"],
        history=_HISTORY.decode(row["history"]),
        launch_blockers=_decoded(_BLOCKERS, row["launch_blockers"], []),
        summary=row["summary"],
        findings=findings,
        endpoint_count=row["endpoint_count"],
        is_mcp_server=row["is_mcp_server"],
        llm_usage=_decoded(_LLM_USAGE, row["llm_usage"], {}),
    )
    return scan, row["version"]


def _decoded(decoder: msgspec.json.Decoder[T | None], text: str | None, empty: T) -> T:
    """A jsonb column read as text, decoded as its type; ``empty`` when it is NULL or null."""
    if text is None:
        return empty
    value = decoder.decode(text)
    return empty if value is None else value


async def list_scans(
    pool: Pool,
    org_id: uuid.UUID,
    page: Page,
    *,
    statuses: list[str],
    project: str | None,
    since: dt.datetime | None,
) -> ScanList:
    """A page of the organisation's scans, newest first, filtered."""
    keyset, args = keyset_clause(page, 5, "s")
    rows = await pool.fetch(
        f"{_SELECT} WHERE s.org_id = $1 AND (cardinality($2::text[]) = 0 OR s.status = ANY($2))"
        f" AND ($3::text IS NULL OR p.name = $3) AND ($4::timestamptz IS NULL OR"
        f" s.created_at >= $4) AND {keyset} ORDER BY s.created_at DESC, s.id DESC"
        f" LIMIT {page.limit + 1}",
        org_id,
        statuses,
        project,
        since,
        *args,
    )
    items = [ScanSummary(**_summary_fields(row)) for row in rows[: page.limit]]
    more = len(rows) > page.limit
    last = rows[page.limit - 1] if more else None
    return ScanList(items, encode_cursor(last["created_at"], last["id"]) if last else None)


def _summary_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "project": row["project"],
        "status": row["status"],
        "stage": row["stage"],
        "error": row["error"],
        "source": Source(
            type=row["source_type"],
            format=row["archive_format"],
            repo_url=row["repo_url"],
            ref=row["ref"],
            commit=row["commit_sha"],
            language_hint=row["language_hint"],
        ),
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "files": FileCounts(
            total=row["total_files"],
            bytes=row["total_bytes"],
            included=row["included_files"],
            included_bytes=row["included_bytes"],
            ignored=row["ignored_files"],
            skipped=row["risky_skipped_files"],
        ),
        "finding_counts": row["finding_counts"] or {},
        "score": row["score"],
        "grade": row["grade"],
        "launch_readiness": row["launch_readiness"],
    }


def _complexity(row: asyncpg.Record) -> Complexity | None:
    if row["complexity_score"] is None:
        return None
    return Complexity(score=row["complexity_score"], label=row["complexity_label"])


def finding_out(row: asyncpg.Record) -> FindingOut:
    """A finding row as the API shows it; an accepted risk past its date shows as unreviewed."""
    fields = {name: row[name] for name in FindingOut.__struct_fields__}
    until = row["validity_until"]
    if row["validity"] == "acknowledged" and until is not None and until <= dt.datetime.now(dt.UTC):
        fields["validity"] = "unreviewed"
    return FindingOut(**fields)
