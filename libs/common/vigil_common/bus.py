"""NATS JetStream plumbing: connect, ensure the stream and consumers, publish, the consume loop.

The loop settles every message; handlers only return or raise (see :mod:`vigil_common.errors`):

==============================  ==================================================
the handler                     the loop
==============================  ==================================================
returns                         ``ack()``, confirmed by the server
payload does not decode         ``term()``, the scan fails with the reason
raises ``Reject``               ``term()``, the scan fails with the reason
raises ``Retry(delay)``         ``nak(delay)``; on the last delivery the scan fails
raises anything else            logs, ``nak`` with backoff; on the last delivery fails
is still working                ``in_progress()`` every third of ``ack_wait``
==============================  ==================================================

A worker killed mid-message leaves it unacknowledged: JetStream redelivers it after
``ack_wait`` to another subscriber. When the deliveries run out that way, the server's
MAX_DELIVERIES advisory reaches :func:`watch_exhausted`, which fails the scan.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

import msgspec
import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from vigil_common import metrics
from vigil_common.config import Settings
from vigil_common.errors import Reject, Retry
from vigil_common.logs import scan_context
from vigil_common.schemas import Event, ScanRef
from vigil_common.subjects import STREAM, STREAM_SUBJECTS, ConsumerSpec, max_deliveries_advisory

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]
GiveUp = Callable[[uuid.UUID, str], Awaitable[None]]

# Long enough that a publisher retrying after a lost ack, or a stage redelivered after a
# crash, is recognised as a duplicate; JetStream keeps only the ids inside this window.
DUPLICATE_WINDOW_SECONDS: Final = 3600.0
# Unconsumed pipeline messages older than this are stale: their scan is long failed.
STREAM_MAX_AGE_SECONDS: Final = 7 * 24 * 3600.0
MAX_BACKOFF_SECONDS: Final = 60.0
FETCH_WAIT_SECONDS: Final = 1.0
ACK_CONFIRM_SECONDS: Final = 5.0
_ERR_STREAM_NAME_IN_USE: Final = 10058


async def connect(settings: Settings, name: str) -> tuple[NATS, JetStreamContext]:
    """Connect to NATS (reconnecting forever) and return the client and its JetStream context."""
    nc = await nats.connect(
        settings.nats_url,
        name=name,
        connect_timeout=5,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
    )
    return nc, nc.jetstream()


def stream_config() -> StreamConfig:
    """The one pipeline stream: a file-backed work queue of scan events."""
    return StreamConfig(
        name=STREAM,
        subjects=list(STREAM_SUBJECTS),
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_age=STREAM_MAX_AGE_SECONDS,
    )


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the stream, or bring an existing one to the current configuration."""
    try:
        await js.add_stream(stream_config())
    except nats.js.errors.BadRequestError as exc:
        if exc.err_code != _ERR_STREAM_NAME_IN_USE:
            raise
        await js.update_stream(stream_config())


async def ensure_consumer(js: JetStreamContext, spec: ConsumerSpec, settings: Settings) -> None:
    """Create or update the stage's durable pull consumer (safe from every replica)."""
    await js.add_consumer(
        STREAM,
        ConsumerConfig(
            durable_name=spec.durable,
            filter_subjects=list(spec.filter_subjects),
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=settings.ack_wait_seconds,
            max_deliver=settings.max_deliver,
            max_ack_pending=1000,
        ),
    )


def message_id(event: Event, subject: str) -> str:
    """The de-duplication id: one message per scan and subject, however often it is sent."""
    return f"{event.scan_id}:{subject}"


async def publish(
    js: JetStreamContext, subject: str, event: Event, msg_id: str | None = None
) -> None:
    """Publish ``event`` and wait for the stream's ack; raise :class:`Retry` if it fails.

    ``msg_id`` replaces the default one-per-scan-and-subject id for events a scan can have
    many of (one per triage decision, say).
    """
    try:
        await js.publish(
            subject,
            msgspec.json.encode(event),
            stream=STREAM,
            headers={"Nats-Msg-Id": msg_id or message_id(event, subject)},
            timeout=10,
        )
    except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as exc:
        raise Retry(f"could not publish to {subject}: {type(exc).__name__}") from exc


def backoff(delivery: int) -> float:
    """Seconds to wait before delivery ``delivery + 1``: 1, 2, 4 … capped at a minute."""
    return float(min(2 ** (delivery - 1), MAX_BACKOFF_SECONDS))


