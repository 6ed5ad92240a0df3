"""End to end: the six services as real processes on their own embedded stack.

A scan goes gateway → ingest → static-scan → ai-hunter → validator → notifier; workers are
killed mid-message, messages are duplicated and poisoned, and every scan still ends right.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import http.server
import io
import json
import shutil
import signal
import tarfile
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final

import asyncpg
import msgspec
import nats
import pytest

from conftest import TEST_SETTINGS
from vigil_common.schemas import ScanRequested
from vigil_common.subjects import SCAN_REQUESTED, STREAM
from vigil_devstack import make_temp_home, start_stack
from vigil_devstack.ports import free_port
from vigil_devstack.services import (
    ServiceProcess,
    python_env,
    run_migrations,
    start_all,
    start_service,
    stop_all,
)

pytestmark = pytest.mark.e2e

KEY: Final = "vgl_e2e-test-key-not-a-secret-000000000000000"
EXAMPLE: Final = Path(__file__).resolve().parents[2] / "examples" / "vulnerable-app"


@dataclass
class System:
    """The running system: its gateway, its services, their environment and logs."""

    url: str
    env: dict[str, str]
    services: list[ServiceProcess]
    log_dir: Path

    def service(self, name: str) -> ServiceProcess:
        return next(s for s in self.services if s.name == name)

    def replace(self, name: str) -> ServiceProcess:
        """Start a new process for ``name`` in place of the old one."""
        old = self.service(name)
        new = start_service(name, self.env, self.log_dir)
        self.services[self.services.index(old)] = new
        return new


@pytest.fixture(scope="module")
def system(test_env: dict[str, str]) -> Iterator[System]:
    home = make_temp_home("vigil-e2e-")
    with start_stack(home, throwaway=True) as stack:
        env = python_env(
            {
                **TEST_SETTINGS,
                **stack.env,
                "VIGIL_SEMGREP_BIN": test_env["VIGIL_SEMGREP_BIN"],
                "VIGIL_BETTERLEAKS_BIN": test_env["VIGIL_BETTERLEAKS_BIN"],
                "VIGIL_OSV_DIR": test_env.get("VIGIL_OSV_DIR", ""),
                "VIGIL_BOOTSTRAP_API_KEY": KEY,
            }
        )
        run_migrations(env)
        port = free_port()
        services = start_all(env, home / "logs", port)
        try:
            yield System(f"http://127.0.0.1:{port}", env, services, home / "logs")
        finally:
            stop_all(services)
    shutil.rmtree(home, ignore_errors=True)


def call(
    system: System, method: str, path: str, body: bytes | None = None, kind: str = "zip"
) -> Any:
    request = urllib.request.Request(  # the system's loopback gateway
        system.url + path,
        data=body,
        method=method,
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": f"application/{kind}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def example_zip() -> bytes:
    return zip_of({f"vulnerable-app/{p.name}": p.read_text() for p in EXAMPLE.iterdir()})


def submit(system: System, archive: bytes) -> str:
    return str(call(system, "POST", "/v1/scans?project=e2e", archive)["id"])


def wait_for(system: System, scan_id: str, statuses: tuple[str, ...], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scan = call(system, "GET", f"/v1/scans/{scan_id}?include_findings=true")
        if scan["status"] in statuses:
            return scan
        time.sleep(0.05)
    pytest.fail(f"scan {scan_id} did not reach {statuses}: {scan['status']}/{scan['stage']}")


def test_a_scan_flows_through_every_service_to_completed(system: System) -> None:
    scan = wait_for(system, submit(system, example_zip()), ("completed", "failed"))
    assert scan["status"] == "completed", scan["error"]
    size = len((EXAMPLE / "app.py").read_bytes())
    assert scan["files"] == {
        "total": 1, "bytes": size, "included": 1, "included_bytes": size, "ignored": 0,
        "skipped": 0,
    }  # fmt: skip
    assert scan["languages"] == {"python": 1}
    assert scan["language_stats"]["python"]["lines"] > 10
    assert scan["complexity"]["label"] == "small"
    assert [entry["name"] for entry in scan["history"]] == [
        "queued", "ingest.started", "ingest.done", "static.started", "static.done",
        "hunt.started", "hunt.done", "validate.started", "validate.done", "completed",
    ]  # fmt: skip
    assert {f["rule_id"] for f in scan["findings"]} == {
        "vigil-python-subprocess-shell-injection",
        "vigil-python-eval-injection",
    }
    assert scan["finding_counts"]["high"] == 2
    assert scan["grade"] in {"A", "B", "C", "D", "F"}
    assert 0 <= scan["score"] < 100  # two high findings cost points
    hunt = next(entry for entry in scan["history"] if entry["name"] == "hunt.done")
    assert "no LLM is configured" in hunt["detail"]
    with urllib.request.urlopen(system.service("static-scan").base_url + "/metrics") as metrics:
        exposition = metrics.read().decode()
    assert 'vigil_stage_seconds_count{outcome="ack",stage="static"}' in exposition
    # The validator announces the scan after storing its reports: the notifier hears of it a
    # moment after the status reads completed.
    notifier_log = _log_once_it_has(system.service("notifier"), f'"scan_id": "{scan["id"]}"')
    assert '"msg": "scan completed"' in notifier_log


def _log_once_it_has(service: ServiceProcess, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        log = service.log_path.read_text()
        if text in log or time.monotonic() > deadline:
            assert text in log
            return log
        time.sleep(0.2)


def test_a_hostile_archive_fails_the_scan_with_its_reason(system: System) -> None:
    scan_id = submit(system, zip_of({"../../etc/cron.d/evil": "* * * * * root sh", "a.py": ""}))
    scan = wait_for(system, scan_id, ("completed", "failed"))
    assert scan["status"] == "failed"
    assert scan["error"] == (
        "archive refused: entry '../../etc/cron.d/evil' points outside the archive ('..')"
    )
    assert scan["stage"] == "ingest"
    assert scan["findings"] == []


def test_a_worker_killed_mid_message_is_replaced_and_the_scan_completes(system: System) -> None:
    scan_id = submit(system, example_zip())
    deadline = time.monotonic() + 60
    while call(system, "GET", f"/v1/scans/{scan_id}")["stage"] != "static":
        assert time.monotonic() < deadline, "the scan never reached the static stage"
        time.sleep(0.02)
    system.service("static-scan").stop(signal.SIGKILL)
    replacement = system.replace("static-scan")
    scan = wait_for(system, scan_id, ("completed", "failed"))
    assert scan["status"] == "completed", scan["error"]
    assert len(scan["findings"]) == 2  # the second run did not duplicate them
    assert f'"scan_id": "{scan_id}"' in replacement.log_path.read_text()


def test_an_unknown_scan_id_is_404_with_the_error_shape(system: System) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        call(system, "GET", f"/v1/scans/{uuid.uuid4()}")
    assert refused.value.code == 404
    assert json.load(refused.value)["error"]["code"] == "not_found"


async def _publish_again(system: System, event: ScanRequested, msg_id: str) -> bool:
    """Publish ``event`` to the pipeline; True when the stream dropped it as a duplicate."""
    nc = await nats.connect(system.env["VIGIL_NATS_URL"])
    try:
        ack = await nc.jetstream().publish(
            SCAN_REQUESTED, msgspec.json.encode(event), stream=STREAM,
            headers={"Nats-Msg-Id": msg_id},
        )  # fmt: skip
        return bool(ack.duplicate)
    finally:
        await nc.close()


async def _queued_scan(system: System) -> uuid.UUID:
    """A scan row that no upload ever reached, as a lost or forged message would name."""
    conn = await asyncpg.connect(system.env["VIGIL_DATABASE_URL"])
    try:
        org_id, project_id = await conn.fetchrow(
            "SELECT s.org_id, s.project_id FROM scans s LIMIT 1"
        )
        scan_id = uuid.uuid4()
        await conn.execute(
            "INSERT INTO scans (id, org_id, project_id, source_type, status)"
            " VALUES ($1, $2, $3, 'upload', 'queued')",
            scan_id, org_id, project_id,
        )  # fmt: skip
        return scan_id
    finally:
        await conn.close()


def test_a_duplicate_publish_creates_no_second_run(system: System) -> None:
    scan_id = submit(system, example_zip())
    scan = wait_for(system, scan_id, ("completed", "failed"))
    row = query(system, "SELECT org_id FROM scans WHERE id = $1", uuid.UUID(scan_id))
    event = ScanRequested(
        scan_id=uuid.UUID(scan_id),
        org_id=row["org_id"],
        source_type="upload",
        upload_key=f"uploads/{scan_id}.zip",
    )
    assert asyncio.run(_publish_again(system, event, f"{scan_id}:{SCAN_REQUESTED}")) is True
    # Even past the duplicate window, a replay of a finished scan changes nothing.
    assert asyncio.run(_publish_again(system, event, f"{scan_id}:replayed")) is False
    time.sleep(2)
    again = call(system, "GET", f"/v1/scans/{scan_id}?include_findings=true")
    assert again["status"] == "completed"
    assert again["history"] == scan["history"]
    assert len(again["findings"]) == len(scan["findings"]) == 2


def test_a_poison_message_fails_its_scan_with_a_reason(system: System) -> None:
    wait_for(system, submit(system, example_zip()), ("completed",))  # a project to use
    missing = asyncio.run(_queued_scan(system))
    event = ScanRequested(
        scan_id=missing, org_id=uuid.uuid4(), source_type="upload", upload_key="uploads/none.zip"
    )
    asyncio.run(_publish_again(system, event, f"{missing}:{SCAN_REQUESTED}"))
    malformed = asyncio.run(_queued_scan(system))
    nc_payload = msgspec.json.encode({"scan_id": str(malformed), "source_type": 42})

    async def publish_raw() -> None:
        nc = await nats.connect(system.env["VIGIL_NATS_URL"])
        await nc.jetstream().publish(SCAN_REQUESTED, nc_payload, stream=STREAM)
        await nc.close()

    asyncio.run(publish_raw())
    assert_failed(system, missing, "the uploaded archive is missing from storage")
    assert_failed(system, malformed, "the ingest stage received a malformed message")


def query(system: System, sql: str, *args: object) -> Any:
    """One row from the system's database."""

    async def fetch() -> Any:
        conn = await asyncpg.connect(system.env["VIGIL_DATABASE_URL"])
        try:
            return await conn.fetchrow(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(fetch())


def assert_failed(system: System, scan_id: uuid.UUID, reason: str) -> None:
    deadline = time.monotonic() + 30
    sql = "SELECT status, error FROM scans WHERE id = $1"
    while (row := query(system, sql, scan_id))["status"] != "failed":
        assert time.monotonic() < deadline, f"scan {scan_id} is still {row['status']}"
        time.sleep(0.1)
    assert row["error"].startswith(reason), row["error"]


def test_a_gzipped_tarball_is_scanned_without_its_vendored_code(system: System) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(EXAMPLE / "app.py", arcname="shop/app.py")
        tar.add(EXAMPLE / "app.py", arcname="shop/node_modules/lib/evil.py")
    scan_id = str(call(system, "POST", "/v1/scans?project=tgz", buffer.getvalue(), "gzip")["id"])
    scan = wait_for(system, scan_id, ("completed", "failed"))
    assert scan["status"] == "completed", scan["error"]
    assert scan["source"]["format"] == "tar.gz"
    counts = scan["files"]
    assert (counts["total"], counts["included"], counts["ignored"]) == (2, 1, 1)
    assert {f["file_path"] for f in scan["findings"]} == {"app.py"}


class _Receiver(http.server.BaseHTTPRequestHandler):
    """Records webhook deliveries (loopback only)."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


def test_a_scan_callback_receives_a_signed_completion(system: System) -> None:
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    secret = "fake-callback-secret-e2e-0001"
    try:
        body = json.dumps({
            "source_type": "zip", "project": "hooked", "callback_secret": secret,
            "callback_url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
        }).encode()  # fmt: skip
        scan = call(system, "POST", "/v1/scans", body, "json")
        put = urllib.request.Request(
            scan["upload"]["url"], data=example_zip(), method="PUT",
            headers=scan["upload"]["headers"],
        )  # fmt: skip
        urllib.request.urlopen(put, timeout=10).close()
        call(system, "POST", f"/v1/scans/{scan['id']}/start")
        assert wait_for(system, scan["id"], ("completed", "failed"))["status"] == "completed"
        deadline = time.monotonic() + 30
        while not _Receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        receiver.shutdown()
    (headers, payload), *_ = _Receiver.received
    expected = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    assert headers["X-Vigil-Signature"] == f"sha256={expected}"
    event = json.loads(payload)
    assert (event["type"], event["data"]["scan_id"]) == ("scan.completed", scan["id"])
    assert event["data"]["severity_counts"]["high"] == 2
    graded = call(system, "GET", f"/v1/scans/{scan['id']}")
    assert (event["data"]["score"], event["data"]["grade"]) == (graded["score"], graded["grade"])
    assert headers["webhook-id"] == event["id"]


def test_a_leaked_secret_is_reported_masked_and_stored_nowhere_in_full(system: System) -> None:
    fake = "sk_live_51HfakeFAKEfake0123456789abcdefghijklmnopqrstuvwx"  # not a real key
    scan_id = submit(system, zip_of({"shop/billing.py": f'STRIPE_KEY = "{fake}"\n'}))
    scan = wait_for(system, scan_id, ("completed", "failed"))
    assert scan["status"] == "completed", scan["error"]
    (leak,) = [f for f in scan["findings"] if f["scanner"] == "secrets"]
    assert (leak["rule_id"], leak["evidence"]) == ("stripe-access-token", "sk_live_****uvwx")
    assert fake not in json.dumps(scan)
    stored = query(
        system,
        "SELECT string_agg(f::text, '') AS all FROM findings f WHERE scan_id = $1",
        uuid.UUID(scan_id),
    )
    assert fake not in stored["all"]


def test_a_vulnerable_pinned_dependency_is_reported_from_offline_osv(
    system: System, test_env: dict[str, str]
) -> None:
    if not test_env.get("VIGIL_OSV_DIR"):
        pytest.skip("no offline OSV folder (VIGIL_OSV_DIR or ../shared/osv)")
    scan_id = submit(system, zip_of({"svc/requirements.txt": "flask==3.0.0\nrequests==2.30.0\n"}))
    scan = wait_for(system, scan_id, ("completed", "failed"))
    assert scan["status"] == "completed", scan["error"]
    deps = {f["rule_id"]: f for f in scan["findings"] if f["scanner"] == "deps"}
    assert "PYSEC-2023-74" in deps
    assert (deps["PYSEC-2023-74"]["file_path"], deps["PYSEC-2023-74"]["start_line"]) == (
        "requirements.txt", 2,
    )  # fmt: skip
    static = next(h for h in scan["history"] if h["name"] == "static.done")
    assert "OSV offline" in static["detail"]
