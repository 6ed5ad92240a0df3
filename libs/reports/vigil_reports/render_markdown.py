"""The ``markdown`` format: an audit report a person reads, in CommonMark / GitHub Markdown.

Everything from the scan is untrusted: inline text is escaped (so a title cannot inject links,
HTML or table cells) and code goes in fences longer than any backtick run inside it.
"""

from __future__ import annotations

import re
from typing import Final

from vigil_reports import text
from vigil_reports.model import Report, ReportFinding

_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~#!])")
_TICKS: Final = re.compile(r"`+")


def inline(value: str) -> str:
    """``value`` as literal text on one line of Markdown."""
    return _SPECIAL.sub(r"\\\1", " ".join(value.split()))


def fence(code: str, language: str = "") -> list[str]:
    """A fenced code block that ``code`` cannot close early."""
    longest = max((len(run) for run in _TICKS.findall(code)), default=0)
    marks = "`" * max(3, longest + 1)
    return [f"{marks}{language}", *code.rstrip("\n").splitlines(), marks]


def render(report: Report) -> bytes:
    """The report as Markdown (UTF-8)."""
    lines = [f"# {inline(text.title(report))}", "", *_summary(report), *_severities(report)]
    lines += _findings(report) + _filtered(report) + _history(report)
    return ("\n".join(lines).rstrip() + "\n").encode()


def _summary(report: Report) -> list[str]:
    scan = report.scan
    rows = [
        ("Scan", f"`{scan.id}`"),
        ("Project", inline(scan.project)),
        ("Status", inline(scan.status) + (f" ({inline(scan.error)})" if scan.error else "")),
        ("Score", inline(text.score_line(report))),
        ("Reported findings", str(len(report.findings))),
        ("Filtered as false positives or duplicates", str(report.filtered.total)),
        ("Files", inline(text.files_line(report))),
        ("Languages", inline(", ".join(f"{k} ({v})" for k, v in scan.languages.items()) or "-")),
        ("Source", inline(_source(report))),
        ("Started", text.when(scan.started_at)),
        ("Finished", text.when(scan.finished_at)),
    ]
    table = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return ["## Summary", "", *table, ""]


def _source(report: Report) -> str:
    source = report.scan.source
    if source.type == "git":
        at = source.commit or source.ref or "default branch"
        return f"git {source.repo_url} at {at}"
    return f"uploaded {source.format or 'archive'}"


def _severities(report: Report) -> list[str]:
    rows = [f"| {sev} | {n} |" for sev, n in report.severity_counts.items()]
    return ["## Severity overview", "", "| severity | findings |", "|---|---|", *rows, ""]


def _findings(report: Report) -> list[str]:
    if not report.findings:
        return ["## Findings", "", "No findings were reported.", ""]
    lines = ["## Findings", ""]
    for number, finding in enumerate(report.findings, 1):
        lines += _finding(number, finding)
    return lines


def _finding(number: int, finding: ReportFinding) -> list[str]:
    head = f"### {number}. [{finding.severity.upper()}] {inline(finding.title)}"
    facts = [
        f"- **Location:** `{_code_span(text.location(finding))}`",
        f"- **Rule:** {inline(finding.rule_id)} ({inline(_scanners(finding))})",
        f"- **Confidence:** {inline(finding.confidence)}",
        f"- **Triage:** {inline(text.VALIDITY_LABELS.get(finding.validity, finding.validity))}"
        + (f", {inline(finding.validity_reason)}" if finding.validity_reason else ""),
    ]
    if finding.cwe or finding.owasp:
        facts.append(f"- **Classification:** {inline(', '.join(finding.cwe + finding.owasp))}")
    if finding.evidence:
        facts.append(f"- **Evidence (masked):** `{_code_span(finding.evidence)}`")
    lines = [head, "", *facts, ""]
    if finding.snippet.strip():
        lines += [*fence(finding.snippet), ""]
    lines += ["**Why it matters.** " + inline(text.why(finding)), ""]
    lines += ["**How to fix.** " + inline(text.fix(finding)), ""]
    return lines


def _scanners(finding: ReportFinding) -> str:
    return ", ".join(finding.reported_by) or finding.scanner


def _code_span(value: str) -> str:
    # A code span cannot hold a backtick; the value is shown, not interpreted, either way.
    return " ".join(value.replace("`", "'").split())


def _filtered(report: Report) -> list[str]:
    filtered = report.filtered
    if not filtered.total:
        return []
    rows = [f"| {inline(r.reason)} | {r.count} |" for r in filtered.reasons]
    intro = f"{filtered.total} candidate findings were filtered and are not listed above."
    return ["## Filtered", "", intro, "", "| reason | findings |", "|---|---|", *rows, ""]


def _history(report: Report) -> list[str]:
    rows = [
        f"| {text.when(step.at)} | {inline(step.name)} | {inline(step.detail or '')} |"
        for step in report.scan.history
    ]
    return ["## History", "", "| at | step | detail |", "|---|---|---|", *rows, ""]
