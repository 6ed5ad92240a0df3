"""The hunter's guard: answers become fingerprinted findings, or are dropped and counted."""

from __future__ import annotations

from vigil_ai_hunter.answers import HuntAnswer, HuntedIssue, accept, check
from vigil_common.findings import fingerprint

TEXT = "import os\n\ndef run(cmd):\n    os.system(cmd)\n"


def issue(start: int = 4, end: int = 4, cwe: str = "CWE-78") -> HuntedIssue:
    return HuntedIssue(
        reasoning="cmd reaches os.system", title="Command injection", cwe=cwe,
        severity="high", confidence="medium", start_line=start, end_line=end,
        description="d", recommendation="use subprocess with a list",
    )  # fmt: skip


def test_a_grounded_issue_becomes_a_finding_fingerprinted_over_its_code() -> None:
    kept, dropped = accept(HuntAnswer("r", [issue()]), "app/run.py", TEXT)
    assert dropped == 0
    finding, reasoning = kept[0]
    assert (finding.scanner, finding.rule_id, finding.cwe) == ("ai", "ai.cwe-78", ("CWE-78",))
    assert (finding.start_line, finding.end_line, finding.snippet) == (4, 4, "    os.system(cmd)")
    assert finding.fingerprint == fingerprint("ai", "ai.cwe-78", "app/run.py", "os.system(cmd)")
    assert reasoning == "cmd reaches os.system"


def test_made_up_lines_reversed_ranges_and_bad_cwes_are_dropped() -> None:
    assert check(issue(4, 9), 4) == "lines outside the file"
    assert check(issue(4, 3), 4) == "line range reversed"
    assert check(issue(cwe="CWE-7x"), 4) == "malformed CWE"
    assert check(issue(cwe="89"), 4) == "malformed CWE"
    bad = [issue(40, 41), issue(cwe="CWE-0"), issue(3, 2)]
    kept, dropped = accept(HuntAnswer("r", [issue(), *bad]), "app/run.py", TEXT)
    assert (len(kept), dropped) == (1, 3)
