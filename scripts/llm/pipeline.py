"""Run Vigil's real stages (static, AI hunter, validator) over the fixture apps, offline.

Shared by ``eval.py`` and ``record.py``. It starts a throwaway NATS, PostgreSQL and S3 (the same
embedded servers as ``make test``), stores each app as ingest would, and calls the stages'
handlers in order, as the workers would on each message. The model is whatever
OpenAI-compatible server ``base_url`` names. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncpg

from vigil_ai_hunter.handlers import make_handler as make_hunter
from vigil_common import bus
from vigil_common.config import Settings, load_settings
from vigil_common.db import Pool, connect_pool
from vigil_common.migrate import migrate
from vigil_common.schemas import ScanHunted, ScanIngested, ScanStaticDone, TreeManifest
from vigil_common.storage import ObjectStore, tree_keys
from vigil_common.trees import encode_manifest, pack_tree
from vigil_common.worker import StageContext
from vigil_devstack import make_temp_home, start_stack
from vigil_ingest.classify import describe_file
from vigil_static_scan.handlers import make_handler as make_static
from vigil_validator.handlers import make_handler as make_validator

ROOT: Final = Path(__file__).resolve().parents[2]
APPS: Final = ROOT / "services" / "static-scan" / "tests" / "fixtures" / "apps"
LANGUAGES: Final = ("python", "javascript", "go", "java")
TRUTH: Final = "ground_truth.json"
SCANNER_SETTINGS: Final = ("VIGIL_SEMGREP_BIN", "VIGIL_BETTERLEAKS_BIN", "VIGIL_OSV_DIR")


@dataclass(frozen=True)
class Entry:
    """One ground-truth vulnerability of a fixture app."""

    file: str
    line: int
    cwe: str


@dataclass
class AppRun:
    """One app through the stages: findings before the validator, and after it."""

    language: str
    truth: list[Entry]
    hunted: list[dict[str, Any]] = field(default_factory=list)
    final: list[dict[str, Any]] = field(default_factory=list)
    scan: dict[str, Any] = field(default_factory=dict)


def truth_of(app: Path) -> list[Entry]:
    """The app's ground-truth vulnerabilities."""
    items = json.loads((app / TRUTH).read_text())["vulnerabilities"]
    return [Entry(str(i["file"]), int(i["line"]), str(i["cwe"])) for i in items]


def matches(finding: Mapping[str, Any], entry: Entry) -> bool:
    """Same rule as the static stage's precision test: file, line ±1 and CWE."""
    return (
        str(finding["file_path"]).removeprefix("./") == entry.file
        and finding["start_line"] - 1 <= entry.line <= finding["end_line"] + 1
        and entry.cwe in finding["cwe"]
    )


def is_real(finding: Mapping[str, Any], truth: list[Entry]) -> bool:
    """True when the finding is one of the app's ground-truth vulnerabilities."""
    return any(matches(finding, entry) for entry in truth)


def settings_for(stack_env: Mapping[str, str], base_url: str | None, model: str | None) -> Settings:
    """Settings for the stages: the throwaway servers, the scanners, and the model if any."""
    env = {**stack_env, "VIGIL_S3_CREATE_BUCKET": "true"}
    env |= {name: os.environ[name] for name in SCANNER_SETTINGS if os.environ.get(name)}
    if base_url and model:
        env |= {
            "VIGIL_LLM_BASE_URL": base_url,
            "VIGIL_LLM_MODEL": model,
            # Small local models on 2 cores are slow, and sometimes 3-20x slower than usual.
            "VIGIL_LLM_TIMEOUT_SECONDS": os.environ.get("VIGIL_LLM_TIMEOUT_SECONDS", "600"),
            "VIGIL_LLM_MAX_RETRIES": "0",
            "VIGIL_STAGE_TIMEOUT_SECONDS": os.environ.get("VIGIL_STAGE_TIMEOUT_SECONDS", "7200"),
        }
    env |= {k: v for k, v in os.environ.items() if k.startswith("VIGIL_LLM_") and k not in env}
    return load_settings(env)


