"""The ``html`` format: one self-contained page (inline CSS and SVG, no script, no fetches).

Everything from the scan is untrusted and goes through :func:`html.escape`; a
Content-Security-Policy that forbids scripts and every external load backs that up.
"""

from __future__ import annotations

import html
from typing import Final

from vigil_reports import text
from vigil_reports.model import Report, ReportFinding

CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
_STYLE: Final = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d232a;
background:#f4f6f8}main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 12px}
.muted{color:#5b6672}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{background:#fff;border-radius:8px;padding:12px 16px;min-width:120px;
box-shadow:0 1px 2px #0002}.card b{display:block;font-size:24px}
table{border-collapse:collapse;width:100%;background:#fff}th,td{padding:6px 10px;
border-bottom:1px solid #e3e7eb;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.finding{background:#fff;border-radius:8px;padding:12px 16px;margin:12px 0;
box-shadow:0 1px 2px #0002;border-left:6px solid #999}
.sev{display:inline-block;color:#fff;border-radius:4px;padding:0 6px;font-size:12px;
font-weight:600;text-transform:uppercase}
pre{background:#0f1720;color:#e6edf3;padding:10px;border-radius:6px;overflow:auto;
white-space:pre-wrap;word-break:break-all}code{font-family:ui-monospace,Menlo,Consolas,monospace}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dt{color:#5b6672}
dd{margin:0}
"""


def esc(value: object) -> str:
    """Text from the scan, safe in element content and quoted attributes."""
    return html.escape(str(value), quote=True)


def render(report: Report) -> bytes:
    """The report as one HTML page (UTF-8)."""
    sections = (_header, _chart_section, _files, _findings, _filtered, _history)
    body = "".join(section(report) for section in sections)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{esc(text.title(report))}</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>\n"
    )
    return page.encode()


def _header(report: Report) -> str:
    scan = report.scan
    cards = [
        ("Score", f"{scan.score}/100" if scan.score is not None else "-", "score"),
        ("Grade", scan.grade or "-", "grade"),
        ("Reported findings", str(len(report.findings)), "findings"),
        ("Filtered", str(report.filtered.total), "filtered"),
        ("Status", scan.status, "status"),
    ]
    card_html = "".join(
        f'<div class="card" id="{key}"><span class="muted">{esc(label)}</span>'
        f"<b>{esc(value)}</b></div>"
        for label, value, key in cards
    )
    error = f'<p class="muted">Error: {esc(scan.error)}</p>' if scan.error else ""
    return (
        f"<h1>{esc(text.title(report))}</h1>"
        f'<p class="muted">Scan <code>{esc(scan.id)}</code> · {esc(text.files_line(report))}'
        f" · finished {esc(text.when(scan.finished_at))}</p>"
        f'<div class="cards">{card_html}</div>{error}'
    )


def severity_chart(counts: dict[str, int]) -> str:
    """A horizontal bar chart of findings per severity, as inline SVG."""
    width, bar_x, row = 560, 90, 30
    top = max(counts.values(), default=0) or 1
    rows = []
    for i, (severity, count) in enumerate(counts.items()):
        y = 10 + i * row
        length = round((width - bar_x - 60) * count / top)
        colour = text.SEVERITY_COLOURS.get(severity, "#777")
        rows.append(
            f'<text x="0" y="{y + 15}" font-size="13">{esc(severity)}</text>'
            f'<rect x="{bar_x}" y="{y}" width="{max(length, 1)}" height="20" rx="3"'
            f' fill="{colour}"/>'
            f'<text x="{bar_x + length + 8}" y="{y + 15}" font-size="13">{count}</text>'
        )
    height = 20 + len(counts) * row
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Findings by severity"'
        f' width="{width}" height="{height}" viewBox="0 0 {width} {height}"'
        f' font-family="system-ui,sans-serif">{"".join(rows)}</svg>'
    )


def _chart_section(report: Report) -> str:
    rows = "".join(
        f'<tr><td>{esc(sev)}</td><td class="n" id="count-{esc(sev)}">{n}</td></tr>'
        for sev, n in report.severity_counts.items()
    )
    return (
        "<h2>Severity overview</h2>"
        f"{severity_chart(report.severity_counts)}"
        f'<table><tr><th>severity</th><th class="n">findings</th></tr>{rows}</table>'
    )


def _files(report: Report) -> str:
    files = text.by_file(report)
    if not files:
        return ""
    severities = list(report.severity_counts)
    head = "".join(f'<th class="n">{esc(s)}</th>' for s in severities)
    rows = "".join(
        f"<tr><td><code>{esc(path)}</code></td>"
        + "".join(f'<td class="n">{counts.get(s, 0) or ""}</td>' for s in severities)
        + f'<td class="n">{sum(counts.values())}</td></tr>'
        for path, counts in files
    )
    return (
        "<h2>Findings per file</h2>"
        f'<table><tr><th>file</th>{head}<th class="n">total</th></tr>{rows}</table>'
    )


def _findings(report: Report) -> str:
    if not report.findings:
        return "<h2>Findings</h2><p>No findings were reported.</p>"
    items = "".join(_finding(n, f) for n, f in enumerate(report.findings, 1))
    return f"<h2>Findings</h2>{items}"


def _finding(number: int, finding: ReportFinding) -> str:
    colour = text.SEVERITY_COLOURS.get(finding.severity, "#777")
    facts = [
        ("Location", f"<code>{esc(text.location(finding))}</code>"),
        (
            "Rule",
            f"{esc(finding.rule_id)} ({esc(', '.join(finding.reported_by) or finding.scanner)})",
        ),
        ("Confidence", esc(finding.confidence)),
        ("Triage", esc(_triage(finding))),
    ]
    if finding.cwe or finding.owasp:
        facts.append(("Classification", _classes(finding)))
    if finding.evidence:
        facts.append(("Evidence (masked)", f"<code>{esc(finding.evidence)}</code>"))
    facts_html = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts)
    snippet = f"<pre><code>{esc(finding.snippet)}</code></pre>" if finding.snippet.strip() else ""
    return (
        f'<section class="finding" style="border-left-color:{colour}">'
        f'<h3>{number}. <span class="sev" style="background:{colour}">'
        f"{esc(finding.severity)}</span> {esc(finding.title)}</h3><dl>{facts_html}</dl>{snippet}"
        f"<p><strong>Why it matters.</strong> {esc(text.why(finding))}</p>"
        f"<p><strong>How to fix.</strong> {esc(text.fix(finding))}</p></section>"
    )


def _triage(finding: ReportFinding) -> str:
    label = text.VALIDITY_LABELS.get(finding.validity, finding.validity)
    return f"{label}, {finding.validity_reason}" if finding.validity_reason else label


def _classes(finding: ReportFinding) -> str:
    # CWE links go to MITRE; they are built from a validated number, never from raw text.
    parts = []
    for cwe in finding.cwe:
        url = text.cwe_url(cwe)
        parts.append(f'<a href="{esc(url)}">{esc(cwe)}</a>' if url else esc(cwe))
    return ", ".join(parts + [esc(o) for o in finding.owasp])


def _filtered(report: Report) -> str:
    filtered = report.filtered
    if not filtered.total:
        return ""
    rows = "".join(
        f'<tr><td>{esc(r.reason)}</td><td class="n">{r.count}</td></tr>' for r in filtered.reasons
    )
    return (
        f"<h2>Filtered</h2><p>{filtered.total} candidate findings were filtered and are not"
        f' listed above.</p><table><tr><th>reason</th><th class="n">findings</th></tr>{rows}'
        "</table>"
    )


def _history(report: Report) -> str:
    rows = "".join(
        f"<tr><td>{esc(text.when(s.at))}</td><td>{esc(s.name)}</td><td>{esc(s.detail or '')}</td>"
        "</tr>"
        for s in report.scan.history
    )
    return f"<h2>History</h2><table><tr><th>at</th><th>step</th><th>detail</th></tr>{rows}</table>"
