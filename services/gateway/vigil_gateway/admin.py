"""Operator commands: ``python -m vigil_gateway.admin <command>`` (also ``vigil-admin``).

``create-key --org NAME [--name N] [--scope S …]`` creates the organisation if needed and a key,
printed once. ``bootstrap`` makes sure the dev organisation exists and, when it has no key yet,
creates one with every scope and prints it (``make run`` calls this).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from vigil_common.config import SettingsError, load_settings
from vigil_common.db import Pool, connect_pool
from vigil_gateway.keys import DEV_ORGANISATION, SCOPES, create_key, ensure_organisation


async def _create_key(pool: Pool, org: str, name: str, scopes: tuple[str, ...]) -> str:
    org_id = await ensure_organisation(pool, org)
    key = await create_key(pool, org_id, name, scopes)
    assert key is not None  # a fresh random key cannot collide
    return key


async def _bootstrap(pool: Pool) -> str | None:
    org_id = await ensure_organisation(pool, DEV_ORGANISATION)
    if await pool.fetchval("SELECT count(*) FROM api_keys WHERE org_id = $1", org_id):
        return None
    return await create_key(pool, org_id, "dev", SCOPES)


async def _run(args: argparse.Namespace) -> str | None:
    pool = await connect_pool(load_settings(), min_size=1)
    try:
        if args.command == "bootstrap":
            return await _bootstrap(pool)
        return await _create_key(pool, args.org, args.name, tuple(args.scope or SCOPES))
    finally:
        await pool.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil-admin", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("bootstrap", help="ensure the dev organisation and its first key")
    create = commands.add_parser("create-key", help="create an organisation's API key")
    create.add_argument("--org", default=DEV_ORGANISATION, help="organisation name")
    create.add_argument("--name", default="admin", help="a label for the key")
    create.add_argument(
        "--scope", action="append", choices=SCOPES, help="repeat for several (default: all)"
    )
    return parser


def main() -> None:
    """Entry point: prints the new key, alone on stdout, when one is created."""
    args = _parser().parse_args()
    try:
        key = asyncio.run(_run(args))
    except SettingsError as exc:
        sys.exit(f"vigil-admin: {exc}")
    if key:
        print(key)


if __name__ == "__main__":
    main()
