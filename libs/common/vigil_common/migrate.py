"""Apply Vigil's plain-SQL migrations in order, once, under a PostgreSQL advisory lock.

Several replicas may start at once: the advisory lock makes the others wait, then find
nothing left to apply. Each file runs in its own transaction with its version row.
Run as ``python -m vigil_common.migrate`` (or ``vigil-migrate``).
"""

from __future__ import annotations

import asyncio
import importlib.resources
import logging
import sys
from typing import Final

import asyncpg

from vigil_common.config import SettingsError, load_settings
from vigil_common.logs import setup_logging

log = logging.getLogger(__name__)

# Any constant works; this one spells "vigil" so it is recognisable in pg_locks.
ADVISORY_LOCK_KEY: Final = 0x766967696C

_CREATE_LEDGER: Final = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""


def migration_files() -> list[tuple[str, str]]:
    """Every migration as ``(version, sql)``, ordered by file name."""
    folder = importlib.resources.files("vigil_common") / "migrations"
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".sql")),
        key=lambda entry: entry.name,
    )
    return [(entry.name.removesuffix(".sql"), entry.read_text("utf-8")) for entry in files]


async def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; return the versions applied by this call."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", ADVISORY_LOCK_KEY)
        try:
            return await _apply_pending(conn)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", ADVISORY_LOCK_KEY)
    finally:
        await conn.close()


async def _apply_pending(conn: asyncpg.Connection) -> list[str]:
    await conn.execute(_CREATE_LEDGER)
    done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
    applied = []
    for version, sql in migration_files():
        if version in done:
            continue
        async with conn.transaction():
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        log.info("applied migration %s", version)
        applied.append(version)
    return applied


def main() -> None:
    """Command-line entry point: migrate the database named by ``VIGIL_DATABASE_URL``."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        sys.exit(f"vigil-migrate: {exc}")
    setup_logging("migrate", settings.log_level, settings.log_format)
    applied = asyncio.run(migrate(settings.database_url))
    log.info("database is up to date", extra={"applied": applied})


if __name__ == "__main__":
    main()
