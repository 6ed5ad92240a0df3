"""Semgrep: Vigil's rule packs run fully offline, and a pure parser of its JSON report.

Quirks handled here: without ``--disable-version-check`` every run waits ~100 s on the network;
``--metrics=off`` keeps it from phoning home; the OSS engine reports ``"lines": "requires
login"`` instead of the matched code, so the snippet is read from the file; ``check_id`` is
prefixed with the rule file's folder path, so only its last dotted part is the rule's id;
without a ``.semgrepignore`` it skips ``tests/`` and other folders, so the stage writes one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import msgspec

from vigil_common.findings import fingerprint
from vigil_common.schemas import Confidence, Finding, Severity
from vigil_static_scan.snippets import SnippetReader

NAME: Final = "semgrep"
OK_EXIT_CODES: Final = frozenset({0, 1})  # 1 means findings when --error is given
INVALID_CONFIG_EXIT: Final = 7  # a rule file does not parse: retrying cannot help
# Written over the tree's own .semgrepignore: without one, Semgrep silently skips tests/,
# test/ and more by default. What to leave out is decided, with reasons, by ingest.
SEMGREPIGNORE: Final = "# Vigil: everything in this tree is scanned.\n"
ENV: Final = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
RULES_DIR: Final = Path(__file__).resolve().parents[2] / "rules"

_CWE: Final = re.compile(r"\bCWE-\d+\b")
_SEVERITY: Final[dict[str, Severity]] = {
    "CRITICAL": "critical", "ERROR": "high", "HIGH": "high", "WARNING": "medium",
    "MEDIUM": "medium", "INFO": "low", "LOW": "low", "INVENTORY": "info", "EXPERIMENT": "info",
}  # fmt: skip
_CONFIDENCE: Final[dict[str, Confidence]] = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_SEVERITIES: Final = frozenset({"critical", "high", "medium", "low", "info"})


def command(
    binary: str, rule_dirs: Sequence[Path], output: Path, jobs: int, timeout: int
) -> list[str]:
    """The argv scanning the current directory with ``rule_dirs``, writing JSON to ``output``."""
    argv = [binary, "scan", "--json", "--metrics=off", "--disable-version-check", "--quiet"]
    for rules in rule_dirs:
        argv += ["--config", str(rules)]
    argv += ["-j", str(jobs), "--timeout", str(timeout), "--max-target-bytes", "2000000"]
    return [*argv, "--output", str(output), "."]


class _Position(msgspec.Struct):
    line: int
    col: int = 0


class _Extra(msgspec.Struct):
    message: str = ""
    severity: str = "INFO"
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class _Result(msgspec.Struct):
    check_id: str
    path: str
    start: _Position
    end: _Position
    extra: _Extra


class _Error(msgspec.Struct):
    level: str = "error"
    message: str = ""
    path: str | None = None


class Report(msgspec.Struct):
    """The parts of Semgrep's JSON report Vigil reads."""

    results: list[_Result] = msgspec.field(default_factory=list)
    errors: list[_Error] = msgspec.field(default_factory=list)
    version: str = ""


def config_errors(report: Report) -> str:
    """The rule errors of a failed run, for the user (empty when there are none)."""
    return "; ".join(e.message or "invalid rule" for e in report.errors if e.level == "error")


def decode_report(data: bytes) -> Report:
    """Decode Semgrep's ``--json`` output."""
    return msgspec.json.decode(data, type=Report)


def parse(report: Report, read_snippet: SnippetReader) -> list[Finding]:
    """Every result of the report as a :class:`Finding`, in report order."""
    return [_finding(result, read_snippet) for result in report.results]


def _finding(result: _Result, read_snippet: SnippetReader) -> Finding:
    meta = result.extra.metadata
    rule_id = result.check_id.rsplit(".", 1)[-1]
    snippet = read_snippet(result.path, result.start.line, result.end.line)
    return Finding(
        scanner=NAME,
        rule_id=rule_id,
        title=str(meta.get("title") or rule_id),
        severity=_severity(result.extra.severity, meta),
        confidence=_CONFIDENCE.get(str(meta.get("confidence", "")).upper(), "medium"),
        description=result.extra.message,
        recommendation=str(meta.get("recommendation", "")),
        cwe=_cwes(meta.get("cwe")),
        owasp=tuple(str(item) for item in _as_list(meta.get("owasp"))),
        file_path=result.path,
        start_line=result.start.line,
        end_line=result.end.line,
        snippet=snippet,
        fingerprint=fingerprint(NAME, rule_id, result.path, snippet or str(result.start.line)),
    )


def _severity(semgrep_severity: str, meta: dict[str, Any]) -> Severity:
    chosen = str(meta.get("vigil_severity", "")).lower()
    if chosen in _SEVERITIES:
        return chosen  # type: ignore[return-value]  # checked against the Literal's values
    return _SEVERITY.get(semgrep_severity.upper(), "medium")


def _cwes(value: object) -> tuple[str, ...]:
    found = (match for item in _as_list(value) for match in _CWE.findall(str(item)))
    return tuple(dict.fromkeys(found))


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
