"""``make run``: the whole Vigil system on one machine, on embedded servers from PyPI wheels.

Starts NATS, PostgreSQL and S3 under ``VIGIL_HOME`` (default ``.vigil``) unless settings point
at external ones, applies migrations, makes sure the dev organisation has a key, starts the six
services and prints a first scan to try. Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Final

from vigil_common.sealing import generate_key
from vigil_devstack.services import (
    ServiceProcess,
    python_env,
    run_migrations,
    start_all,
    stop_all,
)
from vigil_devstack.stack import start_stack

log = logging.getLogger("vigil.run")

# An external server named by one of these settings replaces the embedded one.
EXTERNAL: Final = {
    "nats": "VIGIL_NATS_URL",
    "postgres": "VIGIL_DATABASE_URL",
    "s3": "VIGIL_S3_ENDPOINT",
}


def _raise_interrupt(_sig: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _sealing_key(home: Path) -> dict[str, str]:
    """``VIGIL_SEALING_KEY``: the one set, or one made once for this home and kept there."""
    if os.environ.get("VIGIL_SEALING_KEY"):
        return {}
    path = home / "sealing.key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(generate_key())
    return {"VIGIL_SEALING_KEY": path.read_text().strip()}


def _dev_key(env: Mapping[str, str]) -> str | None:
    """The dev key to show: the bootstrap setting, or a new one on the first run."""
    if env.get("VIGIL_BOOTSTRAP_API_KEY"):
        return env["VIGIL_BOOTSTRAP_API_KEY"]  # the gateway makes it a key at start-up
    result = subprocess.run(
        [sys.executable, "-m", "vigil_gateway.admin", "bootstrap"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() or None


def _banner(url: str, key: str | None, home: Path) -> str:
    shown = key or "<your key>"
    first = (
        f"  Dev API key (shown once, keep it): {key}\n"
        if key
        else "  The dev key was printed on the first run; make another with:\n"
        "    .venv/bin/python -m vigil_gateway.admin create-key --org dev --name me\n"
    )
    return f"""
Vigil is running at {url}   (data in {home}, logs in {home / "logs"})
{first}
  Try a first scan:
    python3 -m zipfile -c demo.zip examples/vulnerable-app
    curl -sS -X POST "{url}/v1/scans?project=demo" \\
      -H "Authorization: Bearer {shown}" \\
      -H "Content-Type: application/zip" --data-binary @demo.zip
    curl -sS "{url}/v1/scans/<id from the answer above>?include_findings=true" \\
      -H "Authorization: Bearer {shown}"

Press Ctrl-C to stop.
"""


def _supervise(services: list[ServiceProcess]) -> int:
    """Block until a service exits on its own (returns 1) or we are interrupted."""
    while True:
        for service in services:
            if service.process.poll() is not None:
                log.error(
                    "%s exited with code %s; stopping.\n%s",
                    service.name,
                    service.process.returncode,
                    service.log_tail(),
                )
                return 1
        time.sleep(0.5)


def run(home: Path) -> int:
    """Start everything, print how to use it, and supervise until interrupted."""
    skip = [name for name, setting in EXTERNAL.items() if os.environ.get(setting)]
    port = int(os.environ.get("VIGIL_GATEWAY_PORT", "8080"))
    with start_stack(home, skip=skip) as stack:
        env = python_env({"VIGIL_S3_CREATE_BUCKET": "true", **stack.env, **_sealing_key(home)})
        run_migrations(env)
        key = _dev_key(env)
        services = start_all(env, home / "logs", port)
        try:
            print(_banner(f"http://127.0.0.1:{port}", key, home), flush=True)
            return _supervise(services)
        except KeyboardInterrupt:
            log.info("stopping")
            return 0
        finally:
            stop_all(services)


def main() -> None:
    """Entry point of ``make run``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, _raise_interrupt)
    # A shell that starts us in the background hands us SIGINT ignored; Ctrl-C must stop us.
    signal.signal(signal.SIGINT, _raise_interrupt)
    home = Path(os.environ.get("VIGIL_HOME") or ".vigil").resolve()
    try:
        sys.exit(run(home))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
