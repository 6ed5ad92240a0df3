"""Every report format, rendered from a scan of the Python fixture app stored in PostgreSQL."""

from __future__ import annotations

import html.parser
import importlib.util
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pypdfium2 as pdfium
import pytest

from conftest import Tenant, make_tenant
from vigil_common.db import Pool
from vigil_common.storage import ObjectStore
from vigil_reports import (
    FORMATS,
    ensure_stored,
    load_report,
    render,
    render_all,
    render_pdf,
    report_key,
)
from vigil_reports.model import Report, Source

HERE = Path(__file__).parent
SARIF_SCHEMA = HERE / "fixtures" / "sarif-schema-2.1.0.json"


def _builder() -> Any:
    name = "vigil_reports_tests_scan_builder"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / "scan_builder.py")
        assert spec is not None and spec.loader is not None
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


builder = _builder()


async def built(pool: Pool, tenant: Tenant, **kwargs: Any) -> tuple[Any, Report]:
    scan = await builder.build_scan(pool, tenant.org_id, **kwargs)
    report = await load_report(pool, scan.scan_id, tenant.org_id)
    assert report is not None
    return scan, report


async def test_json_holds_the_scan_its_findings_and_the_filtered_count(
    pool: Pool, tenant: Tenant
) -> None:
    scan, report = await built(pool, tenant)
    data = json.loads(render(report, "json"))
    assert data["scan"]["id"] == str(scan.scan_id)
    assert data["scan"]["status"] == "completed"
    assert (data["scan"]["score"], data["scan"]["grade"]) == (scan.score, scan.grade)
    assert data["severity_counts"] == scan.counts
    assert len(data["findings"]) == scan.reported == 23
    assert data["scan"]["files"] == {
        "total": 5, "included": 4, "ignored": 1, "skipped": 0, "bytes": 9000
    }  # fmt: skip
    assert [s["name"] for s in data["scan"]["history"]][-1] == "completed"
    filtered = data["filtered"]
    assert filtered["total"] == scan.filtered
    assert {r["reason"] for r in filtered["reasons"]} == {
        "the model judged it a false positive", "duplicate of another finding (merged)"
    }  # fmt: skip
    assert sum(r["count"] for r in filtered["reasons"]) == scan.filtered
    severities = [f["severity"] for f in data["findings"]]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)


async def test_a_scan_of_another_organisation_is_not_loaded(pool: Pool, tenant: Tenant) -> None:
    scan, _ = await built(pool, tenant)
    other = await make_tenant(pool)
    assert await load_report(pool, scan.scan_id, other.org_id) is None
    assert await load_report(pool, uuid.uuid4()) is None


async def test_markdown_lists_every_finding_with_location_evidence_and_advice(
    pool: Pool, tenant: Tenant
) -> None:
    scan, report = await built(pool, tenant)
    text = render(report, "markdown").decode()
    assert f"| Score | {scan.score}/100, grade {scan.grade} |" in text
    for severity, count in scan.counts.items():
        assert f"| {severity} | {count} |" in text
    assert text.count("**Why it matters.**") == text.count("**How to fix.**") == 23
    assert "- **Location:** `app.py:64`" in text
    assert "- **Evidence (masked):** `generic-api-key sk_live_****abcd`" in text
    for finding in report.findings:
        assert f"```\n{finding.snippet}\n```" in text
    assert f"{scan.filtered} candidate findings were filtered" in text


async def test_markdown_escapes_a_hostile_title(pool: Pool, tenant: Tenant) -> None:
    _, report = await built(pool, tenant, title="[click](http://evil.test) <b>x</b> | cell")
    text = render(report, "markdown").decode()
    assert "[click](http://evil.test)" not in text
    assert "<b>" not in text
    assert r"\[click\](http://evil.test) \<b\>x\</b\> \| cell" in text


def sarif_of(report: Report) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(report, "sarif"))
    schema = json.loads(SARIF_SCHEMA.read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=str)
    assert errors == [], errors[:3]
    return log


async def test_sarif_is_valid_2_1_0_with_rules_levels_and_fingerprints(
    pool: Pool, tenant: Tenant
) -> None:
    _, report = await built(pool, tenant)
    log = sarif_of(report)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "Vigil"
    assert "SRCROOT" in run["originalUriBaseIds"]
    results, rules = run["results"], run["tool"]["driver"]["rules"]
    assert len(results) == len(report.findings) == 23
    levels = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
    levels["info"] = "note"
    for result, finding in zip(results, report.findings, strict=True):
        assert result["level"] == levels[finding.severity]
        assert result["partialFingerprints"] == {"vigilFingerprint/v1": finding.fingerprint}
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": finding.file_path, "uriBaseId": "SRCROOT"}
        assert location["region"]["startLine"] == finding.start_line
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule_id
    sqli = next(r for r in rules if r["id"] == "python.cwe-89.app")
    assert {"security", "CWE-89", "external/cwe/cwe-89"} <= set(sqli["properties"]["tags"])
    assert sqli["properties"]["security-severity"] == "8.0"
    assert sqli["helpUri"] == "https://cwe.mitre.org/data/definitions/89.html"
    assert "How to fix" in sqli["help"]["text"]


