"""Static-scan's handler for ``scan.ingested``: run the scanners, store candidate findings."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

from vigil_common import findings, scans
from vigil_common.bus import Handler
from vigil_common.config import Settings
from vigil_common.errors import Reject, Retry, StorageError
from vigil_common.schemas import Finding, ScanIngested, ScanStaticDone
from vigil_common.scratch import scratch_dir, scratch_root
from vigil_common.subjects import SCAN_STATIC_DONE
from vigil_common.trees import unpack_tree
from vigil_common.worker import StageContext
from vigil_static_scan import endpoints
from vigil_static_scan.deps import audit
from vigil_static_scan.scanners import secrets, semgrep
from vigil_static_scan.scanners.runner import ScannerFailed, run_tool
from vigil_static_scan.snippets import snippet_reader

PER_FILE_TIMEOUT_SECONDS = 30


def rule_dirs(settings: Settings) -> list[Path]:
    """Vigil's own rule packs, plus the folders in ``VIGIL_SEMGREP_RULES`` (``:``-separated)."""
    extra = [Path(p) for p in (settings.semgrep_rules or "").split(os.pathsep) if p]
    return [semgrep.RULES_DIR, *extra]


async def run_semgrep(settings: Settings, tree: Path, workdir: Path) -> tuple[list[Finding], str]:
    """Semgrep's findings over ``tree`` and a one-line note of what it did."""
    output = workdir / "semgrep.json"
    (tree / ".semgrepignore").write_text(semgrep.SEMGREPIGNORE)
    jobs = settings.semgrep_jobs or os.cpu_count() or 1
    argv = semgrep.command(
        settings.semgrep_bin, rule_dirs(settings), output, jobs, PER_FILE_TIMEOUT_SECONDS
    )
    try:
        await run_tool(
            argv,
            cwd=tree,
            ok_exit_codes=semgrep.OK_EXIT_CODES,
            limit_seconds=settings.stage_timeout_seconds * 0.8,
            env=semgrep.ENV,
        )
    except ScannerFailed as exc:
        if exc.exit_code == semgrep.INVALID_CONFIG_EXIT:
            raise Reject(_invalid_rules(output)) from exc
        # Worth another try (a killed or starved process), and the reason if it keeps failing.
        raise Retry(str(exc), delay=10) from exc
    report = semgrep.decode_report(output.read_bytes())
    found = semgrep.parse(report, snippet_reader(tree))
    note = f"semgrep {report.version}: {len(found)} findings"
    if report.errors:
        note += f", {len(report.errors)} files or rules could not be analysed"
    return found, note


async def run_secrets(settings: Settings, tree: Path, workdir: Path) -> tuple[list[Finding], str]:
    """Secret findings over ``tree`` (masked) and a one-line note of what was done."""
    output = workdir / "secrets.json"
    try:
        await run_tool(
            secrets.command(settings.betterleaks_bin, output),
            cwd=tree,
            ok_exit_codes=secrets.OK_EXIT_CODES,
            limit_seconds=settings.stage_timeout_seconds * 0.8,
        )
    except ScannerFailed as exc:
        raise Retry(str(exc), delay=10) from exc
    found = secrets.parse(secrets.decode_report(output.read_bytes()), snippet_reader(tree))
    return found, f"secrets: {len(found)} findings"


async def run_deps(settings: Settings, tree: Path, workdir: Path) -> tuple[list[Finding], str]:
    """Pinned dependencies with an OSV advisory, and a note naming the source and its date."""
    return await audit.run(tree, settings)


async def run_history_secrets(
    settings: Settings, tree: Path, workdir: Path
) -> tuple[list[Finding], str]:
    """Secrets in the kept git history (``VIGIL_SECRETS_GIT_HISTORY_DEPTH``), with commits.

    ``tree`` is the repository folder holding that history's ``.git``.
    """
    output = workdir / "history-secrets.json"
    try:
        await run_tool(
            secrets.history_command(settings.betterleaks_bin, tree, output),
            cwd=workdir,
            ok_exit_codes=secrets.OK_EXIT_CODES,
            limit_seconds=settings.stage_timeout_seconds * 0.8,
        )
    except ScannerFailed as exc:
        raise Retry(str(exc), delay=10) from exc
    found = secrets.parse_history(secrets.decode_report(output.read_bytes()))
    return found, f"secrets in git history: {len(found)} findings"


