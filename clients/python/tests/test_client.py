"""The client against a real gateway (real PostgreSQL, NATS and S3): uploads, pages,
errors, triage, keys, webhooks, waiting. The sync client runs in a thread so the gateway
keeps serving on the test's event loop."""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from collections.abc import Callable
from typing import TypeVar

import pytest

from conftest import MakeGatewayClient, Tenant, make_tenant
from vigil_client import VigilClient, VigilError
from vigil_client.models import Scan
from vigil_common.db import Pool
from vigil_common.findings import fingerprint, insert_findings
from vigil_common.schemas import Finding

T = TypeVar("T")


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


ARCHIVE = zip_of({"app.py": "import os\nos.system(input())\n"})


async def in_thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


async def vigil_for(gateway_client: MakeGatewayClient, key: str | None) -> VigilClient:
    gateway = await gateway_client()
    return VigilClient(str(gateway.make_url("")), key, sleep=lambda _s: None)


async def completed_scan_with(pool: Pool, tenant: Tenant, rules: list[str]) -> uuid.UUID:
    """A completed scan whose findings are written the way the stages write them."""
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, 'web') ON CONFLICT (org_id, name)"
        " DO UPDATE SET name = EXCLUDED.name RETURNING id",
        tenant.org_id,
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status)"
        " VALUES ($1, $2, $3, 'upload', 'completed')",
        scan_id, tenant.org_id, project_id,
    )  # fmt: skip
    findings = [
        Finding(
            scanner="semgrep",
            rule_id=rule,
            title=rule,
            severity="high",
            file_path="app.py",
            start_line=1,
            end_line=1,
            snippet=rule,
            fingerprint=fingerprint("semgrep", rule, "app.py", rule),
        )
        for rule in rules
    ]
    await insert_findings(
        pool, {"id": scan_id, "org_id": tenant.org_id, "project_id": project_id}, findings
    )
    return scan_id


