"""What a dependency finding carries: CVSS scores and ratings, severity precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_static_scan.deps.audit import read_dependencies
from vigil_static_scan.deps.cvss import base_score, rating
from vigil_static_scan.deps.osv_index import Advisory, Affected, Severity
from vigil_static_scan.deps.report import severity


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        # Scores as FIRST's calculator gives them (v3.1 specification, section 8 examples).
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.0/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:L", 6.3),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ],
)
def test_cvss3_base_scores(vector: str, score: float) -> None:
    assert base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        "CVSS:3.1/AV:N/AC:L",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "",
    ],
)
def test_other_vectors_are_not_scored(vector: str) -> None:
    assert base_score(vector) is None


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0.0, "info"), (0.1, "low"), (3.9, "low"), (4.0, "medium"), (7.0, "high"), (9.0, "critical")],
)
def test_ratings(score: float, expected: str) -> None:
    assert rating(score) == expected


def test_cvss_outranks_the_database_word_and_the_word_outranks_the_default() -> None:
    vector = (Severity("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),)
    word = {"severity": "LOW"}
    assert severity(Advisory("A", severity=vector, database_specific=word), []) == "critical"
    assert severity(Advisory("A", database_specific=word), []) == "low"
    assert severity(Advisory("A"), []) == "medium"
    per_package = [Affected(severity=vector)]
    assert severity(Advisory("A"), per_package) == "critical"


def test_names_that_cannot_be_stored_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "Pipfile.lock").write_text(
        '{"default": {"\\ud800": {"version": "==1.0"}, "ok": {"version": "==1.0"}}}'
    )
    deps, unreadable = read_dependencies(tmp_path)
    assert ([d.name for d in deps], unreadable) == (["ok"], [])
