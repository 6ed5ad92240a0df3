"""The GitLab SAST report: the fields and formats GitLab's schema (15.0.x) requires."""

from __future__ import annotations

import datetime as dt
import re

import msgspec

from vigil_client.gitlab import sast_report
from vigil_client.models import Finding, Scan

NOW = dt.datetime(2026, 11, 22, 5, 6, 7, 123456, tzinfo=dt.UTC)


def finding(severity: str, cwe: list[str]) -> Finding:
    return Finding(
        id="f1", scan_id="s1", fingerprint="fp", scanner="semgrep", rule_id="vigil-python-eval",
        severity=severity, confidence="high", title="eval of input", description="",
        recommendation="", cwe=cwe, owasp=[], file_path="app.py", start_line=3, end_line=3,
        snippet="", evidence="", status="reported", filter_reason=None, reported_by=["semgrep"],
        duplicate_of=None, validity="unreviewed", validity_reason=None, validity_until=None,
        first_seen_scan_id=None, first_seen_at=NOW, created_at=NOW,
    )  # fmt: skip


def scan() -> Scan:
    return msgspec.convert(
        {"id": "s1", "project": "p", "status": "completed", "stage": None, "error": None,
         "source": {"type": "upload"}, "created_at": NOW, "started_at": NOW,
         "finished_at": NOW, "files": {}, "finding_counts": {}},
        Scan,
    )  # fmt: skip


def test_a_finding_becomes_a_vulnerability_with_primary_and_cwe_identifiers() -> None:
    report = sast_report(scan(), [finding("high", ["CWE-95", "not-a-cwe"])])
    (vulnerability,) = report["vulnerabilities"]
    assert vulnerability == {
        "id": "f1",
        "name": "eval of input",
        "description": "eval of input",
        "severity": "High",
        "location": {"file": "app.py", "start_line": 3, "end_line": 3},
        "identifiers": [
            {"type": "vigil_rule", "name": "vigil-python-eval", "value": "vigil-python-eval"},
            {"type": "cwe", "name": "CWE-95", "value": "95"},
        ],
    }


def test_the_scan_block_has_gitlabs_required_keys_and_time_format() -> None:
    report = sast_report(scan(), [])
    assert report["version"].startswith("15.")
    block = report["scan"]
    assert (block["type"], block["status"]) == ("sast", "success")
    for key in ("start_time", "end_time"):
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", block[key])
    assert block["analyzer"]["vendor"]["name"] and block["scanner"]["id"]
