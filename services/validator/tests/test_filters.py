"""Each rule-based filter with its reason, and the cases each must leave alone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from vigil_validator.candidates import Candidate
from vigil_validator.filters import (
    commented_out,
    first_reason,
    known_safe,
    not_shipped,
    placeholder_secret,
    suppressed_inline,
    vendored,
)


def finding(**fields: Any) -> Candidate:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "fingerprint": "f",
        "scanner": "semgrep",
        "rule_id": "python.sqli",
        "title": "t",
        "severity": "high",
        "confidence": "medium",
        "cwe": ("CWE-89",),
        "file_path": "app/db.py",
        "start_line": 2,
        "end_line": 2,
        **fields,
    }
    return Candidate(**values)


SECRET = {"rule_id": "generic.hardcoded-secret", "cwe": ("CWE-798",)}


def test_an_inline_vigil_ignore_with_a_reason_suppresses() -> None:
    lines = ["# vigil-ignore: input is an enum, checked above", "run(sql)"]
    assert suppressed_inline(finding(), lines) == (
        "suppressed inline by vigil-ignore: input is an enum, checked above"
    )
    assert suppressed_inline(finding(), ["x = 1", "run(sql)  // vigil-ignore - trusted"]) == (
        "suppressed inline by vigil-ignore: trusted"
    )
    # Without a reason the comment does nothing: a suppression must say why.
    assert suppressed_inline(finding(), ["# vigil-ignore", "run(sql)"]) is None
    assert suppressed_inline(finding(), None) is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (["# os.system(cmd)"], "the flagged code is commented out"),
        (["  // eval(input)", "  /* more */"], "the flagged code is commented out"),
        (["os.system(cmd)  # run it"], None),
        (["*args = call(x)"], None),
    ],
)
def test_commented_out_code(code: list[str], expected: str | None) -> None:
    candidate = finding(start_line=1, end_line=len(code))
    assert commented_out(candidate, code) == expected


def test_commented_out_falls_back_to_the_snippet_when_the_file_is_missing() -> None:
    assert commented_out(finding(snippet="# eval(x)"), None) == "the flagged code is commented out"


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("tests/test_db.py", "test"),
        ("src/app/db_test.go", "test"),
        ("web/login.spec.ts", "test"),
        ("app/fixtures/users.py", "fixture"),
        ("examples/server.py", "example"),
        ("docs/howto.md", "documentation"),
    ],
)
def test_test_fixture_example_and_doc_paths_are_filtered(path: str, kind: str) -> None:
    assert not_shipped(finding(file_path=path), None) == (
        f"in {kind} code, which is not part of the deployed application"
    )


def test_shipped_paths_and_secrets_in_tests_are_kept() -> None:
    assert not_shipped(finding(file_path="app/testing_auth.py"), None) is None
    assert not_shipped(finding(file_path="tests/conftest_data.py", **SECRET), None) is None


def test_vendored_and_minified_code() -> None:
    reason = "in vendored or minified third-party code"
    assert vendored(finding(file_path="web/node_modules/x/index.js"), None) == reason
    assert vendored(finding(file_path="static/app.min.js"), None) == reason
    assert vendored(finding(file_path="app/vendors.py"), None) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('API_KEY = "changeme"', "the secret is a placeholder, not a credential"),
        ('password = "<your-password>"', "the secret is a placeholder, not a credential"),
        ('token = "xxxxxxxxxxxx"', "the secret is a placeholder, not a credential"),
        ('key = os.environ["API_KEY"]', "the value is read from the environment, not written in"),
        ('API_KEY = "sk_live_51HcRealLookingKey9f8e7d"', None),
    ],
)  # fmt: skip
def test_placeholder_secrets(line: str, expected: str | None) -> None:
    reason = placeholder_secret(finding(**SECRET), ["x", line])
    assert reason == expected if expected is None else (reason or "").startswith(expected)


def test_placeholders_only_matter_for_secret_findings() -> None:
    assert placeholder_secret(finding(), ["x", 'query("example")']) is None


@pytest.mark.parametrize(
    ("cwe", "line", "expected"),
    [
        ("CWE-502", "yaml.load(data, Loader=yaml.SafeLoader)", "yaml is loaded with SafeLoader"),
        ("CWE-502", "cfg = yaml.safe_load(text)", "yaml is loaded with SafeLoader"),
        ("CWE-327", "hashlib.md5(b, usedforsecurity=False)", "the hash is declared not"),
        ("CWE-78", "os.system('ls ' + shlex.quote(p))", "the shell argument is quoted"),
        ("CWE-502", "yaml.load(data, Loader=yaml.Loader)", None),
        ("CWE-89", "hashlib.md5(b, usedforsecurity=False)", None),
    ],
)  # fmt: skip
def test_known_safe_patterns(cwe: str, line: str, expected: str | None) -> None:
    reason = known_safe(finding(cwe=(cwe,)), ["x", line])
    assert (
        reason == expected
        if expected is None
        else reason is not None and reason.startswith(expected)
    )


def test_the_first_rule_wins_and_a_real_finding_passes() -> None:
    lines = ["# vigil-ignore: reviewed", "# run(sql)"]
    both = finding(file_path="tests/test_db.py")
    assert first_reason(both, lines) == "suppressed inline by vigil-ignore: reviewed"
    assert first_reason(finding(), ["x", 'run("SELECT " + name)']) is None
