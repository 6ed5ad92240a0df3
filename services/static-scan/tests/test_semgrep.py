"""The semgrep adapter: recorded real reports parse to exact findings; the rule packs pass tests."""

import asyncio
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vigil_common.config import load_settings
from vigil_common.errors import Reject
from vigil_common.findings import fingerprint
from vigil_common.schemas import Finding
from vigil_static_scan.handlers import run_scanners, run_semgrep
from vigil_static_scan.scanners import semgrep

FIXTURES = Path(__file__).parent / "fixtures" / "semgrep"

TOOLS_PY = {
    "app/tools.py": [
        "import subprocess",
        "",
        "",
        "def ping(host):",
        '    return subprocess.run("ping -c 1 " + host, shell=True)',
        "",
        "",
        "def calc(expr):",
        "    return eval(expr)",
    ]
}


def read_snippet(path: str, start: int, end: int) -> str:
    return "\n".join(TOOLS_PY.get(path, [])[start - 1 : end])


def parse_fixture(name: str) -> list[Finding]:
    report = semgrep.decode_report((FIXTURES / name).read_bytes())
    return semgrep.parse(report, read_snippet)


def test_empty_report_has_no_findings() -> None:
    assert parse_fixture("empty.json") == []


def test_two_findings_parse_completely() -> None:
    shell = '    return subprocess.run("ping -c 1 " + host, shell=True)'
    assert parse_fixture("two_findings.json") == [
        Finding(
            scanner="semgrep",
            rule_id="vigil-python-subprocess-shell-injection",
            title="OS command built from variable input and run through a shell",
            severity="high",
            confidence="high",
            description=(
                "A shell command is built from a value that is not a constant and run with"
                " shell=True. Anyone who controls part of that value can run their own commands."
            ),
            recommendation=(
                "Pass the command as a list of arguments without shell=True, or quote each"
                " value with shlex.quote if a shell is unavoidable."
            ),
            cwe=("CWE-78",),
            owasp=("A03:2021 - Injection",),
            file_path="app/tools.py",
            start_line=5,
            end_line=5,
            snippet=shell,
            fingerprint=fingerprint(
                "semgrep", "vigil-python-subprocess-shell-injection", "app/tools.py", shell
            ),
        ),
        Finding(
            scanner="semgrep",
            rule_id="vigil-python-eval-injection",
            title="Dynamic code evaluation of variable input",
            severity="high",
            confidence="medium",
            description=(
                "eval or exec runs code built from a value that is not a constant. If that value"
                " can come from a user, they can run any Python code in this process."
            ),
            recommendation=(
                "Parse the data instead of evaluating it (json.loads, ast.literal_eval for Python"
                " literals), or dispatch through an explicit table of allowed operations."
            ),
            cwe=("CWE-95",),
            owasp=("A03:2021 - Injection",),
            file_path="app/tools.py",
            start_line=9,
            end_line=9,
            snippet="    return eval(expr)",
            fingerprint=fingerprint(
                "semgrep", "vigil-python-eval-injection", "app/tools.py", "    return eval(expr)"
            ),
        ),
    ]


def test_fingerprint_ignores_indentation_changes() -> None:
    a = fingerprint("semgrep", "r", "f.py", "    eval(x)")
    assert a == fingerprint("semgrep", "r", "f.py", "eval(x)")
    assert a != fingerprint("semgrep", "r", "g.py", "eval(x)")


def test_rule_ids_have_no_dots() -> None:
    # The parser takes the last dotted part of check_id as the rule id.
    for rules in semgrep.RULES_DIR.rglob("*.yaml"):
        for line in rules.read_text().splitlines():
            if line.strip().startswith("- id:"):
                assert "." not in line.split(":", 1)[1], f"{rules}: {line}"


def test_rule_packs_pass_their_own_fixtures() -> None:
    binary = os.environ["VIGIL_SEMGREP_BIN"]  # set by the root conftest when not by make
    assert Path(binary).exists(), f"{binary} is missing: run `make install`"
    result = subprocess.run(
        [binary, "--test", "--metrics=off", "--disable-version-check", str(semgrep.RULES_DIR)],
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
        env={**os.environ, **semgrep.ENV},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "All tests passed" in result.stdout + result.stderr


def test_code_under_tests_folders_is_scanned_and_broken_rules_reject_the_scan(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    example = Path(__file__).resolve().parents[3] / "examples" / "vulnerable-app" / "app.py"
    shutil.copy(example, tree / "tests" / "app.py")
    env = {"VIGIL_SEMGREP_BIN": os.environ["VIGIL_SEMGREP_BIN"]}
    found, _ = asyncio.run(run_semgrep(load_settings(env), tree, tmp_path))
    assert {f.file_path for f in found} == {"tests/app.py"}
    broken = tmp_path / "my-rules"
    broken.mkdir()
    (broken / "bad.yaml").write_text(
        "rules:\n  - id: bad\n    languages: [python]\n    pattern: eval(\n"
    )
    with pytest.raises(Reject, match="VIGIL_SEMGREP_RULES"):
        asyncio.run(
            run_semgrep(load_settings({**env, "VIGIL_SEMGREP_RULES": str(broken)}), tree, tmp_path)
        )


def test_a_failing_scanner_is_recorded_without_losing_the_others(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    example = Path(__file__).resolve().parents[3] / "examples" / "vulnerable-app" / "app.py"
    shutil.copy(example, tree / "app.py")
    env = {
        "VIGIL_SEMGREP_BIN": os.environ["VIGIL_SEMGREP_BIN"],
        "VIGIL_BETTERLEAKS_BIN": str(tmp_path / "no-such-scanner"),
    }
    found, note = asyncio.run(run_scanners(load_settings(env), tree, tmp_path))
    assert {f.scanner for f in found} == {"semgrep"}
    assert "secrets failed: no-such-scanner could not start" in note
