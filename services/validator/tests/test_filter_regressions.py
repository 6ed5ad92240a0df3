"""Filter mistakes `make eval` found on the fixture apps, kept fixed."""

from __future__ import annotations

import uuid

import pytest

from vigil_validator.candidates import Candidate
from vigil_validator.filters import not_shipped


def finding(path: str) -> Candidate:
    return Candidate(
        id=uuid.uuid4(), fingerprint="f", scanner="semgrep", rule_id="java.sqli", title="t",
        severity="high", confidence="high", cwe=("CWE-89",), file_path=path, start_line=1,
        end_line=1,
    )  # fmt: skip


@pytest.mark.parametrize(
    "path",
    [
        # The Java fixture app's package is com.example.library: shipped code, not an example.
        "src/main/java/com/example/library/BookController.java",
        "app/src/main/kotlin/org/example/Api.kt",
        "lib/com/example/Db.java",
    ],
)
def test_code_in_an_example_named_package_is_not_dismissed_as_example_code(path: str) -> None:
    assert not_shipped(finding(path), None) is None


@pytest.mark.parametrize(
    "path", ["examples/server.py", "samples/com/example/Demo.java", "demo/app.js"]
)
def test_real_example_folders_are_still_dismissed(path: str) -> None:
    assert not_shipped(finding(path), None) == (
        "in example code, which is not part of the deployed application"
    )
