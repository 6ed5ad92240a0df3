"""How a model's verdict is applied, and what the model is shown."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from vigil_common.config import Settings
from vigil_common.llm import LLMClient
from vigil_validator.candidates import Candidate, initial
from vigil_validator.verdicts import Review, Verdict, prompt

CODE = [f"line {n}" for n in range(1, 41)]


def finding(severity: str = "high", confidence: str = "medium") -> Candidate:
    return Candidate(
        id=uuid.uuid4(), fingerprint="f", scanner="semgrep", rule_id="python.sqli",
        title="SQL injection", severity=severity, confidence=confidence, cwe=("CWE-89",),
        file_path="app/db.py", start_line=20, end_line=21, snippet="line 20\nline 21",
    )  # fmt: skip


def review(filter_critical: bool = False, *, may_filter: bool = True) -> Review:
    settings = Settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="m")
    return Review(
        LLMClient(settings), filter_critical, 10, time.monotonic() + 60, may_filter=may_filter
    )


def verdict(kind: Any, confidence: Any = "high") -> Verdict:
    return Verdict(reasoning="r", verdict=kind, confidence=confidence, reason="input is a constant")


def test_the_prompt_fences_the_code_and_shows_ten_lines_around_it() -> None:
    text, evidence = prompt(finding(), CODE)
    assert evidence == (10, 31)
    assert "10: line 10" in text and "31: line 31" in text and "9: line 9\n" not in text
    fence = text.split("<<<", 1)[1].split("\n", 1)[0]
    assert text.count(fence) == 2 and fence.startswith("DATA-")
    assert "SQL injection (python.sqli, CWE-89, severity high) reported by semgrep" in text


def test_without_the_file_the_prompt_shows_the_snippet() -> None:
    text, evidence = prompt(finding(), None)
    assert evidence == (20, 21) and "line 20\nline 21" in text


def test_a_true_positive_is_kept_with_its_provenance() -> None:
    decision = initial(finding())
    review().apply(verdict("true_positive"), decision, (10, 31))
    assert decision.status == "reported"
    assert decision.verdict == {
        "model": "m",
        "prompt_version": "validate-1",
        "verdict": "true_positive",
        "confidence": "high",
        "reason": "input is a constant",
        "evidence_lines": [10, 31],
    }


def test_by_default_a_false_positive_verdict_only_lowers_the_confidence() -> None:
    """The default (VIGIL_LLM_MAY_FILTER=false): the most confident verdict on a finding of a
    medium-confidence rule still leaves it reported, for a person, with the reason beside it."""
    decision = initial(finding(confidence="medium"))
    judge = review(may_filter=False)
    judge.apply(verdict("false_positive"), decision, (10, 31))
    assert (decision.status, decision.confidence) == ("reported", "low")
    assert judge.dismissed == 0
    assert decision.verdict is not None and decision.verdict["reason"] == "input is a constant"


def test_a_false_positive_is_filtered_with_the_models_reason() -> None:
    decision = initial(finding())
    judge = review()
    judge.apply(verdict("false_positive"), decision, (10, 31))
    assert decision.status == "filtered"
    assert decision.filter_reason == "the model judged it a false positive: input is a constant"
    assert judge.dismissed == 1


@pytest.mark.parametrize(
    ("rule_confidence", "verdict_confidence"), [("high", "high"), ("medium", "medium")]
)
def test_an_unsure_verdict_or_a_sure_rule_only_lowers_the_confidence(
    rule_confidence: str, verdict_confidence: str
) -> None:
    decision = initial(finding(confidence=rule_confidence))
    judge = review()
    judge.apply(verdict("false_positive", verdict_confidence), decision, (10, 31))
    assert (decision.status, decision.confidence) == ("reported", "low")
    assert judge.dismissed == 0
    assert decision.verdict is not None and decision.verdict["verdict"] == "false_positive"


@pytest.mark.parametrize(
    ("allowed", "status", "confidence"),
    [(False, "reported", "low"), (True, "filtered", "medium")],
)
def test_a_critical_is_only_lowered_unless_the_setting_allows_filtering(
    allowed: bool, status: str, confidence: str
) -> None:
    decision = initial(finding("critical"))
    review(allowed).apply(verdict("false_positive"), decision, (10, 31))
    assert (decision.status, decision.confidence) == (status, confidence)
    assert decision.verdict is not None and decision.verdict["verdict"] == "false_positive"
