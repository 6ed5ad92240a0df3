"""The MCP tools: argument Structs (their JSON Schema is the tool's ``inputSchema``) and calls.

Every tool is one v1 REST call (or two, for an inline archive) made through ``internal.Api``.
"""

from __future__ import annotations

import base64
import binascii
import io
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import msgspec

from vigil_common.schemas import Severity
from vigil_common.storage import upload_key
from vigil_gateway import uploads
from vigil_gateway.appkeys import SETTINGS, STORE
from vigil_gateway.errors import ApiError, invalid
from vigil_gateway.mcp.internal import Api
from vigil_gateway.models import Validity

# base64 in a JSON-RPC body: an agent should not push more through a tool call.
MAX_INLINE_ARCHIVE_BYTES: Final = 10 * 1024 * 1024

FindingStatus = Literal["reported", "filtered"]
ArchiveFormat = Literal["zip", "tar", "tar.gz", "tar.bz2", "tar.xz"]
ScanId = Annotated[uuid.UUID, msgspec.Meta(description="The scan's id")]
FindingId = Annotated[uuid.UUID, msgspec.Meta(description="The finding's id")]


def _doc(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


class Args(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every tool's arguments: a misspelt argument is an error, not ignored."""


class StartScan(Args):
    """``start_scan``: a git repository, or an archive given inline."""

    repo_url: Annotated[str, _doc("https:// URL of a git repository to clone")] | None = None
    ref: Annotated[str, _doc("Branch, tag or commit (default: the default branch)")] | None = None
    archive_base64: (
        Annotated[str, _doc(f"The archive, base64; at most {MAX_INLINE_ARCHIVE_BYTES} bytes")]
        | None
    ) = None
    archive_format: ArchiveFormat = "zip"
    project: Annotated[str, _doc("Project name (default 'default')")] | None = None


class GetScan(Args):
    """``get_scan``."""

    scan_id: ScanId
    include_findings: Annotated[bool, _doc("Add every finding of the scan")] = False


class ListFindings(Args):
    """``list_findings``: newest first, filtered, a page at a time."""

    scan_id: Annotated[uuid.UUID, _doc("Only this scan's findings")] | None = None
    severity: list[Severity] | None = None
    status: Annotated[list[FindingStatus], _doc("filtered: judged a false positive")] | None = None
    validity: list[Validity] | None = None
    rule_id: Annotated[list[str], _doc("Rule or check ids")] | None = None
    file_prefix: Annotated[str, _doc("Only files whose path starts with this")] | None = None
    project: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200)] = 50
    cursor: Annotated[str, _doc("next_cursor of the previous page")] | None = None


class GetFinding(Args):
    """``get_finding``."""

    finding_id: FindingId


class GetReport(Args):
    """``get_report``: a finished scan's report in a text format."""

    scan_id: ScanId
    format: Annotated[
        Literal["markdown", "json", "sarif"], _doc("markdown to read, json or sarif for tools")
    ] = "markdown"


@dataclass(frozen=True)
class Document:
    """A tool answer that is a document: its text as is, and a structured form of it."""

    text: str
    structured: dict[str, Any]


class TriageFinding(Args):
    """``triage_finding``: the verdict later scans of the project inherit."""

    finding_id: FindingId
    validity: Annotated[
        Literal["valid", "invalid", "acknowledged"],
        _doc("valid: a real issue; invalid: a false positive; acknowledged: an accepted risk"),
    ]
    reason: Annotated[str, _doc("Why (required for invalid and acknowledged)")] | None = None
    until: Annotated[str, _doc("acknowledged only: ISO 8601 date it expires")] | None = None


async def start_scan(api: Api, args: StartScan) -> Any:
    """Queue a scan of a git repository or an inline archive (``scans:write``)."""
    if (args.repo_url is None) == (args.archive_base64 is None):
        raise invalid("give either repo_url or archive_base64", field="repo_url")
    if args.repo_url is not None:
        body = {"source_type": "git", "repo_url": args.repo_url, "ref": args.ref}
        return await api.call("POST", "/v1/scans", body={**body, "project": args.project})
    if args.ref is not None:
        raise invalid("ref is only accepted with repo_url", field="ref")
    archive = _decode_archive(args.archive_base64 or "", args.archive_format, api)
    # The REST two-step upload: create (scope, quota, project checks), store, start.
    body = {"source_type": args.archive_format, "project": args.project}
    created = await api.call("POST", "/v1/scans", body=body)
    scan_id = uuid.UUID(created["id"])
    key = upload_key(scan_id, uploads.EXTENSIONS[args.archive_format])
    content_type = uploads.CONTENT_TYPES[args.archive_format]
    await api.app[STORE].put_fileobj(key, archive, content_type)
    return await api.call("POST", f"/v1/scans/{scan_id}/start")


def _decode_archive(text: str, fmt: str, api: Api) -> io.BytesIO:
    limit = min(MAX_INLINE_ARCHIVE_BYTES, api.app[SETTINGS].max_upload_bytes)
    if len(text) > (limit + 2) // 3 * 4 + 4:
        raise uploads.too_large(limit)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("archive_base64 is not valid base64", field="archive_base64") from None
    if len(raw) > limit:
        raise uploads.too_large(limit)
    archive = io.BytesIO(raw)
    uploads._check_magic(archive, fmt)  # the upload endpoint's own check: 422 empty or not fmt
    return archive


