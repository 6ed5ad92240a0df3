"""Precision and recall of Vigil's own Semgrep rule packs on deliberately vulnerable apps.

Each app under ``fixtures/apps/<language>`` holds real vulnerabilities and safe look-alikes,
listed with their exact sink lines in ``ground_truth.json``. The apps go through the real
stage function ``run_semgrep`` (no server needed). A finding is a true positive when it is in
the same file as a ground-truth vulnerability, its line range covers that line (give or take
one line) and one of its CWEs is the entry's CWE; every other finding is a false positive.
Vulnerabilities no finding matches are false negatives. ``pytest -s`` prints the table.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from vigil_common.config import load_settings
from vigil_common.schemas import Finding
from vigil_static_scan.handlers import run_semgrep

APPS = Path(__file__).parent / "fixtures" / "apps"
LANGUAGES = ("python", "javascript", "go", "java", "mcp-python")
MIN_PRECISION = 0.8
MIN_RECALL = 0.8


@dataclass(frozen=True)
class Entry:
    """One ground-truth line: a vulnerability, or a safe look-alike."""

    file: str
    line: int
    cwe: str
    note: str


@dataclass(frozen=True)
class Outcome:
    """What the rule packs found in one app, against its ground truth."""

    language: str
    findings: tuple[Finding, ...]
    vulnerabilities: tuple[Entry, ...]
    safe: tuple[Entry, ...]
    note: str

    def matches(self, finding: Finding, entry: Entry) -> bool:
        return (
            _same_file(finding.file_path, entry.file)
            and finding.start_line - 1 <= entry.line <= finding.end_line + 1
            and entry.cwe in finding.cwe
        )

    @property
    def true_positives(self) -> list[Finding]:
        return [f for f in self.findings if any(self.matches(f, v) for v in self.vulnerabilities)]

    @property
    def false_positives(self) -> list[Finding]:
        return [
            f for f in self.findings if not any(self.matches(f, v) for v in self.vulnerabilities)
        ]

    @property
    def false_negatives(self) -> list[Entry]:
        return [
            v for v in self.vulnerabilities if not any(self.matches(f, v) for f in self.findings)
        ]

    @property
    def precision(self) -> float:
        return _ratio(len(self.true_positives), len(self.findings))

    @property
    def recall(self) -> float:
        found = len(self.vulnerabilities) - len(self.false_negatives)
        return _ratio(found, len(self.vulnerabilities))


def _same_file(reported: str, expected: str) -> bool:
    return Path(reported).as_posix().removeprefix("./") == expected


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _entries(items: list[dict[str, object]]) -> tuple[Entry, ...]:
    return tuple(
        Entry(str(i["file"]), int(str(i["line"])), str(i["cwe"]), str(i.get("note", "")))
        for i in items
    )


async def _scan(language: str, root: Path) -> Outcome:
    tree = root / language / "app"
    workdir = root / language / "work"
    shutil.copytree(APPS / language, tree)
    workdir.mkdir()
    truth = json.loads((tree / "ground_truth.json").read_text())
    settings = load_settings({"VIGIL_SEMGREP_BIN": os.environ["VIGIL_SEMGREP_BIN"]})
    found, note = await run_semgrep(settings, tree, workdir)
    return Outcome(
        language=language,
        findings=tuple(found),
        vulnerabilities=_entries(truth["vulnerabilities"]),
        safe=_entries(truth["safe"]),
        note=note,
    )


async def _scan_all(root: Path) -> dict[str, Outcome]:
    outcomes = await asyncio.gather(*(_scan(language, root) for language in LANGUAGES))
    return {outcome.language: outcome for outcome in outcomes}


def _table(outcomes: dict[str, Outcome]) -> str:
    rows = [
        f"{'language':<12}{'vulns':>6}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>8}"
    ]
    totals = [0, 0, 0, 0, 0]  # vulnerabilities, TP findings, FP findings, FN, all findings
    for outcome in outcomes.values():
        tp, fp, fn = (
            len(outcome.true_positives),
            len(outcome.false_positives),
            len(outcome.false_negatives),
        )
        rows.append(
            f"{outcome.language:<12}{len(outcome.vulnerabilities):>6}{tp:>5}{fp:>5}{fn:>5}"
            f"{outcome.precision:>11.2f}{outcome.recall:>8.2f}"
        )
        for i, value in enumerate(
            (len(outcome.vulnerabilities), tp, fp, fn, len(outcome.findings))
        ):
            totals[i] += value
    vulns, tp, fp, fn, findings = totals
    precision, recall = _ratio(tp, findings), _ratio(vulns - fn, vulns)
    rows.append(f"{'overall':<12}{vulns:>6}{tp:>5}{fp:>5}{fn:>5}{precision:>11.2f}{recall:>8.2f}")
    for outcome in outcomes.values():
        rows += [
            f"  {outcome.language} FN {e.file}:{e.line} {e.cwe} {e.note}"
            for e in outcome.false_negatives
        ]
        rows += [
            f"  {outcome.language} FP {f.file_path}:{f.start_line} {f.rule_id}"
            for f in outcome.false_positives
        ]
    return "\n".join(rows)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every app scanned once, concurrently, with the table printed for ``pytest -s``."""
    results = asyncio.run(_scan_all(tmp_path_factory.mktemp("apps")))
    print("\nVigil rule packs on the fixture apps (TP/FP count findings, FN vulnerabilities)")
    print(_table(results))
    return results


