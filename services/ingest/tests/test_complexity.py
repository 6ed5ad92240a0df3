"""The complexity score and its label."""

from __future__ import annotations

import pytest

from vigil_ingest.complexity import complexity_label, complexity_score


@pytest.mark.parametrize(
    ("lines", "files", "languages", "depth", "label"),
    [
        (0, 0, set(), 0, "small"),
        (40, 3, {"python"}, 1, "small"),
        (5_000, 100, {"python", "javascript", "json"}, 3, "moderate"),
        (100_000, 2_000, {"java", "kotlin", "javascript", "sql"}, 8, "large"),
        (2_000_000, 50_000, {"c", "cpp", "python", "go", "rust", "shell"}, 12, "very large"),
    ],
)
def test_scores_and_labels(
    lines: int, files: int, languages: set[str], depth: int, label: str
) -> None:
    score = complexity_score(lines, files, languages, depth)
    assert 0 <= score <= 100
    assert complexity_label(score) == label


def test_the_maximum_is_100() -> None:
    assert complexity_score(10**9, 10**9, {f"l{i}" for i in range(20)}, 99) == 100


def test_data_formats_do_not_count_as_languages() -> None:
    assert complexity_score(10, 1, {"python", "json", "yaml"}, 0) == complexity_score(
        10, 1, {"python"}, 0
    )
