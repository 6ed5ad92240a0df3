"""Which files of a tree the hunter shows the model: the riskiest first, within the budget.

A file's risk is the sum of: names and paths that look like attack surface (routes, auth,
database, upload, deserialisation, templates, crypto, process handling), the density of static
findings in it, a small bonus when static tools flagged it at all, and a bonus for each file
that handles routes of the endpoint index (more when no authentication check is visible).
Test, example and documentation files are never chosen; files too large for one prompt are
skipped. The order is deterministic (risk, then path) so a re-scan of the same tree asks the
same questions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

import msgspec

from vigil_ai_hunter.endpoints import Endpoint
from vigil_common.schemas import ManifestFile, TreeManifest

# Languages whose files the model is asked about; configuration and markup are left out.
CODE_LANGUAGES: Final = frozenset(
    {
        "python", "javascript", "typescript", "go", "java", "kotlin", "ruby", "php", "rust",
        "c", "cpp", "csharp", "swift", "scala", "perl", "lua", "dart", "elixir", "erlang",
        "clojure", "shell", "powershell", "groovy", "solidity", "vue", "svelte",
    }
)  # fmt: skip

# (pattern on the lower-cased path, weight): what an attacker reaches or what breaks badly.
_HOTSPOTS: Final = (
    (re.compile(r"route|view|controller|handler|endpoint|api|server|webhook|mcp|tool"), 3),
    (re.compile(r"auth|login|session|token|permission|acl|admin|user|account|password|oauth"), 4),
    (re.compile(r"db|sql|query|model|repo|dao|orm|store"), 3),
    (re.compile(r"upload|file|download|path|storage|archive|extract"), 3),
    (re.compile(r"serial|pickle|yaml|marshal|parse|xml|decode"), 3),
    (re.compile(r"template|render|html|view"), 2),
    (re.compile(r"crypt|hash|sign|secret|key|jwt|random"), 3),
    (re.compile(r"exec|process|shell|command|cmd|subprocess|eval"), 4),
    (re.compile(r"http|fetch|request|client|proxy|url|redirect"), 2),
)
_NOT_SHIPPED: Final = re.compile(
    r"(^|/)(tests?|spec|specs|__tests__|fixtures?|examples?|samples?|docs?|testdata|mocks?)/"
    r"|(^|/)(test_[^/]*|[^/]*_test\.[a-z]+|[^/]*\.(test|spec)\.[a-z]+|conftest\.py)$"
)
# Rough size of a token in source code, used to estimate a prompt before sending it.
BYTES_PER_TOKEN: Final = 4
# A file larger than this would crowd out everything else in one prompt.
MAX_FILE_TOKENS: Final = 6000
# Reserved per file for the instructions and the retrieved context around the code.
PROMPT_OVERHEAD_TOKENS: Final = 1500
# A file that handles routes is where requests land; one with no visible auth check, more so.
ENDPOINT_WEIGHT: Final = 4
UNAUTHENTICATED_WEIGHT: Final = 2


class Candidate(msgspec.Struct, frozen=True):
    """A file chosen for hunting, with its risk and estimated prompt tokens."""

    path: str
    language: str
    risk: float
    tokens: int
    # The routes this file handles, from the endpoint index (empty without one).
    endpoints: tuple[Endpoint, ...] = ()


def path_risk(path: str) -> int:
    """The attack-surface weight of a path's name (each hotspot counted once)."""
    lowered = path.lower()
    return sum(weight for pattern, weight in _HOTSPOTS if pattern.search(lowered))


def is_shipped(path: str) -> bool:
    """False for tests, fixtures, examples and documentation: not what runs in production."""
    return _NOT_SHIPPED.search(path.lower()) is None


def endpoint_risk(endpoints: Sequence[Endpoint]) -> int:
    """The bonus for handling routes: once for any, again when one shows no auth check."""
    if not endpoints:
        return 0
    unauthenticated = any(e.auth_visible is False for e in endpoints)
    return ENDPOINT_WEIGHT + (UNAUTHENTICATED_WEIGHT if unauthenticated else 0)


def _candidate(
    entry: ManifestFile, static_counts: Mapping[str, int], routes: tuple[Endpoint, ...]
) -> Candidate | None:
    if entry.language not in CODE_LANGUAGES or not is_shipped(entry.path):
        return None
    code_tokens = max(1, entry.size // BYTES_PER_TOKEN)
    if code_tokens > MAX_FILE_TOKENS:
        return None
    # Findings per hundred lines, capped: one noisy file must not take every slot.
    density = min(5.0, 100 * static_counts.get(entry.path, 0) / max(entry.lines, 1))
    risk = path_risk(entry.path) + 2 * density + (1 if static_counts.get(entry.path) else 0)
    risk += endpoint_risk(routes)
    tokens = code_tokens + PROMPT_OVERHEAD_TOKENS
    return Candidate(entry.path, entry.language, risk, tokens, routes)


def select_files(
    manifest: TreeManifest,
    static_counts: Mapping[str, int],
    *,
    max_files: int,
    token_budget: int,
    endpoints: Sequence[Endpoint] = (),
) -> list[Candidate]:
    """The files to hunt in, riskiest first, at most ``max_files`` and ``token_budget`` tokens.

    Files with no risk signal at all are left out: the model's time goes where attacks land.
    ``endpoints`` (the endpoint index, if any) raises the files that handle routes.
    """
    routes: dict[str, list[Endpoint]] = {}
    for endpoint in sorted(endpoints, key=lambda e: (e.file, e.line, e.method, e.path)):
        routes.setdefault(endpoint.file, []).append(endpoint)
    scored = [
        c
        for e in manifest.files
        if (c := _candidate(e, static_counts, tuple(routes.get(e.path, ())))) and c.risk > 0
    ]
    scored.sort(key=lambda c: (-c.risk, c.path))
    chosen: list[Candidate] = []
    spent = 0
    for candidate in scored:
        if len(chosen) == max_files:
            break
        if spent + candidate.tokens <= token_budget:
            chosen.append(candidate)
            spent += candidate.tokens
    return chosen
