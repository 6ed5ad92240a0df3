"""Checking what a JSON scan request says about its source before the scan is accepted."""

from __future__ import annotations

import re
from typing import Final

from vigil_common.config import Settings
from vigil_common.netguard import BlockedDestination, check_url
from vigil_common.sealing import SealingError, seal
from vigil_gateway.errors import ApiError, invalid
from vigil_gateway.models import CreateScan

# git@github.com:owner/repo.git — the scp-like form people copy from code hosts.
_SCP_LIKE: Final = re.compile(r"^git@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^\s]+)$")
MAX_REF_LENGTH: Final = 255
_REF: Final = re.compile(r"^[A-Za-z0-9._/@+-]+$")


def https_form(repo_url: str) -> str:
    """The https URL of a repository given in any accepted form (scp-like becomes https)."""
    match = _SCP_LIKE.match(repo_url.strip())
    if match:
        return f"https://{match['host']}/{match['path']}"
    return repo_url.strip()


def check_git_source(body: CreateScan, settings: Settings) -> str:
    """The repository URL to clone, or a 422 naming what is wrong."""
    if not body.repo_url:
        raise invalid("repo_url is required when source_type is 'git'", field="repo_url")
    url = https_form(body.repo_url)
    try:
        check_url(url, settings.allow_private_networks)
    except BlockedDestination as exc:
        raise invalid(f"repo_url: {exc.reason}", field="repo_url") from None
    if body.ref is not None and not (len(body.ref) <= MAX_REF_LENGTH and _REF.match(body.ref)):
        raise invalid("ref must be a branch, tag or commit SHA", field="ref")
    return url


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
