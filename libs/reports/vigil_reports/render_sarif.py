"""The ``sarif`` format: SARIF 2.1.0 as GitHub code scanning accepts it.

One run, tool ``Vigil``: a rule per rule id with its CWE tags, help text and GitHub's
``security-severity`` (critical 9.5, high 8.0, medium 5.5, low 2.0, info 0.0: GitHub reads
9.0+ as critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low). Results point at paths relative
to ``%SRCROOT%`` (the root of the scanned tree) and carry the finding's fingerprint as a
partial fingerprint, so an alert keeps its identity across uploads. Findings triaged as false
positives or accepted risks carry an external, accepted suppression with the reason.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any, Final

import msgspec

from vigil_reports import text
from vigil_reports.model import Report, ReportFinding
from vigil_reports.render_markdown import inline

SCHEMA_URI: Final = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT: Final = "SRCROOT"
FINGERPRINT_KEY: Final = "vigilFingerprint/v1"
LEVELS: Final = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
SECURITY_SEVERITY: Final = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
    "info": "0.0",
}
_RANK: Final = {sev: rank for rank, sev in enumerate(LEVELS)}
_SUPPRESSED: Final = {"invalid": "false positive", "acknowledged": "accepted risk"}


def render(report: Report) -> bytes:
    """The report as a SARIF 2.1.0 log (UTF-8 JSON)."""
    rules = _rules(report.findings)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "Vigil", "rules": rules}},
        "automationDetails": {"id": f"vigil/{report.scan.project}/{report.scan.id}"},
        "originalUriBaseIds": {
            SRCROOT: {"description": {"text": "The root of the scanned source tree."}}
        },
        "invocations": [_invocation(report)],
        "results": [_result(f, index[f.rule_id]) for f in report.findings],
        "properties": _run_properties(report),
    }
    provenance = _provenance(report)
    if provenance:
        run["versionControlProvenance"] = provenance
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return msgspec.json.format(msgspec.json.encode(log), indent=2) + b"\n"


def _rules(findings: list[ReportFinding]) -> list[dict[str, Any]]:
    """One rule per rule id, described by its most severe finding."""
    chosen: dict[str, ReportFinding] = {}
    for finding in findings:
        seen = chosen.get(finding.rule_id)
        if seen is None or _RANK[finding.severity] < _RANK[seen.severity]:
            chosen[finding.rule_id] = finding
    return [_rule(chosen[rule_id]) for rule_id in sorted(chosen)]


def _rule(finding: ReportFinding) -> dict[str, Any]:
    help_text = f"{text.why(finding)}\n\nHow to fix: {text.fix(finding)}"
    rule: dict[str, Any] = {
        "id": finding.rule_id,
        "name": finding.rule_id,
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": text.why(finding)},
        "help": {"text": help_text, "markdown": _help_markdown(finding)},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {
            # SARIF tags are a set (uniqueItems): one of each, in first-seen order.
            "tags": list(dict.fromkeys(["security", *_cwe_tags(finding.cwe), *finding.owasp])),
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "precision": _precision(finding.confidence),
        },
    }
    urls = [url for url in map(text.cwe_url, finding.cwe) if url]
    if urls:
        rule["helpUri"] = urls[0]
    return rule


def _help_markdown(finding: ReportFinding) -> str:
    links = [f"[{cwe}]({url})" for cwe in finding.cwe if (url := text.cwe_url(cwe))]
    lines = [inline(text.why(finding)), "", f"**How to fix.** {inline(text.fix(finding))}"]
    if links:
        lines += ["", "References: " + ", ".join(links)]
    return "\n".join(lines)


def _cwe_tags(cwes: list[str]) -> list[str]:
    # GitHub shows CWE tags in CodeQL's form, external/cwe/cwe-89, beside the plain one.
    tags = []
    for cwe in cwes:
        tags.append(cwe)
        if cwe.upper().startswith("CWE-"):
            tags.append(f"external/cwe/cwe-{cwe[4:]}")
    return tags


def _precision(confidence: str) -> str:
    return {"high": "high", "medium": "medium", "low": "low"}.get(confidence, "medium")


def _result(finding: ReportFinding, rule_index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": finding.start_line, "endLine": finding.end_line}
    if finding.snippet:
        region["snippet"] = {"text": finding.snippet}
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": relative_uri(finding.file_path),
                        "uriBaseId": SRCROOT,
                    },
                    "region": region,
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            "security-severity": SECURITY_SEVERITY[finding.severity],
            "severity": finding.severity,
            "confidence": finding.confidence,
            "scanners": finding.reported_by or [finding.scanner],
            "validity": finding.validity,
        },
    }
    if finding.validity in _SUPPRESSED:
        why = finding.validity_reason or _SUPPRESSED[finding.validity]
        result["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{_SUPPRESSED[finding.validity]}: {why}",
            }
        ]
    return result


def _message(finding: ReportFinding) -> str:
    message = f"{finding.title}. {text.why(finding)}"
    if finding.evidence:
        message += f" Evidence (masked): {finding.evidence}."
    return message


def relative_uri(path: str) -> str:
    """A tree path as a relative URI reference: percent-encoded, never read as a scheme."""
    return urllib.parse.quote(path.lstrip("/"), safe="/")


def _invocation(report: Report) -> dict[str, Any]:
    scan = report.scan
    invocation: dict[str, Any] = {"executionSuccessful": scan.status == "completed"}
    if scan.started_at is not None:
        invocation["startTimeUtc"] = _utc(scan.started_at)
    if scan.finished_at is not None:
        invocation["endTimeUtc"] = _utc(scan.finished_at)
    if scan.error:
        invocation["toolExecutionNotifications"] = [
            {"message": {"text": scan.error}, "level": "error"}
        ]
    return invocation


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _run_properties(report: Report) -> dict[str, Any]:
    return {
        "scanId": str(report.scan.id),
        "project": report.scan.project,
        "status": report.scan.status,
        "score": report.scan.score,
        "grade": report.scan.grade,
        "severityCounts": report.severity_counts,
        "filtered": report.filtered.total,
    }


def _provenance(report: Report) -> list[dict[str, Any]]:
    source = report.scan.source
    parts = urllib.parse.urlsplit(source.repo_url or "")
    if source.type != "git" or not parts.scheme or not parts.hostname:
        return []  # repositoryUri must be an absolute URI; scp-style addresses are not
    # Never a credential in a report: keep the host and port, drop any user info.
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    entry: dict[str, Any] = {
        "repositoryUri": urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    }
    if source.commit:
        entry["revisionId"] = source.commit
    if source.ref:
        entry["branch"] = source.ref
    return [entry]
