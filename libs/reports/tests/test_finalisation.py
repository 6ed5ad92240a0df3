"""The validator stores every report of a scan it completes (vigil_reports.render_all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import fake_openai
from vigil_common.findings import fingerprint, insert_findings
from vigil_common.schemas import Finding, ScanHunted
from vigil_common.storage import ObjectStore
from vigil_reports import FORMATS, load_report, report_key
from vigil_validator.handlers import make_handler

# The AI stages' fixtures (a stage context, running scans, stored trees), as their tests use them.
fake_llm, js, make_ctx, make_scan, put_tree = (
    fake_openai.fake_llm, fake_openai.js, fake_openai.make_ctx, fake_openai.make_scan,
    fake_openai.put_tree,
)  # fmt: skip

CODE = "import os\n\n\ndef run(cmd):\n    os.system(cmd)\n"


async def test_completing_a_scan_stores_its_reports_in_every_format(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any, store: ObjectStore
) -> None:
    ctx = make_ctx()
    scan = await make_scan(tenant.org_id, "hunt")
    tree_key, manifest_key = await put_tree(scan["id"], {"app/shell.py": CODE})
    found = Finding(
        scanner="semgrep", rule_id="python.os-system", title="Command built from input",
        severity="critical", cwe=("CWE-78",), file_path="app/shell.py", start_line=5,
        end_line=5, snippet="    os.system(cmd)",
        fingerprint=fingerprint("semgrep", "python.os-system", "app/shell.py", "os.system(cmd)"),
    )  # fmt: skip
    await insert_findings(ctx.pool, scan, [found])
    event = ScanHunted(
        scan_id=scan["id"], org_id=tenant.org_id, tree_key=tree_key, manifest_key=manifest_key
    )
    await make_handler(ctx)(event)

    report = await load_report(ctx.pool, scan["id"])
    assert report is not None and report.scan.status == "completed"
    assert [f.rule_id for f in report.findings] == ["python.os-system"]
    for fmt in FORMATS:
        assert await store.head(report_key(report, fmt)) > 0
