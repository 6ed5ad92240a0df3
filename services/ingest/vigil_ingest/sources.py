"""Bring a scan's source here and pack its tree: an uploaded archive from S3, or a git checkout.

Every way a source can be unusable becomes :class:`Reject` with a sentence for the user;
storage hiccups become :class:`Retry`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from vigil_common.config import Settings
from vigil_common.errors import Reject, Retry, StorageError
from vigil_common.repo_urls import InvalidRepoUrl, normalise
from vigil_common.schemas import ScanRequested
from vigil_common.sealing import SealingError, unseal
from vigil_common.storage import ObjectMissing, ObjectStore
from vigil_common.trees import TreeWriter
from vigil_ingest.classify import Classification, classify_entries, classify_tree, walk_files
from vigil_ingest.extract import archive_entries
from vigil_ingest.gitfetch import GitFetchFailed, GitOptions, fetch_repo
from vigil_ingest.limits import ArchiveRefused, Limits

GIT_TOKEN_PURPOSE: Final = "git-token"  # noqa: S105 a sealing purpose, not a secret


def limits_from(settings: Settings) -> Limits:
    """The archive limits configured for this deployment."""
    return Limits(
        settings.max_archive_bytes,
        settings.max_archive_files,
        settings.max_file_bytes,
        settings.max_compression_ratio,
    )


async def fetch_upload(store: ObjectStore, event: ScanRequested, workdir: Path) -> Path:
    """Download the uploaded archive; returns its path."""
    if event.upload_key is None:
        raise Reject("the scan has no uploaded archive; upload one")
    archive = workdir / "upload"
    try:
        await store.download(event.upload_key, archive)
    except ObjectMissing:
        raise Reject("the uploaded archive is missing from storage; upload it again") from None
    except StorageError as exc:
        raise Retry(str(exc)) from exc
    return archive


def classify_upload(
    archive: Path, archive_format: str, settings: Settings, packed: Path
) -> Classification:
    """Read the archive's files in memory, sort them, and pack the included ones at ``packed``."""
    entries = archive_entries(
        archive, archive_format, limits_from(settings), settings.max_source_file_bytes
    )
    try:
        with TreeWriter(packed) as writer:
            return classify_entries(entries, settings.max_source_file_bytes, writer.add)
    except ArchiveRefused as exc:
        raise Reject(f"archive refused: {exc.reason}") from None


def classify_checkout(tree: Path, settings: Settings, packed: Path) -> Classification:
    """Sort a checked-out tree's files and pack the included ones at ``packed``."""
    with TreeWriter(packed) as writer:
        return classify_tree(tree, settings.max_source_file_bytes, writer.add)


async def fetch_git(
    settings: Settings, event: ScanRequested, workdir: Path
) -> tuple[Path, str, Path | None]:
    """Check out the requested commit: the tree's folder, the commit SHA and, when
    ``VIGIL_SECRETS_GIT_HISTORY_DEPTH`` asks for it, a folder holding the history's ``.git``."""
    if event.repo_url is None:
        raise Reject("the scan has no repository URL")
    tree = workdir / "tree"
    options = GitOptions(
        timeout=settings.git_timeout_seconds,
        max_bytes=settings.max_archive_bytes,
        allow_private=settings.allow_private_networks,
        token=_token(settings, event),
        history_depth=settings.secrets_git_history_depth,
    )
    history = workdir / "history" if settings.secrets_git_history_depth else None
    if history is not None:
        history.mkdir()
    try:
        source = normalise(event.repo_url, event.ref)
        sha = await fetch_repo(source, tree, options, history)
    except (InvalidRepoUrl, GitFetchFailed) as exc:
        raise Reject(exc.reason) from None
    files = await asyncio.to_thread(lambda: sum(1 for _ in walk_files(tree)))
    if files > settings.max_archive_files:
        raise Reject(f"the repository holds more than {settings.max_archive_files} files")
    return tree, sha, history


def _token(settings: Settings, event: ScanRequested) -> str | None:
    if event.git_token_sealed is None:
        return None
    try:
        return unseal(event.git_token_sealed, settings.sealing_key, GIT_TOKEN_PURPOSE)
    except SealingError:
        raise Reject("the repository token could not be read; submit the scan again") from None
