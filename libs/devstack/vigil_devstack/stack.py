"""The whole local stack: NATS, PostgreSQL and S3 started together under one home folder."""

import time
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from types import TracebackType

from vigil_devstack.fs import ensure_dir
from vigil_devstack.nats_server import start_nats
from vigil_devstack.postgres_server import start_postgres
from vigil_devstack.process import RunningServer, log
from vigil_devstack.s3_server import start_s3

SERVER_NAMES = ("nats", "postgres", "s3")


class Stack:
    """Running servers by name; a context manager that stops them all on exit."""

    def __init__(self, servers: dict[str, RunningServer]) -> None:
        self.servers = servers
        self.env: dict[str, str] = {}
        for server in servers.values():
            self.env.update(server.env)

    def __enter__(self) -> "Stack":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop every server, in reverse start order; calling it again does nothing."""
        for server in reversed(list(self.servers.values())):
            server.stop()


def start_stack(home: Path, *, throwaway: bool = False, skip: Collection[str] = ()) -> Stack:
    """Start the servers concurrently, each in home/<name>; `skip` names external ones.

    If one fails, the others are stopped and its error is raised.
    """
    unknown = set(skip) - set(SERVER_NAMES)
    if unknown:
        raise ValueError(f"unknown server names in skip: {sorted(unknown)}")
    home = ensure_dir(home)
    starters: dict[str, Callable[[], RunningServer]] = {
        "nats": partial(start_nats, home / "nats"),
        "postgres": partial(start_postgres, home / "postgres", throwaway=throwaway),
        "s3": partial(start_s3, home / "s3"),
    }
    began = time.monotonic()
    servers = _start_all({name: start for name, start in starters.items() if name not in skip})
    log.info("stack ready in %.2f s", time.monotonic() - began)
    return Stack(servers)


def _start_all(starters: dict[str, Callable[[], RunningServer]]) -> dict[str, RunningServer]:
    """Run the starters in threads; on any failure stop what did start and re-raise."""
    if not starters:
        return {}
    with ThreadPoolExecutor(len(starters), thread_name_prefix="devstack") as pool:
        futures = {name: pool.submit(start) for name, start in starters.items()}
        servers, error = _collect(futures)
    if error is not None:
        for server in reversed(list(servers.values())):
            server.stop()
        raise error
    return servers


def _collect(
    futures: dict[str, "Future[RunningServer]"],
) -> tuple[dict[str, RunningServer], BaseException | None]:
    """Wait for every start, even after a failure or Ctrl-C, so that nothing is left behind."""
    servers: dict[str, RunningServer] = {}
    error: BaseException | None = None
    for name, future in futures.items():
        while True:
            try:
                servers[name] = future.result()
            except KeyboardInterrupt as interrupt:
                error = error or interrupt
                continue  # the start still finishes (bounded by its timeout); wait for it
            except BaseException as failure:
                error = error or failure
            break
    return servers, error
