"""A scan's findings as a GitLab SAST report (``artifacts:reports:sast``).

GitLab does not read SARIF for its security widgets; it wants its own "Secure report" JSON
(gitlab-org/security-products/security-report-schemas, ``sast-report-format.json``). Version
15.0.6 is one every GitLab since 16.2 accepts; timestamps have no zone or fraction, as the
schema's pattern requires, and each vulnerability's first identifier is the primary one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from vigil_client.models import Finding, Scan

SCHEMA_VERSION: Final = "15.0.6"
_SEVERITY: Final = {
    "critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info",
}  # fmt: skip
_VENDOR: Final = {"name": "Vigil"}


def _time(moment: dt.datetime | None) -> str:
    value = (moment or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _identifiers(finding: Finding) -> list[dict[str, str]]:
    rule = {"type": "vigil_rule", "name": finding.rule_id, "value": finding.rule_id}
    cwes = [
        {"type": "cwe", "name": cwe, "value": cwe.removeprefix("CWE-")}
        for cwe in finding.cwe
        if cwe.removeprefix("CWE-").isdigit()
    ]
    return [rule, *cwes]


def _vulnerability(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "name": finding.title[:255] or finding.rule_id,
        "description": (finding.description or finding.title)[:15000],
        "severity": _SEVERITY.get(finding.severity, "Unknown"),
        "solution": finding.recommendation[:7000] or None,
        "location": {
            "file": finding.file_path,
            "start_line": finding.start_line,
            "end_line": max(finding.end_line, finding.start_line),
        },
        "identifiers": _identifiers(finding),
    }


def sast_report(scan: Scan, findings: Sequence[Finding]) -> dict[str, Any]:
    """The report of ``scan`` listing ``findings`` (pass the reported, uncleared ones)."""
    tool = {"id": "vigil", "name": "Vigil", "version": "1", "vendor": _VENDOR}
    vulnerabilities = [
        {k: v for k, v in _vulnerability(f).items() if v is not None} for f in findings
    ]
    return {
        "version": SCHEMA_VERSION,
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "sast",
            "start_time": _time(scan.started_at or scan.created_at),
            "end_time": _time(scan.finished_at),
            "status": "success" if scan.status == "completed" else "failure",
        },
        "vulnerabilities": vulnerabilities,
    }
