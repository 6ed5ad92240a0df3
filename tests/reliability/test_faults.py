"""Fault injection on the whole system: every service a real process, two replicas per worker.

The module runs its own NATS, PostgreSQL and S3 (so restarting them disturbs no other test), a
local OpenAI-protocol server whose answers can be slowed down (to catch the AI stages in the
middle of a scan) and a webhook receiver. Workers are SIGKILLed mid-message, the servers are
restarted under load, scans are cancelled in every stage, a batch is run at once and compared
with the same scans run one by one, and planted secrets are looked for in every sink.
See docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import http.server
import io
import json
import os
import random
import shutil
import signal
import socket
import string
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final

import asyncpg
import nats
import pytest

from conftest import TEST_SETTINGS, fake_openai
from vigil_common.config import load_settings
from vigil_common.db import connect_pool
from vigil_common.storage import tree_keys, upload_key
from vigil_common.subjects import SCAN_REQUESTED, STREAM
from vigil_devstack import make_temp_home, start_stack
from vigil_devstack.binaries import postgres_bin_dir, postgres_user, venv_binary
from vigil_devstack.ports import free_port
from vigil_devstack.postgres_server import _server_argv
from vigil_devstack.process import RunningServer, clean_env, spawn
from vigil_devstack.s3_server import _HIDDEN_ENV, _weed_argv, s3_client
from vigil_devstack.services import (
    WORKERS,
    ServiceProcess,
    python_env,
    run_migrations,
    start_service,
    stop_all,
    wait_ready,
)
from vigil_devstack.stack import Stack
from vigil_gateway.keys import SCOPES, create_key, ensure_organisation

pytestmark = pytest.mark.e2e

KEY: Final = "vgl_reliability-test-key-not-a-secret-00000000"
EXAMPLE: Final = Path(__file__).resolve().parents[2] / "examples" / "vulnerable-app" / "app.py"
REPLICAS: Final = 2
# Long enough that a backlog of admitted scans is never mistaken for a stuck one here.
STUCK_TIMEOUT_SECONDS: Final = 120
TERMINAL: Final = ("completed", "failed", "cancelled")
# 24 scans in `make test`; `make reliability` sets 200 (docs/reliability.md).
BATCH: Final = int(os.environ.get("VIGIL_RELIABILITY_SCANS", "24"))


# --- the slow-able model server and the webhook receiver -----------------------------------


@dataclass
class SlowLLM:
    """The fake OpenAI server in a thread of its own; ``delay`` slows every answer."""

    delay: float = 0.0
    server: Any = None
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)

    def start(self) -> None:
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server = fake_openai.FakeOpenAI(responder=self.answer)
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def answer(self, body: dict[str, Any]) -> Any:
        """The hunter finds nothing more; the validator confirms every finding."""
        if _wants_verdict(body):
            content = {
                "reasoning": "user input reaches it", "verdict": "true_positive",
                "confidence": "medium", "reason": "user input reaches it",
            }  # fmt: skip
        else:
            content = {"reasoning": "nothing beyond the static findings", "findings": []}
        return fake_openai.Canned(content, delay=self.delay)

    def asked_about(self, marker: str, *, verdicts: bool) -> int:
        """Requests so far carrying ``marker`` (a scan's unique comment): the validator's
        (``verdicts``) or the hunter's."""
        return sum(
            marker in fake_openai.prompt_of(body) and _wants_verdict(body) == verdicts
            for body in list(self.server.requests)
        )


def _wants_verdict(body: dict[str, Any]) -> bool:
    schema = body["response_format"]["json_schema"]["schema"]
    return "verdict" in schema.get("properties", {})


class Receiver(http.server.BaseHTTPRequestHandler):
    """Records webhook deliveries; ``delay`` holds each request open that long."""

    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    delay: ClassVar[float] = 0.0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        time.sleep(self.delay)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


def deliveries_for(scan_id: str, event_type: str = "scan.completed") -> list[dict[str, Any]]:
    """The webhook bodies received for the scan's event (redeliveries included)."""
    events = [json.loads(body) for _, body in list(Receiver.received)]
    return [e for e in events if e["type"] == event_type and e["data"]["scan_id"] == scan_id]


# --- the system -------------------------------------------------------------------------


@dataclass
class System:
    """The running system: servers, services (two per worker), environment and logs."""

    home: Path
    stack: Stack
    url: str
    env: dict[str, str]
    services: list[ServiceProcess]
    log_dir: Path
    llm: SlowLLM
    extra_servers: list[RunningServer] = field(default_factory=list)

    def replicas(self, name: str) -> list[ServiceProcess]:
        return [s for s in self.services if s.name == name and s.process.poll() is None]

    def kill_all(self, name: str) -> None:
        """SIGKILL every replica of ``name``: whichever held the message, it is gone."""
        for service in self.replicas(name):
            service.stop(signal.SIGKILL)

    def start(self, name: str, env: dict[str, str] | None = None) -> ServiceProcess:
        service = start_service(name, env or self.env, self.log_dir)
        self.services.append(service)
        wait_ready(service)
        return service

    def top_up(self) -> None:
        """Bring every worker back to its replica count."""
        for name in WORKERS:
            for _ in range(REPLICAS - len(self.replicas(name))):
                self.start(name)

    def server(self, name: str) -> RunningServer:
        live = [s for s in self.extra_servers if s.name == name and s.running()]
        return live[-1] if live else self.stack.servers[name]


@pytest.fixture(scope="module")
def system(test_env: dict[str, str]) -> Iterator[System]:
    home = make_temp_home("vigil-reliability-")
    llm = SlowLLM()
    llm.start()
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with start_stack(home, throwaway=True) as stack:
        env = python_env(
            {
                **TEST_SETTINGS,
                **stack.env,
                "VIGIL_SEMGREP_BIN": test_env["VIGIL_SEMGREP_BIN"],
                "VIGIL_BETTERLEAKS_BIN": test_env["VIGIL_BETTERLEAKS_BIN"],
                "VIGIL_OSV_DIR": test_env.get("VIGIL_OSV_DIR", ""),
                "VIGIL_BOOTSTRAP_API_KEY": KEY,
                "VIGIL_LLM_BASE_URL": llm.server.base_url,
                "VIGIL_LLM_MODEL": "fake-model",
                "VIGIL_LLM_TIMEOUT_SECONDS": "30",
                "VIGIL_RATE_LIMIT_SCANS": "100000",
                "VIGIL_RATE_LIMIT_READS": "1000000",
                "VIGIL_RATE_LIMIT_WRITES": "100000",
                "VIGIL_WEBHOOK_TIMEOUT_SECONDS": "5",
                "VIGIL_WEBHOOK_RETRY_SCHEDULE": "0,1,2,4,8",
                "VIGIL_STUCK_SCAN_TIMEOUT_SECONDS": str(STUCK_TIMEOUT_SECONDS),
                "VIGIL_STUCK_SCAN_SWEEP_SECONDS": "1",
            }
        )
        run_migrations(env)
        port = free_port()
        log_dir = home / "logs"
        system = System(home, stack, f"http://127.0.0.1:{port}", env, [], log_dir, llm)
        try:
            system.top_up()
            gateway = start_service("gateway", env, log_dir, port=port)
            system.services.append(gateway)
            wait_ready(gateway)
            hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
            call(system, "POST", "/v1/webhooks", json.dumps({"url": hook}).encode(), "json")
            yield system
        finally:
            stop_all(system.services)
            for server in system.extra_servers:
                server.stop()
            receiver.shutdown()
            llm.stop()
    shutil.rmtree(home, ignore_errors=True)


# --- talking to it ------------------------------------------------------------------------


def call(
    system: System,
    method: str,
    path: str,
    body: bytes | None = None,
    kind: str = "zip",
    key: str = KEY,
    patience: float = 60,
) -> Any:
    """One API call; retried while the system is briefly unreachable (a restart under way)."""
    deadline = time.monotonic() + patience
    while True:
        request = urllib.request.Request(  # the system's loopback gateway
            system.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"Bearer {key}", "Content-Type": f"application/{kind}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code < 500 or time.monotonic() > deadline:
                raise
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def zip_of(files: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def vulnerable_app(marker: str) -> str:
    """The example app (two high findings), its vulnerable lines made unique by ``marker``.

    Unique lines keep the model's answers from being served from a cache, so the AI stages
    really ask (and really wait for the slowed server).
    """
    lines = EXAMPLE.read_text().splitlines()
    return "\n".join(
        f"{line}  # {marker}" if "request.args" in line and "(" in line else line for line in lines
    )


def app_zip(marker: str, padding: int = 0) -> bytes:
    """The app under ``marker``; ``padding`` ignored files make ingest take a while."""
    files: dict[str, str | bytes] = {"shop/app.py": vulnerable_app(marker) + "\n"}
    files.update({f"shop/node_modules/pad/f{i}.js": f"// {i}\n" for i in range(padding)})
    return zip_of(files)


def submit(system: System, archive: bytes, project: str = "reliability", key: str = KEY) -> str:
    return str(call(system, "POST", f"/v1/scans?project={project}", archive, key=key)["id"])


def scan_of(system: System, scan_id: str, key: str = KEY) -> Any:
    return call(system, "GET", f"/v1/scans/{scan_id}?include_findings=true", key=key)


def wait_for(
    system: System, scan_id: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 120
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        scan = scan_of(system, scan_id)
        if scan["status"] in statuses:
            return scan
        time.sleep(0.1)
    pytest.fail(f"scan {scan_id} did not reach {statuses}: {scan['status']}/{scan['stage']}")


def wait_until(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def in_stage(system: System, scan_id: str, stage: str) -> bool:
    scan = call(system, "GET", f"/v1/scans/{scan_id}")
    assert scan["status"] not in TERMINAL, f"the scan ended before {stage}: {scan['status']}"
    return bool(scan["stage"] == stage)


def query(system: System, sql: str, *args: object) -> list[Any]:
    """Rows from the system's database."""

    async def fetch() -> list[Any]:
        conn = await asyncpg.connect(system.env["VIGIL_DATABASE_URL"])
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(fetch())


def finding_keys(scan: Any) -> list[tuple[str, str, int, str]]:
    return sorted(
        (f["rule_id"], f["file_path"], f["start_line"], f["status"]) for f in scan["findings"]
    )


def history(scan: Any) -> list[str]:
    return [entry["name"] for entry in scan["history"]]


# --- 1. a worker of each stage killed mid-scan -------------------------------------------

# How to catch each stage in the middle: ingest unpacks thousands of files, static runs
# Semgrep, the AI stages wait for the slowed model, the notifier for the slow receiver.
KILLS: Final = ["ingest", "static-scan", "ai-hunter", "validator", "notifier"]
STAGE_OF: Final = {"ingest": "ingest", "static-scan": "static", "ai-hunter": "hunt",
                   "validator": "validate"}  # fmt: skip


@pytest.mark.parametrize("service", KILLS)
def test_a_stage_killed_mid_scan_resumes_on_a_new_worker_without_duplicates(
    system: System, service: str
) -> None:
    marker = f"kill-{service}-{uuid.uuid4().hex[:8]}"
    system.llm.delay = 3.0 if service in ("ai-hunter", "validator") else 0.0
    Receiver.delay = 3.0 if service == "notifier" else 0.0
    try:
        scan_id = submit(system, app_zip(marker, padding=20_000 if service == "ingest" else 0))
        catch_in_the_middle(system, service, scan_id, marker)
        system.kill_all(service)
        log_start = (system.log_dir / f"{service}.log").stat().st_size
        replacement = system.start(service)
        scan = wait_for(system, scan_id, TERMINAL, timeout=180)
        wait_until("the completion delivered", lambda: bool(deliveries_for(scan_id)), 60)
    finally:
        system.llm.delay, Receiver.delay = 0.0, 0.0
        system.top_up()
    assert scan["status"] == "completed", scan["error"]
    assert [f["rule_id"] for f in sorted(scan["findings"], key=lambda f: f["start_line"])] == [
        "vigil-python-subprocess-shell-injection", "vigil-python-eval-injection",
    ]  # fmt: skip
    assert history(scan).count("completed") == 1
    if service != "notifier":  # the replacement (alone in its log meanwhile) took the message
        assert f'"scan_id": "{scan_id}"'.encode() in replacement.log_path.read_bytes()[log_start:]
    sql = (
        "SELECT event_id, state FROM webhook_deliveries WHERE scan_id = $1"
        " AND event_type = 'scan.completed'"
    )

    # A send cut short by the kill is made again once its lease ends.
    def delivered() -> bool:
        return [r["state"] for r in query(system, sql, uuid.UUID(scan_id))] == ["delivered"]

    wait_until("one delivery row, delivered", delivered, 60)  # one row, whatever was retried
    rows = query(system, sql, uuid.UUID(scan_id))
    sent = deliveries_for(scan_id)
    assert {event["id"] for event in sent} == {str(rows[0]["event_id"])}  # same webhook-id
    if service == "notifier":
        assert len(sent) >= 2  # the send the kill cut short was made again: at least once


def catch_in_the_middle(system: System, service: str, scan_id: str, marker: str) -> None:
    """Return once ``service`` is working on the scan and has not finished it."""
    if service in STAGE_OF:
        wait_until(f"{service} working", lambda: in_stage(system, scan_id, STAGE_OF[service]))
    if service in ("ai-hunter", "validator"):
        verdicts = service == "validator"
        wait_until("the model asked", lambda: system.llm.asked_about(marker, verdicts=verdicts))
    if service == "notifier":
        wait_until("a delivery in flight", lambda: bool(deliveries_for(scan_id)))


# --- 2. NATS, PostgreSQL and S3 restarted under load ------------------------------------


def restart_nats(system: System) -> None:
    """Stop NATS and start it again on the same port, with its stored streams."""
    old = system.server("nats")
    old.stop()
    config = old.data_dir / "nats.conf"
    text = config.read_text().replace(
        'listen: "127.0.0.1:-1"', f'listen: "127.0.0.1:{old.ports["client"]}"'
    )
    fixed = old.data_dir / "nats-fixed.conf"
    fixed.write_text(text)
    server = spawn("nats", [venv_binary("nats-server"), "-c", fixed], data_dir=old.data_dir,
                   log_name="nats.log")  # fmt: skip
    server.ports = old.ports
    system.extra_servers.append(server)
    wait_listening(old.ports["client"])


def restart_postgres(system: System) -> None:
    """Stop PostgreSQL (fast shutdown: clients are cut off) and start it on the same port."""
    old = system.server("postgres")
    old.stop()
    run_as = postgres_user()
    port = old.ports["postgres"]
    argv = _server_argv(postgres_bin_dir(run_as), old.data_dir / "data", port, throwaway=True)
    server = spawn(
        "postgres", argv, data_dir=old.data_dir, log_name="postgres.log", env=clean_env("PG"),
        run_as=run_as, stop_signal=signal.SIGINT, grace=15,
    )  # fmt: skip
    server.ports = old.ports
    system.extra_servers.append(server)
    wait_listening(port)


def stop_s3(system: System) -> RunningServer:
    old = system.server("s3")
    old.stop()
    return old


def start_s3_again(system: System, old: RunningServer) -> None:
    argv = _weed_argv(old.data_dir, old.ports)
    server = spawn("s3", argv, data_dir=old.data_dir, log_name="weed.log",
                   env=clean_env(*_HIDDEN_ENV))  # fmt: skip
    server.ports = old.ports
    system.extra_servers.append(server)
    wait_listening(old.ports["s3.port"])


def wait_listening(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.1)


# Reasons a scan may fail with during an outage: each says what went wrong, for a user.
CLEAR_REASONS: Final = ("gave up after", "stuck: no progress in", "stopped responding",
                        "could not be queued", "on each of")  # fmt: skip


@pytest.mark.parametrize("outage", ["nats", "postgres", "s3"])
def test_every_scan_ends_when_a_server_restarts_under_load(system: System, outage: str) -> None:
    ids = [submit(system, app_zip(f"{outage}-{i}-{uuid.uuid4().hex[:6]}")) for i in range(4)]
    wait_until("the batch under way", lambda: in_stage(system, ids[0], "static"), 60)
    if outage == "nats":
        restart_nats(system)
    elif outage == "postgres":
        restart_postgres(system)
    else:
        old = stop_s3(system)
        time.sleep(5)  # unreachable for a while: uploads and tree fetches fail meanwhile
        start_s3_again(system, old)
    scans = [wait_for(system, scan_id, TERMINAL, timeout=STUCK_TIMEOUT_SECONDS + 120)
             for scan_id in ids]  # fmt: skip
    for scan in scans:
        assert scan["status"] in ("completed", "failed"), scan
        if scan["status"] == "failed":
            assert any(reason in scan["error"] for reason in CLEAR_REASONS), scan["error"]
        else:
            assert len(scan["findings"]) == 2, scan["findings"]
    completed = sum(scan["status"] == "completed" for scan in scans)
    print(f"{outage} restart: {completed}/{len(scans)} completed")
    after = wait_for(system, submit(system, app_zip(f"after-{outage}")), TERMINAL)
    assert after["status"] == "completed", after["error"]  # every service reconnected


# --- 3. cancelled in each stage -----------------------------------------------------------

LATER: Final = ["ingest", "static", "hunt", "validate"]


@pytest.mark.parametrize("stage", LATER)
def test_a_scan_cancelled_in_a_stage_stays_cancelled_and_later_stages_skip_it(
    system: System, stage: str
) -> None:
    marker = f"cancel-{stage}-{uuid.uuid4().hex[:8]}"
    system.llm.delay = 2.0 if stage in ("hunt", "validate") else 0.0
    try:
        scan_id = submit(system, app_zip(marker, padding=20_000 if stage == "ingest" else 0))
        wait_until(f"the scan in {stage}", lambda: in_stage(system, scan_id, stage))
        cancelled = call(system, "POST", f"/v1/scans/{scan_id}/cancel", b"", "json")
        assert cancelled["status"] == "cancelled"
        # Let the stage in hand finish its unit of work and every later stage see the message.
        time.sleep(8)
    finally:
        system.llm.delay = 0.0
    scan = scan_of(system, scan_id)
    assert scan["status"] == "cancelled"
    names = history(scan)
    later = LATER[LATER.index(stage) + 1 :]
    assert not [n for n in names if n.split(".")[0] in later], names
    assert "completed" not in names and scan["grade"] is None
    assert names[-1] == "cancelled", names  # nothing recorded after the end
    assert not deliveries_for(scan_id) and not deliveries_for(scan_id, "scan.failed")
    with pytest.raises(urllib.error.HTTPError) as again:
        call(system, "POST", f"/v1/scans/{scan_id}/cancel", b"", "json")
    assert again.value.code == 409


# --- the reaper, end to end ---------------------------------------------------------------


def test_a_scan_whose_message_was_lost_is_reaped_and_frees_its_slot(system: System) -> None:
    system.kill_all("ingest")  # nobody takes the request while we lose it
    scan_id = submit(system, app_zip(f"lost-{uuid.uuid4().hex[:8]}"))
    wait_until("the request published", lambda: _pending(system, SCAN_REQUESTED) > 0)
    asyncio.run(_purge(system, SCAN_REQUESTED))  # the message is lost: nothing will move it
    system.top_up()
    # A second gateway replica with a short timeout (the first keeps its long one).
    hasty = {**system.env, "VIGIL_STUCK_SCAN_TIMEOUT_SECONDS": "3",
             "VIGIL_STUCK_SCAN_SWEEP_SECONDS": "0.5"}  # fmt: skip
    reaper = start_service("gateway", hasty, system.log_dir, port=free_port())
    try:
        wait_ready(reaper)
        scan = wait_for(system, scan_id, TERMINAL, timeout=60)
    finally:
        reaper.stop()
    assert (scan["status"], scan["error"]) == ("failed", "stuck: no progress in queue for 3 s")
    assert history(scan)[-1] == "failed"
    wait_until("the failure delivered", lambda: bool(deliveries_for(scan_id, "scan.failed")))
    after = wait_for(system, submit(system, app_zip("after-reap")), TERMINAL)
    assert after["status"] == "completed", after["error"]


def _pending(system: System, subject: str) -> int:
    async def count() -> int:
        nc = await nats.connect(system.env["VIGIL_NATS_URL"])
        try:
            info = await nc.jetstream().stream_info(STREAM, subjects_filter=subject)
            return int((info.state.subjects or {}).get(subject, 0))
        finally:
            await nc.close()

    return asyncio.run(count())


async def _purge(system: System, subject: str) -> None:
    nc = await nats.connect(system.env["VIGIL_NATS_URL"])
    try:
        await nc.jetstream().purge_stream(STREAM, subject=subject)
    finally:
        await nc.close()


# --- 5. planted secrets reach no sink -----------------------------------------------------


def _fake(alphabet: str, length: int) -> str:
    rng = random.SystemRandom()
    return "".join(rng.choice(alphabet) for _ in range(length))


def planted_secrets() -> dict[str, str]:
    """Fresh, obviously fake credentials in real formats (not the vendors' documented examples)."""
    upper = string.ascii_uppercase + "234567"
    alnum = string.ascii_letters + string.digits
    return {
        "aws_key_id": "AKIA" + _fake(upper, 16),
        "aws_secret": _fake(alnum + "/+", 40),
        "github": "ghp_" + _fake(alnum, 36),
        "stripe": "sk_live_51" + _fake(alnum, 48),
        "slack": "xoxb-" + _fake(string.digits, 12) + "-" + _fake(string.digits, 13) + "-"
        + _fake(alnum, 24),
    }  # fmt: skip


def _leaky_archive(secret: dict[str, str]) -> bytes:
    config = (
        f'AWS_ACCESS_KEY_ID = "{secret["aws_key_id"]}"\n'
        f'AWS_SECRET_ACCESS_KEY = "{secret["aws_secret"]}"\n'
        f'GITHUB_TOKEN = "{secret["github"]}"\n'
    )
    billing = f'import stripe\nstripe.api_key = "{secret["stripe"]}"\n'
    chat = f'SLACK_BOT_TOKEN = "{secret["slack"]}"\n'
    return zip_of({"svc/config.py": config, "svc/billing.py": billing, "svc/chat.py": chat})


def test_planted_secrets_reach_no_log_table_object_webhook_or_response(system: System) -> None:
    secret = planted_secrets()
    scan_id = submit(system, _leaky_archive(secret), project="leaky")
    scan = wait_for(system, scan_id, TERMINAL)
    assert scan["status"] == "completed", scan["error"]
    wait_until("the completion delivered", lambda: bool(deliveries_for(scan_id)), 60)
    leaks = [f for f in scan["findings"] if f["scanner"] == "secrets"]
    assert len(leaks) >= 4, [f["rule_id"] for f in leaks]  # the scanner did see them
    assert all("****" in f["evidence"] for f in leaks)
    sinks = {
        "API": _api_responses(system, scan_id),
        "webhooks": b"".join(body for _, body in list(Receiver.received)),
        "database": _database_text(system),
        "objects": _objects(system, scan_id),
        "logs": _logs(system),
    }
    for value in secret.values():
        for name, text in sinks.items():
            assert value.encode() not in text, f"a planted secret reached the {name}"
            assert value.encode().hex().encode() not in text, f"… hex-encoded, in the {name}"


def _api_responses(system: System, scan_id: str) -> bytes:
    paths = [
        f"/v1/scans/{scan_id}?include_findings=true", f"/v1/scans/{scan_id}/findings",
        "/v1/findings?limit=200", "/v1/scans?limit=200", f"/v1/scans/{scan_id}/diff",
        "/v1/webhooks",
    ]  # fmt: skip
    answers = [json.dumps(call(system, "GET", path)) for path in paths]
    findings = json.loads(answers[1])
    items = findings.get("items") or findings.get("findings") or []
    answers += [json.dumps(call(system, "GET", f"/v1/findings/{f['id']}")) for f in items]
    return "\n".join(answers).encode()


def _database_text(system: System) -> bytes:
    """Every row of every table, as text (bytea shows as hex, hence the hex check)."""
    tables = query(
        system,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        " AND table_type = 'BASE TABLE'",
    )
    dump = []
    for row in tables:
        name = row["table_name"]
        rows = query(system, f'SELECT t::text AS row FROM "{name}" t')  # noqa: S608 - our tables
        dump += [r["row"] for r in rows]
    assert len(tables) > 10 and dump
    return "\n".join(dump).encode()


def _objects(system: System, scan_id: str) -> bytes:
    """Every stored object but the uploaded archive and the source tree themselves."""
    env = system.env
    client = s3_client(env["VIGIL_S3_ENDPOINT"], env["VIGIL_S3_ACCESS_KEY"],
                       env["VIGIL_S3_SECRET_KEY"])  # fmt: skip
    bucket = env["VIGIL_S3_BUCKET"]
    kept = {upload_key(scan_id, "zip"), tree_keys(scan_id)[0]}
    paginator = client.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert kept <= set(keys)
    bodies = [
        client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys if key not in kept
    ]
    return b"\n".join(bodies)


def _logs(system: System) -> bytes:
    """Every log the services and the servers wrote (stdout and stderr included)."""
    return b"\n".join(path.read_bytes() for path in sorted(system.home.rglob("*.log")))


# --- 4. a batch at once, compared with the same scans one by one ---------------------------


# A made-up live-format key (not a real one), the same in every scan of the batch.
BATCH_FAKE_KEY: Final = "sk_live_519ZvVGGjdPMmV541QpJYkvoHnz8R8B93H92P5fcPCCYO6vA2s"


def _variants() -> dict[str, dict[str, str | bytes]]:
    """Small archives with known findings: two high, one secret, none."""
    return {
        "app": {"app.py": EXAMPLE.read_text()},
        "secret": {"billing.py": f'STRIPE = "{BATCH_FAKE_KEY}"\n'},
        "clean": {"util.py": "def add(a, b):\n    return a + b\n"},
    }


def _tenant_keys(system: System, count: int) -> list[str]:
    """API keys of ``count`` new organisations (fair use caps each at four running scans)."""

    async def make() -> list[str]:
        pool = await connect_pool(load_settings(system.env))
        try:
            keys = []
            for _ in range(count):
                org_id = await ensure_organisation(pool, f"batch-{uuid.uuid4().hex[:8]}")
                keys.append(str(await create_key(pool, org_id, "batch", SCOPES)))
            return keys
        finally:
            await pool.close()

    return asyncio.run(make())


def test_a_batch_at_once_finds_what_the_same_scans_find_one_by_one(system: System) -> None:
    variants = _variants()
    alone = {}
    for name, files in variants.items():
        scan = wait_for(system, submit(system, zip_of({**files, "run.txt": name})), TERMINAL)
        assert scan["status"] == "completed", scan["error"]
        alone[name] = finding_keys(scan)
    assert [len(alone[name]) for name in variants] == [2, 1, 0]
    keys = _tenant_keys(system, 4)
    plan = [(list(variants)[i % len(variants)], keys[i % len(keys)]) for i in range(BATCH)]

    def send(item: tuple[int, tuple[str, str]]) -> str:
        i, (name, key) = item
        archive = zip_of({**variants[name], "run.txt": f"{name} {i}"})
        return submit(system, archive, project=f"batch-{name}", key=key)

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(send, enumerate(plan)))
    for scan_id, (name, key) in zip(ids, plan, strict=True):
        scan = wait_for_key(system, scan_id, key, timeout=60 + BATCH * 6)
        assert scan["status"] == "completed", scan["error"]
        assert finding_keys(scan) == alone[name], scan_id


def wait_for_key(system: System, scan_id: str, key: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        scan = scan_of(system, scan_id, key)
        if scan["status"] in TERMINAL:
            return scan
        assert time.monotonic() < deadline, f"{scan_id} still {scan['status']}/{scan['stage']}"
        time.sleep(0.5)
