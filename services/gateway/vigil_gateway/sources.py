"""Checking what a JSON scan request says about its source before the scan is accepted."""

from __future__ import annotations

from typing import Final

from vigil_common.config import Settings
from vigil_common.netguard import BlockedDestination, check_url, resolve_checked
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


WEBHOOK_SECRET_PURPOSE: Final = "webhook-secret"  # noqa: S105 - a sealing purpose, not a secret
MIN_CALLBACK_SECRET: Final = 16


async def checked_destination(url: str, settings: Settings, field: str) -> str:
    """``url`` if the SSRF guard admits it (scheme, host and every resolved address), else 422.

    Checked again when a delivery is sent: a name may resolve elsewhere by then.
    """
    allow_private = settings.allow_private_networks
    try:
        parsed = check_url(url, allow_private)
        await resolve_checked(parsed.host or "", parsed.port or 443, allow_private)
    except BlockedDestination as exc:
        raise invalid(f"{field}: {exc.reason}", field=field) from None
    return url


def seal_callback_secret(secret: str | None, settings: Settings) -> str | None:
    """The per-scan callback secret sealed for the notifier (never stored in the clear)."""
    if secret is None:
        return None
    if len(secret) < MIN_CALLBACK_SECRET:
        raise invalid(
            f"callback_secret must be at least {MIN_CALLBACK_SECRET} characters",
            field="callback_secret",
        )
    try:
        return seal(secret, settings.sealing_key, WEBHOOK_SECRET_PURPOSE)
    except SealingError:
        raise ApiError(
            503, "unavailable", "this server is not configured to keep callback secrets"
        ) from None
