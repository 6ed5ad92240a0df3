"""Vigil's six services as child processes: started, probed for readiness, stopped in order.

Used by ``make run`` and by the end-to-end tests, so both run the system the same way. Each
service logs JSON lines to ``<log_dir>/<name>.log``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from vigil_devstack.ports import free_port

# Workers first, so that the gateway answers /healthz only once the pipeline can run.
WORKERS: Final = ("ingest", "static-scan", "ai-hunter", "validator", "notifier")
SERVICES: Final = (*WORKERS, "gateway")
STOP_GRACE_SECONDS: Final = 15.0


def module_of(service: str) -> str:
    """The Python package that runs ``service`` (``python -m <package>``)."""
    return "vigil_" + service.replace("-", "_")


@dataclass
class ServiceProcess:
    """A started service and where to reach and read it."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        """The service's HTTP address (the gateway's API, a worker's health port)."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the service's log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def send(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send ``sig`` unless the service has already exited."""
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Ask the service to stop, waiting for it; kill it past the grace period."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        self.wait_stopped()

    def wait_stopped(self) -> None:
        """Wait for the service to exit; kill it past the grace period."""
        try:
            self.process.wait(STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_service(
    name: str, env: Mapping[str, str], log_dir: Path, *, port: int | None = None
) -> ServiceProcess:
    """Start ``name`` with ``env``; ``port`` is the gateway's port or a worker's health port."""
    port = port or free_port()
    setting = "VIGIL_GATEWAY_PORT" if name == "gateway" else "VIGIL_HEALTH_PORT"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module_of(name)],
            env={**env, setting: str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher, which stops us in order
        )
    return ServiceProcess(name, process, port, log_path)


def wait_ready(service: ServiceProcess, path: str = "/readyz", timeout: float = 60.0) -> None:
    """Wait until ``GET path`` answers 200; raise with the log tail if it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with code {service.process.returncode}:\n"
                + service.log_tail()
            )
        if _answers_ok(service.base_url + path):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{service.name} was not ready after {timeout:.0f} s:\n{service.log_tail()}")


def _answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our loopback URL
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def start_all(env: Mapping[str, str], log_dir: Path, gateway_port: int) -> list[ServiceProcess]:
    """Start every service, workers first, each ready before the next; stop all on failure."""
    started: list[ServiceProcess] = []
    try:
        for name in SERVICES:
            port = gateway_port if name == "gateway" else None
            started.append(start_service(name, env, log_dir, port=port))
            wait_ready(started[-1])
    except BaseException:
        stop_all(started)
        raise
    return started


def stop_all(services: list[ServiceProcess]) -> None:
    """Stop the gateway first (no new scans), then every worker at once, and wait for all."""
    gateways = [service for service in services if service.name == "gateway"]
    for service in gateways:
        service.stop()
    for service in services:
        service.send()
    for service in services:
        service.wait_stopped()


def run_migrations(env: Mapping[str, str]) -> None:
    """Apply the database migrations (safe to repeat, and to run from several places at once)."""
    subprocess.run([sys.executable, "-m", "vigil_common.migrate"], env=env, check=True)


def python_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment with ``extra`` on top (services inherit the venv's PATH)."""
    return {**os.environ, **extra}
