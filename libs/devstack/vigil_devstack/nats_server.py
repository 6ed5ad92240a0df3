"""NATS server with JetStream, on kernel-chosen loopback ports."""

import http.client
import json
import signal
from pathlib import Path

from vigil_devstack.binaries import venv_binary
from vigil_devstack.fs import ensure_dir
from vigil_devstack.process import (
    NotReadyError,
    RunningServer,
    log,
    reclaim,
    spawn,
    wait_until,
)

# JetStream would otherwise reserve 75% of RAM and most of the disk.
MAX_MEMORY_STORE = "256MB"
MAX_FILE_STORE = "2GB"


def start_nats(data_dir: Path) -> RunningServer:
    """Start nats-server with JetStream; its streams persist in data_dir/jetstream.

    env: VIGIL_NATS_URL=nats://127.0.0.1:PORT
    """
    data_dir = ensure_dir(data_dir)
    reclaim(data_dir, "nats", signal.SIGTERM)
    for stale in data_dir.glob("nats-server_*.ports"):
        stale.unlink()
    config = _write_config(data_dir)
    server = spawn(
        "nats", [venv_binary("nats-server"), "-c", config], data_dir=data_dir, log_name="nats.log"
    )
    urls = wait_until(server, lambda: _read_ports_file(server), timeout=20, what="listening")
    wait_until(server, lambda: _healthy(urls["monitoring"]), timeout=20, what="healthy")
    server.env = {"VIGIL_NATS_URL": urls["client"]}
    server.ports = {name: int(url.rsplit(":", 1)[1]) for name, url in urls.items()}
    log.info("nats ready at %s", urls["client"])
    return server


def _write_config(data_dir: Path) -> Path:
    """Write the server config; port -1 lets the server pick a free port (no races)."""
    config = data_dir / "nats.conf"
    config.write_text(
        "# Written by vigil-devstack at every start: edits are overwritten.\n"
        'listen: "127.0.0.1:-1"\n'
        'http: "127.0.0.1:-1"\n'
        f"ports_file_dir: {json.dumps(str(data_dir))}\n"
        "jetstream {\n"
        f"  store_dir: {json.dumps(str(data_dir))}\n"
        f"  max_memory_store: {MAX_MEMORY_STORE}\n"
        f"  max_file_store: {MAX_FILE_STORE}\n"
        "}\n"
    )
    return config


def _read_ports_file(server: RunningServer) -> dict[str, str]:
    """Client and monitoring URLs from the ports file nats-server writes once listening."""
    path = server.data_dir / f"nats-server_{server.pid}.ports"
    try:
        ports = json.loads(path.read_text())
        return {"client": ports["nats"][0], "monitoring": ports["monitoring"][0]}
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise NotReadyError(f"no ports file yet ({error})") from error


def _healthy(monitoring_url: str) -> bool:
    """Check /healthz with JetStream. http.client, unlike urllib, ignores *_proxy settings."""
    host, port = monitoring_url.removeprefix("http://").rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=2)
    try:
        connection.request("GET", "/healthz?js-enabled-only=true")
        status = connection.getresponse().status
    except OSError as error:
        raise NotReadyError(str(error)) from error
    finally:
        connection.close()
    if status != 200:
        raise NotReadyError(f"/healthz answered {status}")
    return True
