"""The whole system in one call, for end-to-end tests: a throwaway embedded stack, the
migrations, and the six services as real processes (workers first, the gateway last)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from vigil_devstack.fs import make_temp_home
from vigil_devstack.ports import free_port
from vigil_devstack.services import (
    ServiceProcess,
    python_env,
    run_migrations,
    start_all,
    stop_all,
)
from vigil_devstack.stack import start_stack


@dataclass
class RunningSystem:
    """The gateway's URL, the services' environment, the processes and their log folder."""

    url: str
    env: dict[str, str]
    services: list[ServiceProcess]
    log_dir: Path


@contextmanager
def running_system(
    settings: Mapping[str, str], *, prefix: str = "vigil-system-"
) -> Iterator[RunningSystem]:
    """Run every service on a fresh stack with ``settings`` (``VIGIL_*``) beneath the stack's
    own addresses; stop all and delete the data folder on exit."""
    home = make_temp_home(prefix)
    try:
        with start_stack(home, throwaway=True) as stack:
            env = python_env({**settings, **stack.env})
            run_migrations(env)
            port = free_port()
            services = start_all(env, home / "logs", port)
            try:
                yield RunningSystem(f"http://127.0.0.1:{port}", env, services, home / "logs")
            finally:
                stop_all(services)
    finally:
        shutil.rmtree(home, ignore_errors=True)
