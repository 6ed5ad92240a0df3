"""The score and grade table (the formula is documented in docs/ai.md)."""

from __future__ import annotations

from typing import Any

import pytest

from vigil_validator.scoring import grade, score


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], (100, "A")),
        ([("info", "high")] * 50, (100, "A")),
        ([("low", "high")] * 10, (90, "A")),
        ([("medium", "high")], (95, "A")),
        ([("medium", "medium")] * 2, (93, "A")),
        ([("high", "high")], (85, "B")),
        ([("high", "low")], (93, "A")),
        ([("high", "high")] * 2, (70, "C")),
        ([("critical", "high")], (60, "D")),
        ([("critical", "medium")], (70, "C")),
        ([("critical", "low")], (80, "B")),
        ([("critical", "high"), ("low", "high")], (59, "F")),
        ([("critical", "high")] * 3, (0, "F")),
        ([("low", "medium")], (99, "A")),  # 99.25 rounds to 99
        ([("low", "low")], (100, "A")),  # 99.5 rounds half up to 100
    ],
)
def test_score_and_grade(findings: list[Any], expected: tuple[int, str]) -> None:
    value = score(findings)
    assert (value, grade(value)) == expected


@pytest.mark.parametrize(
    ("value", "letter"),
    [(100, "A"), (90, "A"), (89, "B"), (80, "B"), (79, "C"), (70, "C"), (69, "D"), (60, "D"),
     (59, "F"), (0, "F")],
)  # fmt: skip
def test_grade_boundaries(value: int, letter: str) -> None:
    assert grade(value) == letter
