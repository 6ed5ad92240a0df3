"""Resources and prompts: scans and findings by URI, and a prompt to triage a scan."""

from __future__ import annotations

import re
import uuid
from typing import Any, Final

import msgspec

from vigil_gateway.mcp.internal import Api
from vigil_gateway.mcp.protocol import INVALID_PARAMS, RESOURCE_NOT_FOUND, RpcError

TEMPLATES: Final = [
    {
        "uriTemplate": "vigil://scans/{scan_id}",
        "name": "scan",
        "description": "A scan with its findings (as get_scan with include_findings)",
        "mimeType": "application/json",
    },
    {
        "uriTemplate": "vigil://findings/{finding_id}",
        "name": "finding",
        "description": "One finding (as get_finding)",
        "mimeType": "application/json",
    },
]
_URI: Final = re.compile(r"vigil://(scans|findings)/([0-9a-fA-F-]{32,36})")


async def read_resource(api: Api, uri: str) -> dict[str, Any]:
    """``resources/read``: the scan or finding the URI names, as JSON text."""
    match = _URI.fullmatch(uri)
    try:
        item_id = uuid.UUID(match.group(2)) if match else None
    except ValueError:
        item_id = None
    if match is None or item_id is None:
        raise RpcError(RESOURCE_NOT_FOUND, "resource not found", {"uri": uri})
    if match.group(1) == "scans":
        value = await api.call("GET", f"/v1/scans/{item_id}", query={"include_findings": "true"})
    else:
        value = await api.call("GET", f"/v1/findings/{item_id}")
    text = msgspec.json.encode(value).decode()
    return {"contents": [{"uri": uri, "mimeType": "application/json", "text": text}]}


PROMPTS: Final = [
    {
        "name": "triage_scan",
        "title": "Triage a scan's findings",
        "description": "Review each reported finding of a scan and record a verdict",
        "arguments": [{"name": "scan_id", "description": "The scan's id", "required": True}],
    }
]

_TRIAGE: Final = """Triage the findings of Vigil scan {scan_id}.

1. Call get_scan with scan_id {scan_id}; if it is not completed yet, say so and stop.
2. Call list_findings with scan_id {scan_id}, status ["reported"] and validity ["unreviewed"],
   following next_cursor until it is null.
3. For each finding, call get_finding, read its code and, where you can, the surrounding
   source. Decide whether it is a real, reachable problem.
4. Record each verdict with triage_finding: "valid" for a real issue, "invalid" for a false
   positive, "acknowledged" for a real issue the team accepts; always give a short reason
   that a reviewer can check.
5. Finish with a table: finding id, rule, file:line, verdict, reason."""


def get_prompt(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``prompts/get``."""
    if name != "triage_scan":
        raise RpcError(INVALID_PARAMS, f"unknown prompt {name!r}")
    scan_id = arguments.get("scan_id")
    if not isinstance(scan_id, str) or not scan_id:
        raise RpcError(INVALID_PARAMS, "the triage_scan prompt needs a scan_id")
    text = _TRIAGE.format(scan_id=scan_id)
    return {
        "description": PROMPTS[0]["description"],
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    }
