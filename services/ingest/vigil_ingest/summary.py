"""What ingest records about a tree: the stored manifest and the scan row's columns."""

from __future__ import annotations

import uuid
from typing import Any, Final

import msgspec

from vigil_common import scans
from vigil_common.db import Pool
from vigil_common.schemas import TreeManifest
from vigil_ingest.classify import Classification
from vigil_ingest.complexity import complexity_label, complexity_score

# The scan row keeps a sample of the skipped files; the manifest keeps them all.
MAX_SKIPPED_ON_ROW: Final = 100


class IngestSummary(msgspec.Struct, frozen=True, kw_only=True):
    """The counts, languages and complexity recorded on the scan row."""

    total_files: int
    included_files: int
    ignored_files: int
    risky_skipped_files: int
    skipped_files: list[dict[str, str]]
    total_bytes: int
    included_bytes: int
    languages: dict[str, int]
    language_stats: dict[str, dict[str, int]]
    complexity_score: int
    complexity_label: str
    commit_sha: str | None = None


def build_manifest(result: Classification, commit_sha: str | None) -> TreeManifest:
    """The manifest of the stored tree: its included files, with what was left out."""
    stats = result.language_stats()
    return TreeManifest(
        files=result.included,
        total_files=len(result.included),
        total_bytes=result.included_bytes,
        languages={lang: s.files for lang, s in stats.items()},
        language_lines={lang: s.lines for lang, s in stats.items()},
        ignored_files=result.ignored_files,
        skipped_files=result.skipped,
        commit_sha=commit_sha,
    )


def summarise(result: Classification, commit_sha: str | None) -> IngestSummary:
    """The scan row's view of a classified tree."""
    stats = result.language_stats()
    lines = sum(s.lines for s in stats.values())
    score = complexity_score(lines, len(result.included), set(stats), result.max_depth)
    return IngestSummary(
        total_files=result.total_files,
        included_files=len(result.included),
        ignored_files=result.ignored_files,
        risky_skipped_files=len(result.skipped),
        skipped_files=[
            {"path": path, "reason": reason}
            for path, reason in list(result.skipped.items())[:MAX_SKIPPED_ON_ROW]
        ],
        total_bytes=result.total_bytes,
        included_bytes=result.included_bytes,
        languages={lang: s.files for lang, s in stats.items()},
        language_stats={lang: msgspec.structs.asdict(s) for lang, s in stats.items()},
        complexity_score=score,
        complexity_label=complexity_label(score),
        commit_sha=commit_sha,
    )


async def record_summary(
    pool: Pool, scan_id: uuid.UUID, summary: IngestSummary, keys: tuple[str, str]
) -> None:
    """Write the tree's keys and the summary onto the scan row, and the history step."""
    columns: dict[str, Any] = msgspec.structs.asdict(summary)
    columns["tree_key"], columns["manifest_key"] = keys
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    await pool.execute(
        f"UPDATE scans SET {assignments}, updated_at = now() WHERE id = $1",  # noqa: S608 names are ours
        scan_id,
        *columns.values(),
    )
    detail = (
        f"{summary.included_files} of {summary.total_files} files kept"
        f" ({summary.ignored_files} ignored, {summary.risky_skipped_files} skipped)"
    )
    await scans.finish_stage(pool, scan_id, "ingest", detail)
