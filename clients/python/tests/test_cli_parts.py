"""Pieces of the CLI: progress display, default project names, which findings gate a build."""

from __future__ import annotations

import io
from typing import Any

import msgspec
import pytest

from vigil_client.cli import build_parser
from vigil_client.cli.progress import Progress
from vigil_client.cli.scan import _default_project, blocking
from vigil_client.models import Finding, Scan

BASE: dict[str, Any] = {
    "id": "s1", "project": "p", "error": None, "source": {"type": "upload"},
    "created_at": "2026-11-22T05:00:00Z", "started_at": None, "finished_at": None,
    "files": {}, "finding_counts": {},
}  # fmt: skip


def scan(status: str, stage: str | None = None) -> Scan:
    return msgspec.convert({**BASE, "status": status, "stage": stage}, Scan)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_rewrites_one_line_and_ends_it() -> None:
    out = Terminal()
    show = Progress(out)
    for state in (scan("queued"), scan("running", "static"), scan("completed")):
        show(state)
    text = out.getvalue()
    assert text.count("\r\033[K") == 3 and text.endswith("scan s1: completed\n")
    assert text.count("\n") == 1


def test_progress_in_a_log_prints_each_change_once() -> None:
    out = io.StringIO()
    show = Progress(out)
    for state in (scan("queued"), scan("queued"), scan("running", "static"), scan("completed")):
        show(state)
    assert out.getvalue().splitlines() == [
        "scan s1: queued", "scan s1: running (static)", "scan s1: completed",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("target", "project"),
    [
        ("https://git.example.com/team/app.git", "app"),
        ("git@github.com:team/tool.git", "tool"),
        ("git@host:repo", "repo"),
    ],
)
def test_the_default_project_is_the_repository_name(target: str, project: str) -> None:
    assert _default_project(target) == project


def test_the_default_project_of_a_folder_or_archive_is_its_name(tmp_path: Any) -> None:
    folder = tmp_path / "web-app"
    folder.mkdir()
    assert _default_project(str(folder) + "/") == "web-app"
    assert _default_project(str(tmp_path / "release.tar.gz")) == "release"


def finding(severity: str, status: str = "reported", validity: str = "unreviewed") -> Finding:
    return msgspec.convert(
        {
            "id": severity, "scan_id": "s1", "fingerprint": "f", "scanner": "semgrep",
            "rule_id": "r", "severity": severity, "confidence": "high", "title": "t",
            "description": "", "recommendation": "", "cwe": [], "owasp": [],
            "file_path": "a.py", "start_line": 1, "end_line": 1, "snippet": "", "evidence": "",
            "status": status, "filter_reason": None, "reported_by": [], "duplicate_of": None,
            "validity": validity, "validity_reason": None, "validity_until": None,
            "first_seen_scan_id": None, "first_seen_at": "2026-11-22T05:00:00Z",
            "created_at": "2026-11-22T05:00:00Z",
        },
        Finding,
    )  # fmt: skip


def test_only_standing_findings_at_or_above_the_threshold_gate() -> None:
    findings = [
        finding("critical", status="filtered"),
        finding("critical", validity="invalid"),
        finding("high", validity="acknowledged"),
        finding("medium"),
        finding("high", validity="valid"),
    ]
    assert [f.severity for f in blocking(findings, "high")] == ["high"]
    assert [f.severity for f in blocking(findings, "medium")] == ["medium", "high"]
    assert blocking(findings, "critical") == []


def test_connection_flags_work_before_and_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--api-key", "k1", "findings"])
    after = parser.parse_args(["findings", "--api-key", "k2"])
    assert (before.api_key, after.api_key) == ("k1", "k2")
    assert not hasattr(parser.parse_args(["findings"]), "api_key")