async def test_sarif_uris_are_relative_and_encoded(pool: Pool, tenant: Tenant) -> None:
    _, report = await built(pool, tenant)
    odd = msgspec.structs.replace(report.findings[0], file_path="c:odd dir/#1%.py")
    log = sarif_of(msgspec.structs.replace(report, findings=[odd]))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "c%3Aodd%20dir/%231%25.py"


async def test_sarif_names_the_repository_without_credentials(pool: Pool, tenant: Tenant) -> None:
    _, report = await built(pool, tenant)
    source = Source(
        type="git", repo_url="https://user:tok@example.test:8443/o/r.git", ref="main", commit="abc"
    )
    scan = msgspec.structs.replace(report.scan, source=source)
    log = sarif_of(msgspec.structs.replace(report, scan=scan))
    assert log["runs"][0]["versionControlProvenance"] == [
        {
            "repositoryUri": "https://example.test:8443/o/r.git",
            "revisionId": "abc",
            "branch": "main",
        }
    ]
    assert "tok" not in json.dumps(log["runs"][0]["versionControlProvenance"])


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"' onmouseover=alert(3)"


async def test_html_escapes_a_hostile_finding_title(pool: Pool, tenant: Tenant) -> None:
    _, report = await built(pool, tenant, title=HOSTILE)
    page = render(report, "html").decode()
    parser = _Tags()
    parser.feed(page)
    names = {tag for tag, _ in parser.tags}
    assert "script" not in names and "img" not in names
    assert not any(k.startswith("on") for _, attrs in parser.tags for k in attrs)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&quot;&#x27; onmouseover=alert(3)" in page


async def test_html_is_self_contained(pool: Pool, tenant: Tenant) -> None:
    scan, report = await built(pool, tenant)
    page = render(report, "html").decode()
    parser = _Tags()
    parser.feed(page)
    names = {tag for tag, _ in parser.tags}
    assert {"svg", "style", "table"} <= names
    assert not names & {"script", "link", "img", "iframe", "object"}
    assert not any("src" in attrs for _, attrs in parser.tags)
    hrefs = [attrs["href"] or "" for tag, attrs in parser.tags if tag == "a"]
    assert hrefs and all(h.startswith("https://cwe.mitre.org/") for h in hrefs)
    assert f"{scan.score}/100" in page
    assert "Findings per file" in page and "<code>storage.py</code>" in page


async def test_pdf_text_has_the_scores_and_every_finding(pool: Pool, tenant: Tenant) -> None:
    scan, report = await built(pool, tenant)
    body = render(report, "pdf")
    assert body.startswith(b"%PDF-")
    document = pdfium.PdfDocument(body)
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    assert f"{scan.score}/100, grade {scan.grade}" in text
    assert text.count("Why it matters.") == 23
    assert "generic-api-key sk_live_****abcd" in text


async def test_pdf_draws_the_most_severe_findings_in_full_and_counts_the_rest(
    pool: Pool, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, report = await built(pool, tenant)
    monkeypatch.setattr(render_pdf, "MAX_FINDINGS", 5)
    document = pdfium.PdfDocument(render(report, "pdf"))
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    assert text.count("Why it matters.") == 5
    assert "18 more findings, less severe, are listed in the HTML" in text


async def test_revision_changes_when_triage_changes_the_scan(pool: Pool, tenant: Tenant) -> None:
    scan, report = await built(pool, tenant)
    again = await load_report(pool, scan.scan_id)
    assert again is not None and report_key(again, "pdf") == report_key(report, "pdf")
    await pool.execute(
        "UPDATE findings SET validity = 'invalid', validity_reason = 'test code'"
        " WHERE id = $1", report.findings[0].id,
    )  # fmt: skip
    triaged = await load_report(pool, scan.scan_id)
    assert triaged is not None and report_key(triaged, "pdf") != report_key(report, "pdf")
    log = sarif_of(triaged)
    suppression = log["runs"][0]["results"][0]["suppressions"][0]
    assert suppression["kind"] == "external"
    assert suppression["justification"] == "false positive: test code"


async def test_render_all_stores_every_format_once(
    pool: Pool, store: ObjectStore, tenant: Tenant
) -> None:
    scan, report = await built(pool, tenant)
    assert await render_all(pool, store, scan.scan_id) == []
    for fmt in FORMATS:
        key = report_key(report, fmt)
        assert key.startswith(f"reports/{scan.scan_id}/")
        assert await store.head(key) > 0
        stored = await ensure_stored(store, report, fmt)
        assert stored.key == key and stored.body is None  # served from S3, not rendered again
    assert await render_all(pool, store, uuid.uuid4()) == list(FORMATS)
