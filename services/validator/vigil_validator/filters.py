"""Rule-based false-positive filters: each rule says why it dismissed a finding, or nothing.

Rules run in order and the first reason wins. They look at the finding and the lines of its
file (``None`` when the file is not in the tree). A hard-coded secret is not dismissed for
being in test code: a real key committed in a test leaks as much as one in the application.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from vigil_validator.candidates import Candidate

Lines = Sequence[str] | None
Rule = Callable[[Candidate, Lines], str | None]

_SUPPRESSION: Final = re.compile(r"vigil-ignore\s*[:\-]\s*(?P<reason>\S.{2,})", re.IGNORECASE)
_COMMENT: Final = re.compile(r"^\s*(#|//|/\*|\*(\s|/|$)|--\s|<!--)")
_NOT_SHIPPED: Final = (
    ("test", re.compile(
        r"(^|/)(tests?|__tests__|spec|specs|testdata)/"
        r"|(^|/)(test_[^/]+|[^/]+_test\.\w+|[^/]+\.(test|spec)\.\w+|conftest\.py)$"
    )),
    ("fixture", re.compile(r"(^|/)(fixtures?|mocks?|stubs?)/")),
    ("example", re.compile(r"(^|/)(examples?|samples?|demos?)/")),
    ("documentation", re.compile(r"(^|/)docs?/|\.(md|rst|adoc)$")),
)  # fmt: skip
# A package named after the reserved example domain (``com/example/…``, as Java and Kotlin apps
# often are) is shipped code, not an example folder: `make eval` found the whole Java fixture
# app filtered as "example code" before these segments were left out of the example test.
_EXAMPLE_PACKAGE: Final = re.compile(r"(^|/)(com|org|net)/examples?(?=/)")
_VENDORED: Final = re.compile(
    r"(^|/)(node_modules|vendor|third_party|bower_components|site-packages)/"
    r"|\.min\.(js|css)$|\.bundle\.js$"
)
_SECRET_CWES: Final = frozenset({"CWE-798", "CWE-259", "CWE-321", "CWE-547"})
_SECRET_RULE: Final = re.compile(r"secret|password|credential|token|api[-_]?key|private[-_]?key")
_PLACEHOLDER: Final = re.compile(
    r"changeme|change[_-]me|placeholder|dummy|example|sample|redacted|x{4,}|\*{4,}|<[a-z_\- ]+>"
    r"|your[_-]?(api[_-]?)?(key|token|secret|password)|fake[_-]?(key|token|secret|password)",
    re.IGNORECASE,
)
_FROM_ENVIRONMENT: Final = re.compile(
    r"os\.environ|getenv\(|process\.env|\$\{[A-Za-z_]+\}|System\.getenv|ENV\[", re.IGNORECASE
)
# (CWEs, pattern in the flagged code, reason): uses of an API its own documentation calls safe.
_KNOWN_SAFE: Final = (
    (frozenset({"CWE-502", "CWE-20"}),
     re.compile(r"yaml\.safe_load|Loader\s*=\s*(yaml\.)?C?SafeLoader"),
     "yaml is loaded with SafeLoader, which builds only plain data"),
    (frozenset({"CWE-327", "CWE-328", "CWE-916"}), re.compile(r"usedforsecurity\s*=\s*False"),
     "the hash is declared not for security (usedforsecurity=False)"),
    (frozenset({"CWE-78", "CWE-77"}), re.compile(r"shlex\.quote\("),
     "the shell argument is quoted with shlex.quote"),
)  # fmt: skip


def code_of(candidate: Candidate, lines: Lines) -> list[str]:
    """The finding's lines from the file, or its stored snippet when the file is missing."""
    if lines is None or candidate.end_line > len(lines):
        return candidate.snippet.splitlines()
    return list(lines[candidate.start_line - 1 : candidate.end_line])


def suppressed_inline(candidate: Candidate, lines: Lines) -> str | None:
    """A ``vigil-ignore: <reason>`` comment on the finding's first line or the line above."""
    if lines is None:
        return None
    nearby = lines[max(candidate.start_line - 2, 0) : candidate.start_line]
    for line in nearby:
        match = _SUPPRESSION.search(line)
        if match:
            return f"suppressed inline by vigil-ignore: {match.group('reason').strip()[:200]}"
    return None


def commented_out(candidate: Candidate, lines: Lines) -> str | None:
    """Every non-blank line of the finding is a comment: the code does not run."""
    code = [line for line in code_of(candidate, lines) if line.strip()]
    if code and all(_COMMENT.match(line) for line in code):
        return "the flagged code is commented out"
    return None


def vendored(candidate: Candidate, _lines: Lines) -> str | None:
    """Third-party or minified code: report it upstream, not as this project's finding."""
    if _VENDORED.search(candidate.file_path):
        return "in vendored or minified third-party code"
    return None


def is_secret(candidate: Candidate) -> bool:
    """A hard-coded credential finding, by CWE or by rule name."""
    return bool(_SECRET_CWES & set(candidate.cwe)) or bool(_SECRET_RULE.search(candidate.rule_id))


def not_shipped(candidate: Candidate, _lines: Lines) -> str | None:
    """In test, fixture, example or documentation paths, which do not run in production."""
    if is_secret(candidate):
        return None
    for kind, pattern in _NOT_SHIPPED:
        path = candidate.file_path
        if kind == "example":
            path = _EXAMPLE_PACKAGE.sub(r"\1\2", path)
        if pattern.search(path):
            return f"in {kind} code, which is not part of the deployed application"
    return None


def placeholder_secret(candidate: Candidate, lines: Lines) -> str | None:
    """A "secret" that is a placeholder, or a value read from the environment."""
    if not is_secret(candidate):
        return None
    code = "\n".join(code_of(candidate, lines))
    if _FROM_ENVIRONMENT.search(code):
        return "the value is read from the environment, not written in the code"
    if _PLACEHOLDER.search(code):
        return "the secret is a placeholder, not a credential"
    return None


def known_safe(candidate: Candidate, lines: Lines) -> str | None:
    """The flagged code uses an API in the way its documentation calls safe."""
    code = "\n".join(code_of(candidate, lines))
    for cwes, pattern, reason in _KNOWN_SAFE:
        if cwes & set(candidate.cwe) and pattern.search(code):
            return reason
    return None


RULES: Final[tuple[Rule, ...]] = (
    suppressed_inline,
    commented_out,
    vendored,
    not_shipped,
    placeholder_secret,
    known_safe,
)


def first_reason(candidate: Candidate, lines: Lines) -> str | None:
    """The reason of the first rule that dismisses ``candidate``, or ``None``."""
    for rule in RULES:
        reason = rule(candidate, lines)
        if reason is not None:
            return reason
    return None