async def test_a_direct_upload_creates_a_queued_scan(
    gateway_client: MakeGatewayClient, tenant: Tenant
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    scan = await in_thread(lambda: vigil.upload_archive(ARCHIVE, project="web"))
    assert isinstance(scan, Scan)
    assert (scan.status, scan.project, scan.source.type) == ("queued", "web", "upload")
    fetched = await in_thread(lambda: vigil.get_scan(scan.id))
    assert fetched.id == scan.id


async def test_a_presigned_upload_puts_the_archive_then_starts_the_scan(
    gateway_client: MakeGatewayClient, tenant: Tenant
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    scan = await in_thread(lambda: vigil.upload_archive_presigned(ARCHIVE, project="web"))
    assert scan.status == "queued"
    assert scan.source.format == "zip"


async def test_a_git_scan_is_queued_with_its_ref(
    gateway_client: MakeGatewayClient, tenant: Tenant
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    url = "http://127.0.0.1:9/team/app.git"
    scan = await in_thread(lambda: vigil.scan_git(url, ref="main", project="app"))
    assert (scan.status, scan.source.type, scan.source.ref) == ("queued", "git", "main")


async def test_iter_scans_follows_cursors_across_pages(
    gateway_client: MakeGatewayClient, tenant: Tenant
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    created = [await in_thread(lambda: vigil.upload_archive(ARCHIVE)) for _ in range(5)]
    first = await in_thread(lambda: vigil.list_scans(limit=2))
    assert len(first.items) == 2 and first.next_cursor is not None
    listed = await in_thread(lambda: [s.id for s in vigil.iter_scans(limit=2)])
    assert listed == [s.id for s in reversed(created)]  # newest first, each once


async def test_iter_findings_follows_cursors_and_filters(
    gateway_client: MakeGatewayClient, tenant: Tenant, pool: Pool
) -> None:
    rules = [f"rule-{n}" for n in range(5)]
    scan_id = str(await completed_scan_with(pool, tenant, rules))
    vigil = await vigil_for(gateway_client, tenant.key)
    found = await in_thread(lambda: list(vigil.iter_findings(scan_id=scan_id, limit=2)))
    assert sorted(f.rule_id for f in found) == rules
    only = await in_thread(lambda: list(vigil.iter_findings(rule_id=["rule-3"], severity=["high"])))
    assert [f.rule_id for f in only] == ["rule-3"]


async def test_triage_sets_validity_and_api_errors_carry_code_and_details(
    gateway_client: MakeGatewayClient, tenant: Tenant, pool: Pool
) -> None:
    scan_id = str(await completed_scan_with(pool, tenant, ["rule-a"]))
    vigil = await vigil_for(gateway_client, tenant.key)
    target = (await in_thread(lambda: vigil.list_findings(scan_id=scan_id))).items[0]
    with pytest.raises(VigilError) as refused:
        await in_thread(lambda: vigil.triage(target.id, "invalid"))
    assert (refused.value.status, refused.value.code) == (422, "invalid_request")
    assert refused.value.details == {"field": "reason"}
    assert refused.value.request_id
    triaged = await in_thread(lambda: vigil.triage(target.id, "invalid", reason="test data"))
    assert (triaged.validity, triaged.validity_reason) == ("invalid", "test data")


async def test_a_filtered_finding_can_be_restored(
    gateway_client: MakeGatewayClient, tenant: Tenant, pool: Pool
) -> None:
    scan_id = await completed_scan_with(pool, tenant, ["rule-f"])
    await pool.execute(
        "UPDATE findings SET status = 'filtered', filter_reason = 'test file' WHERE scan_id = $1",
        scan_id,
    )
    vigil = await vigil_for(gateway_client, tenant.key)
    target = (await in_thread(lambda: vigil.list_findings(scan_id=str(scan_id)))).items[0]
    assert target.status == "filtered"
    restored = await in_thread(lambda: vigil.restore_finding(target.id, reason="real code"))
    assert restored.status == "reported"


async def test_an_unknown_key_raises_the_apis_error(gateway_client: MakeGatewayClient) -> None:
    vigil = await vigil_for(gateway_client, "vgl_not-a-key")
    with pytest.raises(VigilError) as refused:
        await in_thread(vigil.me)
    assert (refused.value.status, refused.value.code) == (401, "invalid_api_key")
    assert "unknown, revoked or expired" in refused.value.message


async def test_keys_are_created_listed_and_revoked(
    gateway_client: MakeGatewayClient, tenant: Tenant
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    new = await in_thread(lambda: vigil.create_key("ci", scopes=["scans:read"]))
    assert new.key and new.scopes == ["scans:read"]
    assert new.id in [k.id for k in await in_thread(vigil.list_keys)]
    await in_thread(lambda: vigil.revoke_key(new.id))
    revoked = next(k for k in await in_thread(vigil.list_keys) if k.id == new.id)
    assert revoked.revoked_at is not None
    with pytest.raises(VigilError, match="invalid_api_key"):
        await in_thread(VigilClient(str(vigil.transport.http.base_url), new.key).me)


async def test_webhooks_are_created_rotated_listed_and_deleted(
    gateway_client: MakeGatewayClient, tenant: Tenant
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    hook = await in_thread(
        lambda: vigil.create_webhook("http://127.0.0.1:9/hook", description="ci")
    )
    assert hook.secret.startswith("whsec_")
    rotated = await in_thread(lambda: vigil.rotate_webhook_secret(hook.id))
    assert rotated.secret != hook.secret
    assert [h.id for h in await in_thread(vigil.list_webhooks)] == [hook.id]
    assert (await in_thread(lambda: vigil.list_deliveries(hook.id))).items == []
    await in_thread(lambda: vigil.delete_webhook(hook.id))
    assert await in_thread(vigil.list_webhooks) == []


async def test_wait_for_scan_polls_until_terminal_and_reports_progress(
    gateway_client: MakeGatewayClient, tenant: Tenant, pool: Pool
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    scan = await in_thread(lambda: vigil.upload_archive(ARCHIVE))
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    def progress(polled: Scan) -> None:
        seen.append(polled.status)
        if len(seen) == 2:  # the scan finishes while the client waits
            finish = pool.execute(
                "UPDATE scans SET status = 'completed' WHERE id = $1", uuid.UUID(scan.id)
            )
            asyncio.run_coroutine_threadsafe(finish, loop).result()

    done = await in_thread(
        lambda: vigil.wait_for_scan(scan.id, poll_interval=0, on_progress=progress)
    )
    assert done.status == "completed" and done.findings == []
    assert seen == ["queued", "queued", "completed"]


async def test_wait_for_scan_gives_up_after_its_timeout(
    gateway_client: MakeGatewayClient, tenant: Tenant
) -> None:
    vigil = await vigil_for(gateway_client, tenant.key)
    scan = await in_thread(lambda: vigil.upload_archive(ARCHIVE))
    with pytest.raises(VigilError) as gave_up:
        await in_thread(lambda: vigil.wait_for_scan(scan.id, poll_interval=0, timeout=0))
    assert gave_up.value.code == "scan_timeout"


async def test_another_organisations_scan_is_not_found(
    gateway_client: MakeGatewayClient, tenant: Tenant, pool: Pool
) -> None:
    other = await make_tenant(pool)
    mine = await vigil_for(gateway_client, tenant.key)
    theirs = await vigil_for(gateway_client, other.key)
    scan = await in_thread(lambda: theirs.upload_archive(ARCHIVE))
    with pytest.raises(VigilError) as refused:
        await in_thread(lambda: mine.get_scan(scan.id))
    assert (refused.value.status, refused.value.code) == (404, "not_found")