@pytest.mark.parametrize("language", LANGUAGES)
def test_ground_truth_is_well_formed(language: str) -> None:
    truth = json.loads((APPS / language / "ground_truth.json").read_text())
    vulnerabilities, safe = _entries(truth["vulnerabilities"]), _entries(truth["safe"])
    assert len(vulnerabilities) >= 10 and len(safe) >= 10
    for entry in (*vulnerabilities, *safe):
        lines = (APPS / language / entry.file).read_text().splitlines()
        assert 1 <= entry.line <= len(lines), entry
        assert lines[entry.line - 1].strip(), f"{entry} points at a blank line"
        assert entry.cwe.startswith("CWE-") and entry.cwe[4:].isdigit(), entry


@pytest.mark.parametrize("language", LANGUAGES)
def test_scan_reports_no_errors(outcomes: dict[str, Outcome], language: str) -> None:
    assert "could not be analysed" not in outcomes[language].note, outcomes[language].note


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall(outcomes: dict[str, Outcome], language: str) -> None:
    outcome = outcomes[language]
    assert outcome.recall >= MIN_RECALL, outcome.false_negatives


@pytest.mark.parametrize("language", LANGUAGES)
def test_precision(outcomes: dict[str, Outcome], language: str) -> None:
    outcome = outcomes[language]
    assert outcome.precision >= MIN_PRECISION, outcome.false_positives


@pytest.mark.parametrize("language", LANGUAGES)
def test_safe_look_alikes_are_not_reported(outcomes: dict[str, Outcome], language: str) -> None:
    outcome = outcomes[language]
    flagged = [
        (entry, finding.rule_id)
        for entry in outcome.safe
        for finding in outcome.findings
        if _same_file(finding.file_path, entry.file)
        and finding.start_line <= entry.line <= finding.end_line
        and entry.cwe in finding.cwe
    ]
    assert flagged == []


def test_findings_carry_vigil_metadata(outcomes: dict[str, Outcome]) -> None:
    for outcome in outcomes.values():
        for finding in outcome.findings:
            # mcp-python is a Python app: its findings come from the Python pack.
            language = outcome.language.removeprefix("mcp-")
            assert finding.rule_id.startswith(f"vigil-{language}-"), finding.rule_id
            assert finding.cwe and finding.owasp and finding.recommendation, finding.rule_id
            assert finding.title != finding.rule_id, finding.rule_id
