"""Launch readiness, blocking items and the plain-language summary (docs/ai.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conftest import fake_openai
from vigil_common.findings import insert_findings
from vigil_common.schemas import Finding, ScanHunted
from vigil_common.scorecard import Reported, compute, launch_readiness
from vigil_validator.handlers import make_handler

fake = fake_openai
fake_llm, js, make_ctx, make_scan, put_tree = (
    fake.fake_llm, fake.js, fake.make_ctx, fake.make_scan, fake.put_tree
)  # fmt: skip


def reported(severity: str = "high", **fields: Any) -> Reported:
    values: dict[str, Any] = {"scanner": "semgrep", "rule_id": "python.x", "confidence": "high"}
    return Reported(severity=severity, **{**values, **fields})  # type: ignore[arg-type]


SECRET = reported("high", scanner="secrets", rule_id="aws-access-key", cwe=("CWE-798",))
DEP_FIXED = reported(
    "high", scanner="deps", rule_id="GHSA-1", recommendation="Upgrade to 2.0.1 or later"
)
DEP_UNFIXED = reported(
    "high", scanner="deps", rule_id="GHSA-2", recommendation="No fixed version is published"
)
ADMIN = reported("high", rule_id="python.flask.admin-no-auth", cwe=("CWE-306",))
MCP = reported("high", rule_id="vigil-python-mcp-tool-command-injection", cwe=("CWE-78",))


@pytest.mark.parametrize(
    ("findings", "kwargs", "expected"),
    [
        ([], {}, (100, "A", 100, [])),
        ([reported("high")], {}, (85, "B", 85, [])),
        ([reported("critical")], {}, (60, "D", 49, ["critical"])),
        ([SECRET], {}, (85, "B", 49, ["secret"])),
        ([reported("critical"), SECRET], {}, (45, "F", 35, ["critical", "secret"])),
        ([DEP_FIXED], {}, (85, "B", 49, ["fixable_dependency"])),
        ([DEP_UNFIXED], {}, (85, "B", 85, [])),
        ([ADMIN], {}, (85, "B", 49, ["unauthenticated_admin"])),
        ([], {"open_admin_routes": 2}, (100, "A", 49, ["unauthenticated_admin"])),
        # An MCP-category finding blocks and caps the grade only in an MCP server.
        ([MCP], {}, (85, "B", 85, [])),
        ([MCP], {"is_mcp_server": True}, (69, "D", 49, ["mcp"])),
        (
            [reported("medium", rule_id="vigil-js-mcp-x")],
            {"is_mcp_server": True},
            (95, "A", 95, []),
        ),
        # "mcp" inside a word is not the category.
        (
            [reported("high", rule_id="vigil-python-xmcpx")],
            {"is_mcp_server": True},
            (85, "B", 85, []),
        ),
        (
            [reported("critical"), SECRET, DEP_FIXED, ADMIN, MCP],
            {"is_mcp_server": True},
            (
                0,
                "F",
                0,
                ["critical", "secret", "unauthenticated_admin", "fixable_dependency", "mcp"],
            ),
        ),
    ],
)
def test_readiness_table(
    findings: list[Reported], kwargs: dict[str, Any], expected: tuple[int, str, int, list[str]]
) -> None:
    card = compute(findings, **kwargs)
    kinds = [b.kind for b in card.blockers]
    assert (card.score, card.grade, card.launch_readiness, kinds) == expected


def test_readiness_is_the_score_without_blockers_and_at_most_49_with() -> None:
    assert launch_readiness(72, []) == 72
    card = compute([reported("critical")])
    assert launch_readiness(95, card.blockers) == 49
    assert launch_readiness(30, card.blockers) == 30


def test_blockers_count_and_name_their_findings() -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    card = compute([reported("critical", id=ids[0]), reported("critical", id=ids[1])])
    (blocker,) = card.blockers
    assert (blocker.count, blocker.message, blocker.finding_ids) == (
        2,
        "2 critical findings",
        ids,
    )


def test_summary_is_plain_text_from_counts() -> None:
    card = compute([reported("critical"), reported("medium"), SECRET], filtered=4, files=12)
    assert card.summary == (
        "Not ready to launch: 2 blocking issues (1 critical finding; 1 hard-coded secret)."
        " 3 findings reported in 12 files (1 critical, 1 high, 1 medium). 4 more were filtered"
        " as false positives or duplicates, each with its reason. Security grade F (40/100),"
        " launch readiness 30/100."
    )
    clean = compute([], files=3)
    assert clean.summary == (
        "Ready to launch: nothing blocks it. No findings reported in 3 files."
        " Security grade A (100/100), launch readiness 100/100."
    )
    weak = compute([reported("high", confidence="high")] * 3)
    assert weak.summary.startswith("Nothing blocks a launch, but many lesser issues remain.")


TREE = {
    "app/db.py": "import sqlite3\n\n\ndef find(name):\n    return q('x' + name)\n",
    "app/keys.py": 'AWS = "AKIAZ7QW4R2T9LMNB3XV"\n',
}


def finding(scanner: str, rule_id: str, path: str, line: int, **fields: Any) -> Finding:
    return Finding(
        scanner=scanner, rule_id=rule_id, title=rule_id, file_path=path, start_line=line,
        end_line=line, fingerprint=f"{scanner}:{rule_id}:{path}:{line}",
        **{"severity": "high", "confidence": "high", **fields},
    )  # fmt: skip


async def test_the_validator_stores_readiness_blockers_and_summary(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any
) -> None:
    ctx = make_ctx()
    scan = await make_scan(tenant.org_id, "hunt")
    tree_key, manifest_key = await put_tree(scan["id"], TREE)
    await ctx.pool.execute("UPDATE scans SET included_files = 2 WHERE id = $1", scan["id"])
    await insert_findings(
        ctx.pool,
        scan,
        [
            finding("semgrep", "python.sqli", "app/db.py", 5, severity="critical", cwe=("CWE-89",)),
            finding("secrets", "aws-access-key", "app/keys.py", 1, cwe=("CWE-798",)),
        ],
    )
    event = ScanHunted(
        scan_id=scan["id"], org_id=tenant.org_id, tree_key=tree_key, manifest_key=manifest_key
    )
    await make_handler(ctx)(event)

    row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan["id"])
    sqli = await ctx.pool.fetchval(
        "SELECT id FROM findings WHERE scan_id = $1 AND rule_id = 'python.sqli'", scan["id"]
    )
    # critical (40) + high (15): 45, F; two kinds of blockers: min(45, 49) - 10 = 35.
    assert (row["status"], row["score"], row["grade"], row["launch_readiness"]) == (
        "completed",
        45,
        "F",
        35,
    )
    assert [(b["kind"], b["count"]) for b in row["launch_blockers"]] == [
        ("critical", 1),
        ("secret", 1),
    ]
    assert row["launch_blockers"][0]["finding_ids"] == [str(sqli)]
    assert row["summary"].startswith(
        "Not ready to launch: 2 blocking issues (1 critical finding; 1 hard-coded secret)."
        " 2 findings reported in 2 files (1 critical, 1 high)."
    )


async def test_an_mcp_server_with_a_high_mcp_finding_and_an_open_admin_route(
    make_ctx: Callable[..., Any], make_scan: Any, put_tree: Any, tenant: Any
) -> None:
    ctx = make_ctx()
    scan = await make_scan(tenant.org_id, "hunt")
    tree = {
        "server.py": "import subprocess\n\n\ndef tool(cmd):\n    subprocess.run(cmd, shell=True)\n"
    }
    tree_key, manifest_key = await put_tree(scan["id"], tree)
    await ctx.pool.execute("UPDATE scans SET is_mcp_server = true WHERE id = $1", scan["id"])
    await ctx.pool.executemany(
        "INSERT INTO scan_endpoints (scan_id, seq, org_id, method, path, file_path, line,"
        " framework, auth) VALUES ($1, $2, $3, 'GET', $4, 'server.py', 1, 'flask', $5)",
        [
            (scan["id"], 0, tenant.org_id, "/admin/users", False),
            (scan["id"], 1, tenant.org_id, "/admin/audit", True),  # authenticated: fine
            (scan["id"], 2, tenant.org_id, "/health", False),  # not an admin route
        ],
    )
    rule = "vigil-python-mcp-tool-command-injection"
    await insert_findings(
        ctx.pool, scan, [finding("semgrep", rule, "server.py", 5, cwe=("CWE-78",))]
    )
    event = ScanHunted(
        scan_id=scan["id"], org_id=tenant.org_id, tree_key=tree_key, manifest_key=manifest_key
    )
    await make_handler(ctx)(event)

    row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan["id"])
    # One high (85) capped at 69 in an MCP server; two kinds of blockers: min(69, 49) - 10.
    assert (row["score"], row["grade"], row["launch_readiness"]) == (69, "D", 39)
    assert [(b["kind"], b["count"]) for b in row["launch_blockers"]] == [
        ("unauthenticated_admin", 1),
        ("mcp", 1),
    ]
