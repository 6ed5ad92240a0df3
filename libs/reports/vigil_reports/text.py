"""Wording and small facts shared by the human-readable formats (Markdown, HTML, PDF)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from vigil_reports.model import Report, ReportFinding

SEVERITY_COLOURS: Final = {
    "critical": "#7b1fa2",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#f9a825",
    "info": "#1565c0",
}
VALIDITY_LABELS: Final = {
    "unreviewed": "not reviewed",
    "valid": "confirmed",
    "invalid": "false positive (triage)",
    "acknowledged": "accepted risk",
}
_CWE: Final = re.compile(r"CWE-(\d+)")


def title(report: Report) -> str:
    """The report's heading."""
    return f"Vigil security report: {report.scan.project}"


def when(moment: dt.datetime | None) -> str:
    """A timestamp as people read it, in UTC."""
    if moment is None:
        return "-"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def score_line(report: Report) -> str:
    """``74/100, grade C``, or why there is no score."""
    scan = report.scan
    if scan.score is None:
        return "not scored (the scan did not complete)"
    return f"{scan.score}/100, grade {scan.grade}"


def location(finding: ReportFinding) -> str:
    """``path:12`` or ``path:12-14``."""
    if finding.end_line > finding.start_line:
        return f"{finding.file_path}:{finding.start_line}-{finding.end_line}"
    return f"{finding.file_path}:{finding.start_line}"


def why(finding: ReportFinding) -> str:
    """Why the finding matters: its description, or a sentence built from its classification."""
    if finding.description.strip():
        return finding.description.strip()
    classes = ", ".join(finding.cwe + finding.owasp)
    kind = f" ({classes})" if classes else ""
    return f"{finding.title}{kind}: rated {finding.severity} by the {finding.scanner} scanner."


def fix(finding: ReportFinding) -> str:
    """How to fix it: the rule's recommendation, or the general advice for its kind."""
    if finding.recommendation.strip():
        return finding.recommendation.strip()
    if finding.evidence:
        return "Remove the secret from the code, revoke it, and load it from a secret store."
    return "Review the flagged code and apply the fix the CWE entry describes."


def cwe_url(cwe: str) -> str | None:
    """MITRE's page for a ``CWE-n`` tag."""
    match = _CWE.fullmatch(cwe.strip())
    return f"https://cwe.mitre.org/data/definitions/{match.group(1)}.html" if match else None


def by_file(report: Report) -> list[tuple[str, dict[str, int]]]:
    """Reported findings per file and severity, files with the most findings first."""
    files: dict[str, dict[str, int]] = {}
    for finding in report.findings:
        counts = files.setdefault(finding.file_path, dict.fromkeys(report.severity_counts, 0))
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return sorted(files.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))


def files_line(report: Report) -> str:
    """What was scanned, in one line."""
    files = report.scan.files
    if files.total is None:
        return "no files were read"
    parts = [f"{files.included if files.included is not None else files.total} files scanned"]
    if files.ignored:
        parts.append(f"{files.ignored} ignored")
    if files.skipped:
        parts.append(f"{files.skipped} skipped")
    return ", ".join(parts) + f" of {files.total}"
