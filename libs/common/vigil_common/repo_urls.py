"""Turn the repository URL and ref a user sent into one https URL and a checked ref.

Shared by the gateway (which refuses a bad source at once, 422) and ingest (which fetches it).

Accepted forms: ``https://host/owner/repo`` (with or without ``.git``), a browser URL
``https://host/owner/repo/tree/<branch>`` (GitLab's ``/-/tree/`` too; the branch is used when
no ref was given), ``git@host:owner/repo.git`` and ``ssh://git@host/owner/repo.git`` (fetched
over https instead). Query strings and fragments are dropped. Whether the host may be reached
is decided later, by the SSRF guard.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

_SCP_LIKE: Final = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):(?P<path>[^/].*)$")
_SSH: Final = re.compile(r"^ssh://(?:[\w.-]+@)?(?P<host>[\w.-]+)(?::\d+)?/(?P<path>.+)$")
_TREE: Final = re.compile(r"^(?P<repo>.+?)(?:/-)?/tree/(?P<branch>.+)$")
# A subset of git-check-ref-format: no leading '-', '..', '@{', control characters or spaces.
_REF: Final = re.compile(r"^(?!-)(?!.*\.\.)(?!.*@\{)(?!.*\.lock$)[\w./+@-]{1,255}$")
SHA: Final = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_MAX_URL: Final = 2048


class InvalidRepoUrl(Exception):
    """The URL or ref cannot be fetched; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RepoSource(msgspec.Struct, frozen=True):
    """What to fetch: an http(s) URL and a ref (``None`` for the default branch)."""

    url: str
    ref: str | None = None


def normalise(repo_url: str, ref: str | None = None) -> RepoSource:
    """The https URL and ref to fetch for what the user sent."""
    url = repo_url.strip()
    if not url or len(url) > _MAX_URL or url.startswith("-"):
        raise InvalidRepoUrl("the repository URL is not valid")
    url = _to_https(url).split("#", 1)[0].split("?", 1)[0].rstrip("/")
    tree = _TREE.match(url)
    if tree is not None:
        url = tree["repo"]
        ref = ref or tree["branch"]
    if ref is not None:
        ref = check_ref(ref)
    return RepoSource(url, ref or None)


def _to_https(url: str) -> str:
    for pattern in (_SCP_LIKE, _SSH):
        match = pattern.match(url)
        if match is not None:
            return f"https://{match['host']}/{match['path']}"
    if "://" not in url:
        raise InvalidRepoUrl("the repository URL must start with https://")
    return url


def check_ref(ref: str) -> str:
    """``ref`` stripped, or a refusal when it cannot be a branch, tag or commit SHA."""
    ref = ref.strip()
    if ref and not _REF.match(ref):
        raise InvalidRepoUrl(f"{ref!r} is not a valid branch, tag or commit")
    return ref


def is_sha(ref: str) -> bool:
    """Whether ``ref`` is a full commit id (short SHAs cannot be fetched shallowly)."""
    return SHA.match(ref) is not None
