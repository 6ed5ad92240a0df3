"""Every report format: its renderer, media type and file extension, in one table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from vigil_reports import render_html, render_json, render_markdown, render_pdf, render_sarif
from vigil_reports.model import FORMATS, Format, Report

RENDERERS: Final[dict[Format, Callable[[Report], bytes]]] = {
    "json": render_json.render,
    "markdown": render_markdown.render,
    "sarif": render_sarif.render,
    "html": render_html.render,
    "pdf": render_pdf.render,
}
CONTENT_TYPES: Final[dict[Format, str]] = {
    "json": "application/json",
    "markdown": "text/markdown; charset=utf-8",
    "sarif": "application/sarif+json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
EXTENSIONS: Final[dict[Format, str]] = {
    "json": "json",
    "markdown": "md",
    "sarif": "sarif",
    "html": "html",
    "pdf": "pdf",
}


def parse_format(value: str) -> Format | None:
    """The format named ``value``, or ``None`` for an unknown name."""
    return next((fmt for fmt in FORMATS if fmt == value), None)


def render(report: Report, fmt: Format) -> bytes:
    """``report`` rendered as ``fmt``."""
    return RENDERERS[fmt](report)
