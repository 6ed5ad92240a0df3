"""Vigil's scan reports: load a scan's results from PostgreSQL and render them.

Formats: ``json``, ``markdown``, ``sarif`` (2.1.0, for GitHub code scanning), ``html`` (one
self-contained page) and ``pdf``. See docs/reports.md.
"""

from vigil_reports.formats import CONTENT_TYPES, EXTENSIONS, parse_format, render
from vigil_reports.load import load_report
from vigil_reports.model import FORMATS, Format, Report
from vigil_reports.store import StoredReport, ensure_stored, render_all, report_key, revision

__all__ = [
    "CONTENT_TYPES",
    "EXTENSIONS",
    "FORMATS",
    "Format",
    "Report",
    "StoredReport",
    "ensure_stored",
    "load_report",
    "parse_format",
    "render",
    "render_all",
    "report_key",
    "revision",
]
