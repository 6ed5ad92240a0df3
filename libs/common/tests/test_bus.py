"""The JetStream worker base against a real NATS server: every way a message gets settled."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import msgspec
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common import bus
from vigil_common.config import Settings
from vigil_common.errors import Reject, Retry
from vigil_common.schemas import ScanRequested
from vigil_common.subjects import INGEST, SCAN_REQUESTED, STREAM

Conn = tuple[NATS, JetStreamContext]


class Recorder:
    """Collects handler calls and give-ups, and lets a test wait for them."""

    def __init__(self) -> None:
        self.calls: list[ScanRequested] = []
        self.failed: list[tuple[uuid.UUID, str]] = []
        self.changed = asyncio.Event()

    async def give_up(self, scan_id: uuid.UUID, reason: str) -> None:
        self.failed.append((scan_id, reason))
        self.changed.set()

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                await self.changed.wait()


def event() -> ScanRequested:
    return ScanRequested(
        scan_id=uuid.uuid4(), org_id=uuid.uuid4(), source_type="upload", upload_key="uploads/x"
    )


async def stream_messages(js: JetStreamContext) -> int:
    return (await js.stream_info(STREAM)).state.messages


@pytest.fixture
async def consume(
    nats_js: Conn, settings: Settings
) -> AsyncIterator[Callable[..., Awaitable[Recorder]]]:
    """Start a consumer on the ingest durable whose handler runs ``behaviour`` per call."""
    _, js = nats_js
    running: list[tuple[bus.Consumer, asyncio.Task[None]]] = []

    async def start(
        behaviour: Callable[[Recorder, ScanRequested], Awaitable[None]],
        *,
        custom: Settings | None = None,
    ) -> Recorder:
        used = custom or settings
        recorder = Recorder()
        await bus.ensure_consumer(js, INGEST, used)

        async def handler(evt: ScanRequested) -> None:
            recorder.calls.append(evt)
            recorder.changed.set()
            await behaviour(recorder, evt)

        consumer = bus.Consumer(js, INGEST, ScanRequested, handler, recorder.give_up, used, 2)
        running.append((consumer, asyncio.create_task(consumer.run())))
        return recorder

    yield start
    for consumer, task in running:
        consumer.stop()
        await asyncio.wait_for(task, 30)


async def succeed(_r: Recorder, _e: ScanRequested) -> None:
    return None


async def test_success_acks_and_removes_the_message(nats_js: Conn, consume) -> None:  # type: ignore[no-untyped-def]
    _, js = nats_js
    recorder = await consume(succeed)
    await bus.publish(js, SCAN_REQUESTED, event())
    await recorder.wait_for(lambda: len(recorder.calls) == 1)
    await asyncio.sleep(0.3)
    assert await stream_messages(js) == 0
    assert recorder.failed == []


async def test_retry_naks_with_delay_and_redelivers(nats_js: Conn, consume) -> None:  # type: ignore[no-untyped-def]
    _, js = nats_js

    async def flaky(recorder: Recorder, _e: ScanRequested) -> None:
        if len(recorder.calls) == 1:
            raise Retry("not yet", delay=0.5)

    recorder = await consume(flaky)
    await bus.publish(js, SCAN_REQUESTED, event())
    await recorder.wait_for(lambda: len(recorder.calls) == 2)
    assert recorder.failed == []


async def test_reject_terminates_and_fails_the_scan_with_its_reason(nats_js: Conn, consume) -> None:  # type: ignore[no-untyped-def]
    _, js = nats_js

    async def refuse(_r: Recorder, _e: ScanRequested) -> None:
        raise Reject("archive refused: entry '../x' points outside the archive")

    recorder = await consume(refuse)
    sent = event()
    await bus.publish(js, SCAN_REQUESTED, sent)
    await recorder.wait_for(lambda: len(recorder.failed) == 1)
    assert recorder.failed == [
        (sent.scan_id, "archive refused: entry '../x' points outside the archive")
    ]
    await asyncio.sleep(1.5)
    assert len(recorder.calls) == 1  # terminated: never redelivered
    assert await stream_messages(js) == 0


async def test_a_crashing_handler_fails_the_scan_on_the_last_delivery(
    nats_js: Conn, consume, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    _, js = nats_js

    async def crash(_r: Recorder, _e: ScanRequested) -> None:
        raise ValueError("internal detail that must not reach the user")

    recorder = await consume(crash)
    sent = event()
    await bus.publish(js, SCAN_REQUESTED, sent)
    await recorder.wait_for(lambda: len(recorder.failed) == 1, timeout=30)
    assert len(recorder.calls) == settings.max_deliver
    scan_id, reason = recorder.failed[0]
    assert scan_id == sent.scan_id
    assert (
        reason == f"the ingest stage failed (ValueError) on each of {settings.max_deliver} attempts"
    )
    assert "internal detail" not in reason


async def test_a_malformed_message_fails_its_scan(nats_js: Conn, consume) -> None:  # type: ignore[no-untyped-def]
    _, js = nats_js
    recorder = await consume(succeed)
    scan_id = uuid.uuid4()
    await js.publish(SCAN_REQUESTED, msgspec.json.encode({"scan_id": str(scan_id)}))
    await recorder.wait_for(lambda: len(recorder.failed) == 1)
    failed_id, reason = recorder.failed[0]
    assert failed_id == scan_id
    assert reason.startswith("the ingest stage received a malformed message: ")
    assert "org_id" in reason
    assert recorder.calls == []


async def test_garbage_without_a_scan_is_dropped(nats_js: Conn, consume) -> None:  # type: ignore[no-untyped-def]
    _, js = nats_js
    recorder = await consume(succeed)
    await js.publish(SCAN_REQUESTED, b"\x00 not json")
    async with asyncio.timeout(10):
        while await stream_messages(js):
            await asyncio.sleep(0.1)
    assert recorder.calls == []
    assert recorder.failed == []


async def test_a_duplicate_publish_is_dropped_by_the_stream(nats_js: Conn) -> None:
    _, js = nats_js
    sent = event()
    await bus.publish(js, SCAN_REQUESTED, sent)
    await bus.publish(js, SCAN_REQUESTED, sent)
    assert await stream_messages(js) == 1


async def test_heartbeats_keep_long_work_from_being_redelivered(
    nats_js: Conn, consume, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    _, js = nats_js
    quick_ack = msgspec.structs.replace(settings, ack_wait_seconds=1.0)

    async def slow(_r: Recorder, _e: ScanRequested) -> None:
        await asyncio.sleep(3.5)

    recorder = await consume(slow, custom=quick_ack)
    await bus.publish(js, SCAN_REQUESTED, event())
    await recorder.wait_for(lambda: len(recorder.calls) == 1)
    await asyncio.sleep(4.5)
    assert len(recorder.calls) == 1
    assert await stream_messages(js) == 0


async def test_stop_finishes_the_message_in_hand(nats_js: Conn, settings: Settings) -> None:
    _, js = nats_js
    recorder = Recorder()
    finished = asyncio.Event()
    await bus.ensure_consumer(js, INGEST, settings)

    async def handler(_e: ScanRequested) -> None:
        recorder.calls.append(_e)
        recorder.changed.set()
        await asyncio.sleep(1)
        finished.set()

    consumer = bus.Consumer(js, INGEST, ScanRequested, handler, recorder.give_up, settings, 1)
    task = asyncio.create_task(consumer.run())
    await bus.publish(js, SCAN_REQUESTED, event())
    await recorder.wait_for(lambda: len(recorder.calls) == 1)
    consumer.stop()
    await asyncio.wait_for(task, 10)
    assert finished.is_set()
    assert await stream_messages(js) == 0


async def test_exhausted_deliveries_fail_the_scan_through_the_advisory(
    nats_js: Conn, settings: Settings
) -> None:
    """A worker that dies on every delivery never settles: the server's advisory must."""
    nc, js = nats_js
    fragile = msgspec.structs.replace(settings, ack_wait_seconds=1.0, max_deliver=2)
    await bus.ensure_consumer(js, INGEST, fragile)
    recorder = Recorder()
    watcher = await bus.watch_exhausted(nc, js, INGEST, recorder.give_up)
    sent = event()
    await bus.publish(js, SCAN_REQUESTED, sent)
    sub = await js.pull_subscribe_bind(durable=INGEST.durable, stream=STREAM)
    for _ in range(2):  # take the message and "die" without settling it, twice
        await sub.fetch(1, timeout=5)
    # The server gives up when it would redeliver, i.e. while some worker is asking for work.
    with pytest.raises(TimeoutError):
        await sub.fetch(1, timeout=3)
    await recorder.wait_for(lambda: len(recorder.failed) == 1)
    assert recorder.failed == [
        (sent.scan_id, "the ingest stage stopped responding on each of 2 attempts")
    ]
    assert await stream_messages(js) == 0
    await watcher.unsubscribe()
    await sub.unsubscribe()


def test_backoff_doubles_up_to_a_minute() -> None:
    assert [bus.backoff(n) for n in (1, 2, 3, 7, 20)] == [1, 2, 4, 60, 60]
