"""The endpoint index in PostgreSQL: written by the static stage, read by the API and the hunter."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import asyncpg

from vigil_common.db import Pool
from vigil_static_scan import mcp_detect
from vigil_static_scan.endpoints.model import Endpoint
from vigil_static_scan.endpoints.tree import extract

log = logging.getLogger(__name__)

_COLUMNS = ("method", "path", "file_path", "line", "handler", "framework", "auth", "auth_hint")


async def index_scan(pool: Pool, scan_id: uuid.UUID, org_id: uuid.UUID, tree: Path) -> str:
    """Index ``tree``'s routes and MCP-server nature into the scan; a note of what was done.

    Extraction is best-effort: if it breaks, the note says so (like a failed scanner) and the
    scan goes on without an index. Database errors propagate, so the stage is retried.
    """
    try:
        found = await asyncio.to_thread(extract, tree)
        mcp = await asyncio.to_thread(mcp_detect.detect, tree)
    except Exception as exc:  # a parser bug must never fail the scan
        log.warning("endpoint extraction failed", exc_info=exc)
        # Users see the type only: exception text may carry internal details (decisions.md).
        return f"endpoints failed: {type(exc).__name__}"
    await save_endpoints(pool, scan_id, org_id, found, is_mcp_server=mcp.is_server)
    unguarded = sum(not e.auth for e in found)
    note = f"endpoints: {len(found)} ({unguarded} without visible auth)"
    return note + (f"; MCP server ({mcp.evidence})" if mcp.is_server else "")


async def save_endpoints(
    pool: Pool,
    scan_id: uuid.UUID,
    org_id: uuid.UUID,
    found: list[Endpoint],
    *,
    is_mcp_server: bool,
) -> None:
    """Replace the scan's index (a redelivered message writes the same rows again)."""
    records = [
        (scan_id, seq, org_id, *(getattr(e, column) for column in _COLUMNS))
        for seq, e in enumerate(found)
    ]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM scan_endpoints WHERE scan_id = $1", scan_id)
        await conn.copy_records_to_table(
            "scan_endpoints", records=records, columns=["scan_id", "seq", "org_id", *_COLUMNS]
        )
        await conn.execute(
            "UPDATE scans SET endpoint_count = $2, is_mcp_server = $3 WHERE id = $1",
            scan_id,
            len(found),
            is_mcp_server,
        )


async def load_endpoints(pool: Pool, scan_id: uuid.UUID) -> list[Endpoint]:
    """The scan's endpoints in file and line order (empty when it has no index)."""
    rows = await pool.fetch(
        f"SELECT {', '.join(_COLUMNS)} FROM scan_endpoints WHERE scan_id = $1 ORDER BY seq",  # noqa: S608
        scan_id,
    )
    return [_endpoint(row) for row in rows]


def _endpoint(row: asyncpg.Record) -> Endpoint:
    return Endpoint(**{column: row[column] for column in _COLUMNS})