class Consumer:
    """Runs one stage's handler over its durable consumer until :meth:`stop` is called."""

    def __init__(
        self,
        js: JetStreamContext,
        spec: ConsumerSpec,
        event_type: Any,
        handler: Handler[E],
        give_up: GiveUp,
        settings: Settings,
        concurrency: int,
    ) -> None:
        self.js = js
        self.spec = spec
        # A Struct type, or a tagged union of them when a stage reads several subjects.
        self.decoder: msgspec.json.Decoder[Event] = msgspec.json.Decoder(event_type)
        self.handler: Handler[Event] = handler  # type: ignore[assignment]
        self.give_up = give_up
        self.settings = settings
        self.concurrency = concurrency
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def stop(self) -> None:
        """Stop fetching; messages in hand are finished before :meth:`run` returns."""
        self._stopping.set()

    async def run(self) -> None:
        """Fetch and handle messages until stopped, then unsubscribe."""
        sub = await self.js.pull_subscribe_bind(durable=self.spec.durable, stream=STREAM)
        try:
            while not self._stopping.is_set():
                await self._fetch_into_free_slots(sub)
            if self._tasks:
                await asyncio.wait(self._tasks)
        finally:
            await sub.unsubscribe()

    async def _fetch_into_free_slots(self, sub: JetStreamContext.PullSubscription) -> None:
        free = self.concurrency - len(self._tasks)
        if free <= 0:
            await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
            return
        try:
            messages = await sub.fetch(free, timeout=FETCH_WAIT_SECONDS)
        except TimeoutError:  # nothing to do; nats-py raises both its own and asyncio's kind
            return
        except nats.errors.Error as exc:  # reconnecting, or a server hiccup: try again shortly
            log.warning("fetch failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(FETCH_WAIT_SECONDS)
            return
        for msg in messages:
            task = asyncio.create_task(self.settle(msg))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def settle(self, msg: Msg) -> None:
        """Decode, handle and settle one message (see the module docstring's table)."""
        try:
            event = self.decoder.decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self._terminate_undecodable(msg, exc)
            return
        with scan_context(event.scan_id):
            await self._handle(msg, event)

    async def _handle(self, msg: Msg, event: Event) -> None:
        stage = self.spec.stage
        delivery = msg.metadata.num_delivered
        last = delivery >= self.settings.max_deliver
        started = time.perf_counter()
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        metrics.IN_FLIGHT.labels(stage).inc()
        try:
            outcome = await self._run_handler(msg, event, delivery, last)
        finally:
            heartbeat.cancel()
            metrics.IN_FLIGHT.labels(stage).dec()
        seconds = time.perf_counter() - started
        metrics.MESSAGES.labels(stage, outcome).inc()
        metrics.STAGE_SECONDS.labels(stage, outcome).observe(seconds)
        log.info(
            "%s %s",
            stage,
            outcome,
            extra={"delivery": delivery, "seconds": round(seconds, 3), "subject": msg.subject},
        )

    async def _run_handler(self, msg: Msg, event: Event, delivery: int, last: bool) -> str:
        try:
            await asyncio.wait_for(self.handler(event), self.settings.stage_timeout_seconds)
        except Reject as exc:
            await self._fail(msg, event.scan_id, exc.reason)
            return "reject"
        except Retry as exc:
            if last:
                await self._fail(
                    msg, event.scan_id, f"{exc.reason} (gave up after {delivery} tries)"
                )
                return "gave_up"
            await msg.nak(delay=exc.delay)
            return "retry"
        except Exception as exc:  # the one place that catches everything: it must settle
            log.exception("%s handler failed on delivery %d", self.spec.stage, delivery)
            if last:
                await self._fail(msg, event.scan_id, self._crash_reason(exc, delivery))
                return "gave_up"
            await msg.nak(delay=backoff(delivery))
            return "error"
        await self._ack(msg)
        return "ack"

    async def _ack(self, msg: Msg) -> None:
        # Wait for the server to confirm, so a stopping worker leaves no ack in flight.
        try:
            await msg.ack_sync(timeout=ACK_CONFIRM_SECONDS)
        except (TimeoutError, nats.errors.Error):
            log.warning("the ack was not confirmed; the message may come again (handled once)")

    def _crash_reason(self, exc: BaseException, delivery: int) -> str:
        # Only the exception's type reaches the user: its text may hold internal details.
        kind = "timed out" if isinstance(exc, TimeoutError) else f"failed ({type(exc).__name__})"
        return f"the {self.spec.stage} stage {kind} on each of {delivery} attempts"

    async def _fail(self, msg: Msg, scan_id: uuid.UUID, reason: str) -> None:
        await self.give_up(scan_id, reason)
        await msg.term()

    async def _terminate_undecodable(self, msg: Msg, exc: Exception) -> None:
        reason = f"the {self.spec.stage} stage received a malformed message: {exc}"
        log.error("%s", reason, extra={"subject": msg.subject})
        metrics.MESSAGES.labels(self.spec.stage, "reject").inc()
        try:
            ref = msgspec.json.decode(msg.data, type=ScanRef)
        except (msgspec.DecodeError, msgspec.ValidationError):
            await msg.term()  # no scan to fail: nothing else can be done with it
            return
        with scan_context(ref.scan_id):
            await self._fail(msg, ref.scan_id, reason)

    async def _heartbeat(self, msg: Msg) -> None:
        interval = self.settings.ack_wait_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await msg.in_progress()
            except nats.errors.Error:
                log.warning("could not extend the ack deadline; the message may be redelivered")


class _Advisory(msgspec.Struct):
    stream_seq: int
    deliveries: int = 0


async def watch_exhausted(
    nc: NATS, js: JetStreamContext, spec: ConsumerSpec, give_up: GiveUp
) -> Subscription:
    """Fail the scan of any message whose deliveries ran out without being settled.

    That happens when workers die on every delivery (killed, out of memory): the server keeps
    the message in the work queue and only publishes an advisory. One replica (queue group)
    fails the scan and removes the message.
    """

    async def on_advisory(advisory_msg: Msg) -> None:
        advisory = msgspec.json.decode(advisory_msg.data, type=_Advisory)
        try:
            stored = await js.get_msg(STREAM, advisory.stream_seq)
        except nats.js.errors.NotFoundError:
            return  # another replica already handled it
        reason = (
            f"the {spec.stage} stage stopped responding on each of {advisory.deliveries} attempts"
        )
        try:
            ref = msgspec.json.decode(stored.data or b"", type=ScanRef)
        except (msgspec.DecodeError, msgspec.ValidationError):
            log.error("%s; the message names no scan", reason)
        else:
            with scan_context(ref.scan_id):
                log.error("%s", reason)
                await give_up(ref.scan_id, reason)
        await js.delete_msg(STREAM, advisory.stream_seq)

    return await nc.subscribe(
        max_deliveries_advisory(spec.durable), queue=f"{spec.durable}-advisories", cb=on_advisory
    )