async def run_scanners(
    settings: Settings, tree: Path, workdir: Path, history: Path | None = None
) -> tuple[list[Finding], str]:
    """Every scanner at once; one that fails is recorded without losing the others' findings.

    A ``Reject`` (the user's rules are broken) still fails the scan, and so does no scanner
    having checked anything (all failed, or the rest skipped for want of configuration).
    ``history`` is a git repository of the source's recent commits, scanned for secrets too.
    """
    scanners = {"semgrep": run_semgrep, "secrets": run_secrets, "deps": run_deps}
    targets = dict.fromkeys(scanners, tree)
    if history is not None:
        scanners["secrets in git history"] = run_history_secrets
        targets["secrets in git history"] = history
    results = await asyncio.gather(
        *(scan(settings, targets[name], workdir) for name, scan in scanners.items()),
        return_exceptions=True,
    )
    found: list[Finding] = []
    notes, failures, checked = [], [], 0
    for name, result in zip(scanners, results, strict=True):
        if isinstance(result, Reject):
            raise result
        if isinstance(result, BaseException):
            failures.append(f"{name} failed: {result}")
            continue
        found += result[0]
        notes.append(result[1])
        checked += result[1] != audit.SKIPPED
    if not checked:
        raise Retry("; ".join(failures) or "no scanner could run", delay=10)
    return _without_history_repeats(found), "; ".join(notes + failures)


def _without_history_repeats(found: list[Finding]) -> list[Finding]:
    """Drop a history secret that is still in the checkout: the tree's finding reports it."""
    current = {(f.rule_id, f.file_path, f.evidence) for f in found if f.scanner == secrets.NAME}
    return [
        f
        for f in found
        if not f.rule_id.startswith("history-")
        or (f.rule_id.removeprefix("history-"), f.file_path, f.evidence.split(" (commit ")[0])
        not in current
    ]


def _invalid_rules(output: Path) -> str:
    detail = ""
    if output.exists():
        detail = semgrep.config_errors(semgrep.decode_report(output.read_bytes()))
    return f"a Semgrep rule folder (VIGIL_SEMGREP_RULES) is invalid: {detail or 'see the logs'}"


def make_handler(ctx: StageContext) -> Handler[ScanIngested]:
    """Build the handler bound to this process's connections."""
    # The first scan with pinned dependencies would otherwise wait seconds for the index.
    threading.Thread(target=audit.warm, args=(ctx.settings.osv_dir,), daemon=True).start()

    async def handle(event: ScanIngested) -> None:
        scan = await scans.start_stage(ctx.pool, event.scan_id, "static")
        if scan is None:
            return
        root = scratch_root(ctx.settings.scratch_dir, scan["included_bytes"] or 0)
        async with scratch_dir("vigil-static-", root) as workdir:
            tree = await _fetch_tree(ctx, event, workdir)
            history = await _fetch_history(ctx, event, workdir)
            # Indexing needs one core briefly, mostly while Semgrep loads its rules; it is
            # awaited even when a scanner fails, so the folder outlives every reader.
            indexing = asyncio.create_task(
                endpoints.index_scan(ctx.pool, scan["id"], scan["org_id"], tree)
            )
            try:
                found, note = await run_scanners(ctx.settings, tree, workdir, history)
            finally:
                indexed = await indexing
            await findings.insert_findings(ctx.pool, dict(scan), found)
            await scans.finish_stage(ctx.pool, event.scan_id, "static", f"{note}; {indexed}")
            await ctx.publish(
                SCAN_STATIC_DONE,
                ScanStaticDone(
                    scan_id=event.scan_id,
                    org_id=event.org_id,
                    tree_key=event.tree_key,
                    manifest_key=event.manifest_key,
                ),
            )

    return handle


async def _fetch_tree(ctx: StageContext, event: ScanIngested, workdir: Path) -> Path:
    return await _fetch_unpacked(ctx, event.tree_key, workdir / "tree")


async def _fetch_history(ctx: StageContext, event: ScanIngested, workdir: Path) -> Path | None:
    """The source's git history as a repository folder, when ingest kept it."""
    if event.history_key is None:
        return None
    return await _fetch_unpacked(ctx, event.history_key, workdir / "history")


async def _fetch_unpacked(ctx: StageContext, key: str, dest: Path) -> Path:
    """Download a packed folder from S3 and unpack it at ``dest``."""
    archive = dest.with_name(f"{dest.name}.packed")
    try:
        await ctx.store.download(key, archive)
    except StorageError as exc:
        raise Retry(str(exc)) from exc
    await asyncio.to_thread(unpack_tree, archive, dest)
    return dest
