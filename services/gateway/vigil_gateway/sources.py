"""Checking what a JSON scan request says about its source before the scan is accepted."""

from __future__ import annotations

from vigil_common.config import Settings
from vigil_common.netguard import BlockedDestination, check_url
from vigil_common.repo_urls import InvalidRepoUrl, RepoSource, check_ref, normalise
from vigil_common.sealing import SealingError, seal
from vigil_gateway.errors import ApiError, invalid
from vigil_gateway.models import CreateScan


def check_git_source(body: CreateScan, settings: Settings) -> RepoSource:
    """The repository and ref to clone (normalised as ingest will), or a 422 saying why."""
    if not body.repo_url:
        raise invalid("repo_url is required when source_type is 'git'", field="repo_url")
    try:
        check_ref(body.ref or "")
    except InvalidRepoUrl as exc:
        raise invalid(f"ref: {exc.reason}", field="ref") from None
    try:
        source = normalise(body.repo_url, body.ref)
    except InvalidRepoUrl as exc:
        raise invalid(f"repo_url: {exc.reason}", field="repo_url") from None
    try:
        check_url(source.url, settings.allow_private_networks)
    except BlockedDestination as exc:
        raise invalid(f"repo_url: {exc.reason}", field="repo_url") from None
    return source


def check_archive_source(body: CreateScan) -> None:
    """An archive scan takes no repository fields: say so rather than ignore them."""
    for field in ("repo_url", "ref", "git_token"):
        if getattr(body, field) is not None:
            raise invalid(f"{field} is only accepted when source_type is 'git'", field=field)


def seal_token(token: str | None, settings: Settings) -> str | None:
    """The git token sealed for ingest (never stored or sent in the clear)."""
    if token is None:
        return None
    try:
        return seal(token, settings.sealing_key, "git-token")
    except SealingError:
        raise ApiError(
            503, "unavailable", "this server is not configured to accept git tokens"
        ) from None
