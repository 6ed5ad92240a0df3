"""The ``pdf`` format: the audit report as a printable PDF, drawn with fpdf2.

fpdf2 is pure Python (no system libraries, unlike HTML-to-PDF engines that need Pango). It
uses the PDF core font Helvetica, which covers Latin-1: typographic punctuation is mapped to
ASCII and any other character outside Latin-1 is printed as ``?`` (docs/reports.md).
"""

from __future__ import annotations

from typing import Final

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos

from vigil_reports import text
from vigil_reports.model import Report, ReportFinding

_ASCII: Final = str.maketrans(
    {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
     "\u2026": "...", "\u2022": "*", "\u00a0": " ", "\u2192": "->", "\t": "    "}
)  # fmt: skip
_LINE: Final = 5.0
# Findings drawn in full (about 2.5 ms each); past this the PDF says where the rest are.
MAX_FINDINGS: Final = 1000


def latin1(value: object) -> str:
    """``value`` as text the core fonts can draw."""
    return str(value).translate(_ASCII).encode("latin-1", "replace").decode("latin-1")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


class _Document(FPDF):
    """A page layout with the report's title in the footer."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 6, latin1(f"{self.footer_text} - page {self.page_no()}"), align="C")


def render(report: Report) -> bytes:
    """The report as PDF bytes."""
    pdf = _Document(format="A4")
    pdf.footer_text = text.title(report)
    pdf.set_title(latin1(text.title(report)))
    pdf.set_creator("Vigil")
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.add_page()
    _heading(pdf, text.title(report), 18)
    _summary(pdf, report)
    _severities(pdf, report)
    _findings(pdf, report)
    _filtered(pdf, report)
    return bytes(pdf.output())


def _heading(pdf: FPDF, value: str, size: int = 14) -> None:
    pdf.set_text_color(20, 25, 30)
    pdf.set_font("Helvetica", "B", size)
    _text(pdf, size * 0.5, latin1(value))
    pdf.ln(2)


def _pair(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(48, _LINE, latin1(label))
    pdf.set_font("Helvetica", size=10)
    _text(pdf, _LINE, latin1(value), WrapMode.CHAR)


def _text(pdf: FPDF, height: float, value: str, wrap: WrapMode = WrapMode.WORD) -> None:
    """One line when it fits (a plain cell is far cheaper than fpdf2's line breaking)."""
    room = pdf.epw - (pdf.get_x() - pdf.l_margin)
    if "\n" not in value and pdf.get_string_width(value) < room:
        pdf.cell(0, height, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    else:
        pdf.multi_cell(0, height, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT, wrapmode=wrap)


def _summary(pdf: FPDF, report: Report) -> None:
    scan = report.scan
    _pair(pdf, "Scan", str(scan.id))
    _pair(pdf, "Project", scan.project)
    _pair(pdf, "Status", scan.status + (f" ({scan.error})" if scan.error else ""))
    _pair(pdf, "Score", text.score_line(report))
    _pair(pdf, "Grade", scan.grade or "-")
    _pair(pdf, "Reported findings", str(len(report.findings)))
    _pair(pdf, "Filtered", str(report.filtered.total))
    _pair(pdf, "Files", text.files_line(report))
    _pair(pdf, "Languages", ", ".join(f"{k} ({v})" for k, v in scan.languages.items()) or "-")
    _pair(pdf, "Finished", text.when(scan.finished_at))
    pdf.ln(4)


def _severities(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "Severity overview")
    top = max(report.severity_counts.values(), default=0) or 1
    for severity, count in report.severity_counts.items():
        pdf.set_font("Helvetica", size=10)
        pdf.set_text_color(20, 25, 30)
        pdf.cell(28, 7, severity)
        x, y = pdf.get_x(), pdf.get_y()
        pdf.set_fill_color(*_rgb(text.SEVERITY_COLOURS.get(severity, "#777777")))
        length = max(120 * count / top, 0.8)
        pdf.rect(x, y + 1, length, 5, style="F")
        pdf.set_x(x + length + 3)
        pdf.cell(20, 7, str(count), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)


def _findings(pdf: FPDF, report: Report) -> None:
    _heading(pdf, "Findings")
    if not report.findings:
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, _LINE, "No findings were reported.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for number, finding in enumerate(report.findings[:MAX_FINDINGS], 1):
        _finding(pdf, number, finding)
    rest = len(report.findings) - MAX_FINDINGS
    if rest > 0:
        pdf.set_font("Helvetica", "B", 10)
        more = (
            f"{rest} more findings, less severe, are listed in the HTML, Markdown and JSON reports."
        )
        _text(pdf, _LINE, more)


def _finding(pdf: FPDF, number: int, finding: ReportFinding) -> None:
    pdf.set_text_color(*_rgb(text.SEVERITY_COLOURS.get(finding.severity, "#777777")))
    _heading(pdf, f"{number}. [{finding.severity.upper()}] {finding.title}", 12)
    pdf.set_text_color(20, 25, 30)
    _pair(pdf, "Location", text.location(finding))
    _pair(pdf, "Rule", f"{finding.rule_id} ({', '.join(finding.reported_by) or finding.scanner})")
    _pair(pdf, "Confidence", finding.confidence)
    _pair(pdf, "Triage", text.VALIDITY_LABELS.get(finding.validity, finding.validity))
    if finding.cwe or finding.owasp:
        _pair(pdf, "Classification", ", ".join(finding.cwe + finding.owasp))
    if finding.evidence:
        _pair(pdf, "Evidence (masked)", finding.evidence)
    if finding.snippet.strip():
        _code(pdf, finding.snippet)
    _paragraph(pdf, "Why it matters. ", text.why(finding))
    _paragraph(pdf, "How to fix. ", text.fix(finding))
    pdf.ln(3)


def _code(pdf: FPDF, code: str) -> None:
    # Courier is monospaced: wrap in Python and draw one cell per line, which is far cheaper
    # than fpdf2's line breaking (a report may hold thousands of snippets).
    pdf.set_font("Courier", size=8)
    pdf.set_fill_color(238, 240, 243)
    width = int(pdf.epw / pdf.get_string_width("M"))
    for line in latin1(code.rstrip()).splitlines() or [""]:
        for start in range(0, max(len(line), 1), width):
            pdf.cell(0, 4, line[start : start + width], fill=True, new_x=XPos.LMARGIN,
                     new_y=YPos.NEXT)  # fmt: skip


def _paragraph(pdf: FPDF, lead: str, body: str) -> None:
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, _LINE, lead.strip(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", size=10)
    _text(pdf, _LINE, latin1(body))


def _filtered(pdf: FPDF, report: Report) -> None:
    if not report.filtered.total:
        return
    _heading(pdf, "Filtered")
    pdf.set_font("Helvetica", size=10)
    intro = f"{report.filtered.total} candidate findings were filtered and are not listed above."
    pdf.multi_cell(0, _LINE, intro, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for reason in report.filtered.reasons:
        _pair(pdf, str(reason.count), reason.reason)
