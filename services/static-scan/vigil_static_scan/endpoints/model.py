"""The endpoint index's one data type, and the helpers every framework extractor shares."""

from __future__ import annotations

import re
from typing import Final

import msgspec

# Names that say "this route checks who is calling" when they appear as a decorator, a
# dependency, a middleware or an annotation on the route (or on its router / class).
AUTH_NAME: Final = re.compile(
    r"(?i)((login|admin|user|roles?|staff|superuser|scopes?|permissions?|jwt|token)_?required"
    r"|auth|jwt|token|permission|require[sd]?_?(user|role|admin|scope)"
    r"|preauthorize|secured|rolesallowed|current_?user|passport|session_required|protect"
    r"|verify_?(user|key|api)|api_?key|guard|is_?admin)"
)

HTTP_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


class Endpoint(msgspec.Struct, frozen=True, kw_only=True):
    """One HTTP route of the scanned tree: where it is served and where its code lives.

    ``method`` is an upper-case HTTP method or ``ANY`` (the framework routes every method);
    ``auth`` is True when an authentication or authorisation check is *visible* on the route,
    its router or its class, and ``auth_hint`` names what was seen.
    """

    method: str
    path: str
    file_path: str
    line: int
    handler: str = ""
    framework: str
    auth: bool = False
    auth_hint: str = ""


# Look-alikes that protect something else than "who is calling".
_NOT_AUTH: Final = re.compile(r"(?i)csrf|cors|author_?(name|id)?$|oauth_?callback")


def auth_hint(names: list[str]) -> str:
    """The first name that looks like an auth check, or ``""``."""
    return next((n for n in names if AUTH_NAME.search(n) and not _NOT_AUTH.search(n)), "")


def join_paths(prefix: str, path: str) -> str:
    """A router prefix and a route path joined with exactly one slash between them."""
    if not prefix:
        return path or "/"
    if not path or path == "/":
        return prefix if prefix.startswith("/") else "/" + prefix
    return prefix.rstrip("/") + "/" + path.lstrip("/")