@contextlib.asynccontextmanager
async def lab(base_url: str | None, model: str | None) -> AsyncIterator[StageContext]:
    """A stage context on throwaway servers, migrated, with the pipeline stream."""
    home = make_temp_home("vigil-eval-")
    try:
        with start_stack(home, throwaway=True) as stack:
            settings = settings_for(stack.env, base_url, model)
            await migrate(settings.database_url)
            pool = await connect_pool(settings)
            store = ObjectStore(settings)
            await store.ensure_bucket()
            nc, js = await bus.connect(settings, "eval")
            await bus.ensure_stream(js)
            try:
                yield StageContext(settings, pool, store, js)
            finally:
                await nc.drain()
                await pool.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


async def _new_scan(pool: Pool, files: int) -> dict[str, uuid.UUID]:
    org_id = await pool.fetchval(
        "INSERT INTO organisations (name) VALUES ($1) RETURNING id", f"eval-{uuid.uuid4().hex[:8]}"
    )
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, 'fixture') RETURNING id", org_id
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status, stage, included_files)"
        " VALUES ($1, $2, $3, 'upload', 'running', 'ingest', $4)",
        scan_id, org_id, project_id, files,
    )  # fmt: skip
    return {"id": scan_id, "org_id": org_id, "project_id": project_id}


def manifest_of(app: Path) -> TreeManifest:
    """The app's manifest as ingest would write it (the ground truth left out)."""
    paths = sorted(p for p in app.rglob("*") if p.is_file() and p.name != TRUTH)
    entries = [describe_file(p.relative_to(app).as_posix(), p.read_bytes()) for p in paths]
    return TreeManifest(
        files=entries, total_files=len(entries), total_bytes=sum(e.size for e in entries)
    )


async def _store_app(store: ObjectStore, scan_id: uuid.UUID, app: Path) -> tuple[str, str, int]:
    """The app stored as ingest would: the tree archive and its manifest."""
    manifest = await asyncio.to_thread(manifest_of, app)
    entries = manifest.files
    with tempfile.TemporaryDirectory(prefix="vigil-eval-tree-") as tmp:
        archive = Path(tmp) / "tree.packed"
        pack_tree(app, manifest, archive)
        tree_key, manifest_key = tree_keys(scan_id)
        await store.put_bytes(tree_key, archive.read_bytes(), "application/gzip")
    await store.put_bytes(manifest_key, encode_manifest(manifest), "application/json")
    return tree_key, manifest_key, len(entries)


_FINDINGS: Final = (
    "SELECT scanner, rule_id, title, description, recommendation, severity, confidence, cwe,"
    " file_path, start_line, end_line, snippet, evidence, fingerprint, status, filter_reason,"
    " duplicate_of IS NOT NULL AS duplicate, provenance FROM findings WHERE scan_id = $1"
    " ORDER BY file_path, start_line, fingerprint"
)


def _plain(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["cwe"] = list(item["cwe"] or [])
    return item


async def run_app(ctx: StageContext, language: str) -> AppRun:
    """One fixture app through static, hunt and validate; the findings at each step."""
    app = APPS / language
    result = AppRun(language, truth_of(app))
    scan = await _new_scan(ctx.pool, 0)
    tree_key, manifest_key, files = await _store_app(ctx.store, scan["id"], app)
    await ctx.pool.execute("UPDATE scans SET included_files = $2 WHERE id = $1", scan["id"], files)
    keys: dict[str, Any] = {
        "scan_id": scan["id"],
        "org_id": scan["org_id"],
        "tree_key": tree_key,
        "manifest_key": manifest_key,
    }
    await make_static(ctx)(ScanIngested(**keys))
    print(f"  {language}: static done, hunting", file=sys.stderr, flush=True)
    await make_hunter(ctx)(ScanStaticDone(**keys))
    result.hunted = [_plain(r) for r in await ctx.pool.fetch(_FINDINGS, scan["id"])]
    print(f"  {language}: hunted, validating", file=sys.stderr, flush=True)
    await make_validator(ctx)(ScanHunted(**keys))
    result.final = [_plain(r) for r in await ctx.pool.fetch(_FINDINGS, scan["id"])]
    row = await ctx.pool.fetchrow(
        "SELECT status, score, grade, launch_readiness, llm_usage, summary FROM scans"
        " WHERE id = $1",
        scan["id"],
    )
    result.scan = dict(row) if row else {}
    events = await ctx.pool.fetch(
        "SELECT name, detail FROM scan_events WHERE scan_id = $1 ORDER BY seq", scan["id"]
    )
    result.scan["history"] = [f"{e['name']}: {e['detail'] or ''}" for e in events]
    return result
