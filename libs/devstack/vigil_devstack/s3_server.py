"""S3 server: SeaweedFS `weed mini` bound to loopback, with enforced credentials."""

import json
import os
import secrets
import signal
import socket
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from vigil_devstack.binaries import venv_binary
from vigil_devstack.fs import ensure_dir
from vigil_devstack.ports import LOOPBACK, free_port_pair, free_ports
from vigil_devstack.process import (
    NotReadyError,
    RunningServer,
    StartupError,
    clean_env,
    log,
    reclaim,
    retry_on_port_clash,
    spawn,
    wait_until,
)

if TYPE_CHECKING:  # stubs only: not needed at run time
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"
IDENTITIES_FILE = "s3-identities.json"
# Every port `weed mini` would otherwise take at a fixed default. webdav.port is probed at
# start-up even with -webdav=false, so it gets a free port too.
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "webdav.port",
)
# The embedded maintenance worker dials the admin gRPC at admin.port + 10000, whatever
# -admin.port.grpc says, so the admin ports must be exactly that far apart.
_ADMIN_GRPC_OFFSET = 10000
_FIXED_FLAGS = (
    f"-ip={LOOPBACK}",
    f"-ip.bind={LOOPBACK}",  # binds 0.0.0.0 otherwise
    "-s3.port.iceberg=0",  # 0 disables the Iceberg catalog (default port 8181)
    "-s3.port.lance=0",  # 0 disables the Lance namespace server (default port 9101)
    "-webdav=false",
    "-admin.ui=false",
    "-master.telemetry=false",
    "-volume.preStopSeconds=0",  # mini waits 1 s before stopping otherwise
)
# weed adopts AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY as an identity, S3_BUCKET and
# friends as settings, and WEED_* as config overrides: start it without any of them.
_HIDDEN_ENV = ("AWS_", "S3_", "WEED_")
_WEED_SOCKET_DIR = Path("/tmp")  # noqa: S108 - hard-coded in weed, not our choice


def start_s3(data_dir: Path, *, bucket: str = "vigil") -> RunningServer:
    """Start an S3 server with objects under data_dir/data and `bucket` created.

    The access key and secret are generated once per data folder and reused.
    env: VIGIL_S3_ENDPOINT, VIGIL_S3_ACCESS_KEY, VIGIL_S3_SECRET_KEY, VIGIL_S3_BUCKET,
    VIGIL_S3_REGION
    """
    data_dir = ensure_dir(data_dir)
    reclaim(data_dir, "s3", signal.SIGTERM)
    _remove_stale_sockets(_previous_ports(data_dir))  # e.g. after a crash of the last run
    access_key, secret_key = _credentials(data_dir / IDENTITIES_FILE)
    for folder in ("data", "logs"):
        (data_dir / folder).mkdir(exist_ok=True)
    server = retry_on_port_clash(lambda: _launch(data_dir, access_key, secret_key, bucket))
    server.env = {
        "VIGIL_S3_ENDPOINT": f"http://{LOOPBACK}:{server.ports['s3.port']}",
        "VIGIL_S3_ACCESS_KEY": access_key,
        "VIGIL_S3_SECRET_KEY": secret_key,
        "VIGIL_S3_BUCKET": bucket,
        "VIGIL_S3_REGION": REGION,
    }
    log.info("s3 ready at %s (bucket %s)", server.env["VIGIL_S3_ENDPOINT"], bucket)
    return server


def s3_client(endpoint: str, access_key: str, secret_key: str, *, attempts: int = 3) -> "S3Client":
    """A boto3 S3 client for the embedded server (path-style, SigV4, no proxies)."""
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": attempts, "mode": "standard"},
        connect_timeout=2,
        read_timeout=10,
        proxies={},  # an empty dict, unlike None, stops botocore reading *_proxy settings
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=config,
    )


def _launch(data_dir: Path, access_key: str, secret_key: str, bucket: str) -> RunningServer:
    """Start weed on new free ports and wait until `bucket` exists."""
    ports = dict(zip(_PORT_FLAGS, free_ports(len(_PORT_FLAGS)), strict=True))
    ports["admin.port"], ports["admin.port.grpc"] = free_port_pair(_ADMIN_GRPC_OFFSET)
    argv = _weed_argv(data_dir, ports)
    server = spawn("s3", argv, data_dir=data_dir, log_name="weed.log", env=clean_env(*_HIDDEN_ENV))
    server.ports = ports
    server.cleanup = partial(_remove_stale_sockets, ports.values())
    client = s3_client(f"http://{LOOPBACK}:{ports['s3.port']}", access_key, secret_key, attempts=1)
    wait_until(server, lambda: _create_bucket(client, bucket), timeout=30, what="serving S3")
    return server


def _weed_argv(data_dir: Path, ports: dict[str, int]) -> list[str]:
    """`weed mini` command line with every port explicit and everything on loopback."""
    return [
        str(venv_binary("weed")),
        f"-logdir={data_dir / 'logs'}",  # a global flag: must come before `mini`
        "mini",
        f"-dir={data_dir / 'data'}",
        f"-s3.config={data_dir / IDENTITIES_FILE}",  # without it, any key is accepted
        *(f"-{flag}={port}" for flag, port in ports.items()),
        *_FIXED_FLAGS,
    ]


def _create_bucket(client: "S3Client", bucket: str) -> bool:
    """Create `bucket` if missing; NotReadyError until the filer and S3 gateway are up."""
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            raise NotReadyError(f"create_bucket: {code or error}") from error
    except BotoCoreError as error:
        raise NotReadyError(str(error)) from error
    return True


def _remove_stale_sockets(ports: Iterable[int]) -> None:
    """Remove weed's Unix sockets for `ports` that nobody accepts on any more: weed
    hard-codes /tmp/seaweedfs-*-PORT.sock and leaves some behind when it exits."""
    for port in ports:
        for path in _WEED_SOCKET_DIR.glob(f"seaweedfs-*-{port}.sock"):
            if path.is_socket() and path.lstat().st_uid == os.geteuid() and not _accepts(path):
                path.unlink(missing_ok=True)


def _accepts(path: Path) -> bool:
    """True if a process listens on Unix socket `path` (so it is not ours to remove)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def _previous_ports(data_dir: Path) -> list[int]:
    """Ports of the last run, from the mini.options file weed writes once it is up."""
    try:
        lines = (data_dir / "data" / "mini.options").read_text().splitlines()
    except OSError:
        return []
    pairs = (line.partition("=") for line in lines)
    return [int(v) for k, _, v in pairs if k.endswith(("port", "port.grpc")) and v.isdigit()]


def _credentials(path: Path) -> tuple[str, str]:
    """Access key and secret from the identities file, generating it (0600) on first use."""
    if not path.exists():
        _write_identities(path, "VIGIL" + secrets.token_hex(8).upper(), secrets.token_hex(20))
    try:
        credentials = json.loads(path.read_text())["identities"][0]["credentials"][0]
        return str(credentials["accessKey"]), str(credentials["secretKey"])
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise StartupError("s3", f"{path} is not a valid identities file: {error}") from error


def _write_identities(path: Path, access_key: str, secret_key: str) -> None:
    """Write the one identity weed accepts; created 0600 since it holds the secret."""
    identities = {
        "identities": [
            {
                "name": "vigil",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "List", "Write"],
            }
        ]
    }
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(identities, handle, indent=2)
