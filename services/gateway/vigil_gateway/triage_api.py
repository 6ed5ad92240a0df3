"""Triage: a verdict on each finding that later scans of the project inherit, and comments.

``valid`` confirms a finding, ``invalid`` marks a false positive, ``acknowledged`` accepts the
risk (optionally ``until`` a date, after which the finding resurfaces as ``unreviewed``).
Every decision is recorded in the audit log and in ``triage_decisions``, from which the same
code (same fingerprint) found again in the project takes its validity.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import asyncpg
from aiohttp import web

from vigil_common import bus
from vigil_common.errors import Retry
from vigil_common.schemas import FindingTriaged
from vigil_common.subjects import FINDING_TRIAGED
from vigil_gateway import audit, scans
from vigil_gateway.appkeys import JETSTREAM, POOL
from vigil_gateway.auth import require
from vigil_gateway.bodies import decode_json, path_id
from vigil_gateway.errors import invalid, not_found
from vigil_gateway.models import CommentList, CommentOut, NewComment, Triage
from vigil_gateway.responses import json_response
from vigil_gateway.restore import restore

log = logging.getLogger(__name__)


async def _owned_finding(request: web.Request, org_id: uuid.UUID) -> asyncpg.Record:
    row = await request.app[POOL].fetchrow(
        "SELECT * FROM findings WHERE id = $1 AND org_id = $2",
        path_id(request, "finding_id", "finding"),
        org_id,
    )
    if row is None:
        raise not_found("finding")
    return row


def _check(body: Triage) -> None:
    if body.validity is None and body.status is None:
        raise invalid("give a validity, or status 'reported' to restore a filtered finding")
    if body.status == "reported" and not body.reason:
        raise invalid("a reason is required to restore a filtered finding", field="reason")
    if body.validity in {"invalid", "acknowledged"} and not body.reason:
        raise invalid(f"a reason is required to mark a finding {body.validity}", field="reason")
    if body.until is not None and body.validity != "acknowledged":
        raise invalid("until only applies to acknowledged findings", field="until")
    if body.until is not None and body.until <= dt.datetime.now(dt.UTC):
        raise invalid("until must be in the future", field="until")


async def triage(request: web.Request) -> web.Response:
    """``PATCH /v1/findings/{id}``: set the finding's validity, or restore a filtered one
    (``status: "reported"``, vigil_gateway.restore) (``findings:write``)."""
    principal = require(request, "findings:write")
    body = await decode_json(request, Triage)
    _check(body)
    finding = await _owned_finding(request, principal.org_id)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if body.status == "reported":
            await restore(conn, principal, finding, body.reason or "")
        if body.validity is None:
            row = await conn.fetchrow("SELECT * FROM findings WHERE id = $1", finding["id"])
            assert row is not None  # read above in the same organisation
            return json_response(scans.finding_out(row))
        row = await conn.fetchrow(
            "UPDATE findings SET validity = $2, validity_reason = $3, validity_until = $4,"
            " triaged_at = now() WHERE id = $1 RETURNING *",
            finding["id"], body.validity, body.reason, body.until,
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO triage_decisions (project_id, fingerprint, validity, reason, until,"
            " key_id) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, fingerprint)"
            " DO UPDATE SET validity = $3, reason = $4, until = $5, key_id = $6,"
            " decided_at = now()",
            finding["project_id"], finding["fingerprint"], body.validity, body.reason,
            body.until, principal.key_id,
        )  # fmt: skip
        details = {"from": finding["validity"], "to": body.validity, "reason": body.reason}
        await audit.record(conn, principal, "finding.triaged", "finding", finding["id"], details)
    assert row is not None  # the finding was read above in the same organisation
    await _announce(request, finding, body)
    return json_response(scans.finding_out(row))


async def _announce(request: web.Request, finding: asyncpg.Record, body: Triage) -> None:
    """Tell webhook subscribers (``finding.triaged``); the decision itself is already kept."""
    assert body.validity is not None  # only validity decisions are announced
    event = FindingTriaged(
        scan_id=finding["scan_id"], org_id=finding["org_id"], triage_id=uuid.uuid4(),
        finding_id=finding["id"], validity=body.validity, reason=body.reason,
    )  # fmt: skip
    try:
        await bus.publish(
            request.app[JETSTREAM], FINDING_TRIAGED, event, msg_id=f"triage:{event.triage_id}"
        )
    except Retry:
        log.warning("could not announce a triage decision", extra={"finding": str(finding["id"])})


async def list_comments(request: web.Request) -> web.Response:
    """``GET /v1/findings/{id}/comments``: oldest first."""
    principal = require(request, "scans:read")
    finding = await _owned_finding(request, principal.org_id)
    rows = await request.app[POOL].fetch(
        "SELECT id, finding_id, key_id, body, created_at FROM finding_comments"
        " WHERE finding_id = $1 ORDER BY created_at, id LIMIT 1000",
        finding["id"],
    )
    return json_response(CommentList([CommentOut(**dict(row)) for row in rows]))


async def add_comment(request: web.Request) -> web.Response:
    """``POST /v1/findings/{id}/comments`` (``findings:write``)."""
    principal = require(request, "findings:write")
    body = await decode_json(request, NewComment)
    finding = await _owned_finding(request, principal.org_id)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            "INSERT INTO finding_comments (finding_id, org_id, key_id, body)"
            " VALUES ($1, $2, $3, $4) RETURNING id, finding_id, key_id, body, created_at",
            finding["id"], principal.org_id, principal.key_id, body.body,
        )  # fmt: skip
        assert row is not None  # INSERT … RETURNING always answers a row
        await audit.record(conn, principal, "finding.commented", "finding", finding["id"])
    return json_response(CommentOut(**dict(row)), status=201)


def add_routes(app: web.Application) -> None:
    """Mount triage and comments."""
    app.router.add_patch("/v1/findings/{finding_id}", triage)
    app.router.add_get("/v1/findings/{finding_id}/comments", list_comments)
    app.router.add_post("/v1/findings/{finding_id}/comments", add_comment)
