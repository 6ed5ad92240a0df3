"""The hunter's guard: answers become fingerprinted findings, or are dropped and counted."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from vigil_ai_hunter.answers import (
    DRIFT_LINES,
    HuntAnswer,
    HuntedIssue,
    accept,
    check,
    locate,
    quoted_lines,
)
from vigil_common.findings import fingerprint
from vigil_common.llm import json_schema

TEXT = "import os\n\ndef run(cmd):\n    os.system(cmd)\n"
LINES = TEXT.splitlines()


def issue(
    start: int = 4, end: int = 4, cwe: str = "CWE-78", code: str = "os.system(cmd)", **more: Any
) -> HuntedIssue:
    values: dict[str, Any] = {
        "reasoning": "cmd reaches os.system", "title": "Command injection", "cwe": cwe,
        "severity": "high", "confidence": "medium", "path": "app/run.py", "start_line": start,
        "end_line": end, "code": code, "description": "d",
        "recommendation": "use subprocess with a list", **more,
    }  # fmt: skip
    return HuntedIssue(**values)


def test_a_grounded_issue_becomes_a_finding_fingerprinted_over_its_code() -> None:
    kept, dropped = accept(HuntAnswer("r", [issue()]), "app/run.py", {"app/run.py": TEXT})
    assert sum(dropped.values()) == 0
    finding, reasoning = kept[0]
    assert (finding.scanner, finding.rule_id, finding.cwe) == ("ai", "ai.cwe-78", ("CWE-78",))
    assert (finding.start_line, finding.end_line, finding.snippet) == (4, 4, "    os.system(cmd)")
    assert finding.fingerprint == fingerprint("ai", "ai.cwe-78", "app/run.py", "os.system(cmd)")
    assert reasoning == "cmd reaches os.system"


def test_made_up_lines_reversed_ranges_and_bad_cwes_are_dropped() -> None:
    assert check(issue(40, 41), LINES)[0] == "lines outside the file"
    assert check(issue(4, 3), LINES)[0] == "line range reversed"
    assert check(issue(cwe="CWE-7x"), LINES)[0] == "malformed CWE"
    assert check(issue(cwe="89"), LINES)[0] == "malformed CWE"
    assert check(issue(), None)[0] == "file not in the tree"
    bad = [issue(40, 41), issue(cwe="CWE-0"), issue(3, 2), issue(40, 41)]
    kept, dropped = accept(HuntAnswer("r", [issue(), *bad]), "app/run.py", {"app/run.py": TEXT})
    assert len(kept) == 1
    assert dropped == {"lines outside the file": 2, "malformed CWE": 1, "line range reversed": 1}
    assert dropped.describe() == (
        "2 lines outside the file, 1 line range reversed, 1 malformed CWE"
    )


def test_a_quote_that_is_not_in_the_file_is_dropped() -> None:
    assert check(issue(code="subprocess.call(cmd, shell=True)"), LINES)[0] == (
        "quoted code not found at its lines"
    )
    assert check(issue(code="   "), LINES)[0] == "quoted code not found at its lines"
    # The code exists, but further away than the drift allowed: not the lines reported.
    far = "\n" * (DRIFT_LINES + 2) + TEXT
    assert check(issue(), far.splitlines())[0] == "quoted code not found at its lines"


def test_whitespace_and_copied_line_numbers_do_not_count() -> None:
    assert quoted_lines("4:     os.system( cmd)\n\n") == ["os.system( cmd)"]
    assert check(issue(code="4:   os.system(cmd)"), LINES) == (None, 4, 4)
    assert check(issue(code="def  run(cmd):\n    os.system(cmd)", start=3, end=4), LINES) == (
        None,
        3,
        4,
    )


def test_a_quote_a_few_lines_off_moves_the_finding_to_the_code() -> None:
    shifted = ("# header\n" * 3 + TEXT + "print(1)\n").splitlines()  # the call: line 7
    assert check(issue(4, 4), shifted) == (None, 7, 7)
    assert check(issue(9, 10), shifted) == (None, 7, 8)  # range kept, moved by the same shift
    assert locate(["os.system(cmd)"], shifted, 4 + DRIFT_LINES) == 7
    assert locate(["os.system(cmd)"], shifted, 7 + DRIFT_LINES + 1) is None
    kept, _ = accept(
        HuntAnswer("r", [issue(4, 4)]), "app/run.py", {"app/run.py": "\n".join(shifted)}
    )
    assert kept[0][0].start_line == 7
    assert kept[0][0].fingerprint == fingerprint("ai", "ai.cwe-78", "app/run.py", "os.system(cmd)")


def test_a_finding_in_another_file_of_the_tree_is_checked_there() -> None:
    files = {"app/run.py": "x = 1\n", "app/os_util.py": TEXT}
    answer = HuntAnswer(
        "r", [issue(path="./app/os_util.py"), issue(path="app/gone.py"), issue(path="")]
    )
    kept, dropped = accept(answer, "app/run.py", files)
    assert [f.file_path for f, _ in kept] == ["app/os_util.py"]
    # The missing file is dropped; an empty path means the file asked about, where it is absent.
    assert dropped == {"file not in the tree": 1, "lines outside the file": 1}


@pytest.mark.parametrize("field", ["path", "code"])
def test_the_schema_asks_for_the_path_and_the_quote_before_the_prose(field: str) -> None:
    schema = json_schema(HuntAnswer)["properties"]["findings"]["items"]
    order = list(schema["properties"])
    assert order.index(field) < order.index("description")
    assert field in schema["required"]
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({**msgspec.to_builtins(issue()), "code": "x" * 201}, HuntedIssue)