async def get_scan(api: Api, args: GetScan) -> Any:
    """A scan: status, stage, counts, score, history (``scans:read``)."""
    include = "true" if args.include_findings else "false"
    return await api.call("GET", f"/v1/scans/{args.scan_id}", query={"include_findings": include})


async def list_findings(api: Api, args: ListFindings) -> Any:
    """A page of findings, across scans or of one (``scans:read``)."""
    query: dict[str, str | None] = {
        "severity": _joined(args.severity),
        "status": _joined(args.status),
        "validity": _joined(args.validity),
        "rule_id": _joined(args.rule_id),
        "file_prefix": args.file_prefix,
        "project": args.project,
        "limit": str(args.limit),
        "cursor": args.cursor,
    }
    path = "/v1/findings" if args.scan_id is None else f"/v1/scans/{args.scan_id}/findings"
    return await api.call("GET", path, query=query)


def _joined(values: Sequence[str] | None) -> str | None:
    return ",".join(values) if values else None


async def get_finding(api: Api, args: GetFinding) -> Any:
    """One finding with its code, evidence and triage (``scans:read``)."""
    return await api.call("GET", f"/v1/findings/{args.finding_id}")


async def triage_finding(api: Api, args: TriageFinding) -> Any:
    """Set a finding's validity; recorded in the audit log (``findings:write``)."""
    body = {"validity": args.validity, "reason": args.reason, "until": args.until}
    return await api.call(
        "PATCH", f"/v1/findings/{args.finding_id}", body={k: v for k, v in body.items() if v}
    )


async def get_report(api: Api, args: GetReport) -> Document:
    """The report of a finished scan (``reports:read``), rendered by the report endpoint."""
    query: dict[str, str | None] = {"format": args.format}
    content_type, body = await api.fetch(f"/v1/scans/{args.scan_id}/report", query)
    text = body.decode()
    if args.format == "markdown":
        return Document(text, {"format": "markdown", "content_type": content_type, "text": text})
    return Document(text, {"format": args.format, "report": msgspec.json.decode(body)})


@dataclass(frozen=True)
class Tool:
    """One tool as ``tools/list`` shows it, and how to call it."""

    name: str
    title: str
    description: str
    args: type[Args]
    call: Callable[[Api, Any], Awaitable[Any]]
    read_only: bool

    def describe(self, with_title: bool) -> dict[str, Any]:
        """The ``tools/list`` entry (``title`` only where the protocol version has it)."""
        annotations = {"title": self.title, "readOnlyHint": self.read_only}
        if not self.read_only:
            annotations |= {"destructiveHint": False, "idempotentHint": False}
        entry: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "inputSchema": input_schema(self.args),
            "annotations": annotations,
        }
        return {"title": self.title, **entry} if with_title else entry

    def decode(self, arguments: dict[str, Any]) -> Args:
        """The arguments as the tool's Struct; a 422 naming the argument otherwise."""
        try:
            return msgspec.json.decode(msgspec.json.encode(arguments), type=self.args)
        except msgspec.ValidationError as exc:
            raise ApiError(422, "invalid_request", f"invalid arguments: {exc}") from None


def input_schema(args: type[Args]) -> dict[str, Any]:
    """The Struct's JSON Schema as an object schema (no ``$ref`` at the top, as MCP wants)."""
    (ref,), components = msgspec.json.schema_components([args])
    schema: dict[str, Any] = components[ref["$ref"].rsplit("/", 1)[-1]]
    for name in ("title", "description"):  # the Struct's own; the tool has its description
        schema.pop(name, None)
    return schema


TOOLS: Final = {
    tool.name: tool
    for tool in (
        Tool("start_scan", "Start a scan",
             "Scan a git repository (repo_url, optional ref) or a small archive given as"
             " base64. Answers the queued scan; poll get_scan until status is completed.",
             StartScan, start_scan, read_only=False),
        Tool("get_scan", "Get a scan",
             "A scan's status, stage, error, file counts, severity counts, score, grade and"
             " history; include_findings adds its findings.",
             GetScan, get_scan, read_only=True),
        Tool("list_findings", "List findings",
             "Findings newest first, filtered by scan, severity, status, validity, rule, file"
             " prefix or project; pass next_cursor back as cursor for the next page.",
             ListFindings, list_findings, read_only=True),
        Tool("get_finding", "Get a finding",
             "One finding: rule, CWE, severity, file, lines, code (secrets masked), triage.",
             GetFinding, get_finding, read_only=True),
        Tool("triage_finding", "Triage a finding",
             "Mark a finding valid, invalid (false positive) or acknowledged (accepted risk,"
             " optionally until a date) with a reason; later scans inherit the verdict.",
             TriageFinding, triage_finding, read_only=False),
        Tool("get_report", "Get a scan's report",
             "The report of a finished scan: markdown to read, json (Vigil's report document)"
             " or sarif (SARIF 2.1.0, for code-scanning tools).",
             GetReport, get_report, read_only=True),
    )
}  # fmt: skip
