"""Secrets in the git history: found with their commit, masked, and not repeated from the tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vigil_common.config import Settings
from vigil_static_scan.handlers import run_history_secrets, run_scanners

BETTERLEAKS = os.environ.get("VIGIL_BETTERLEAKS_BIN", "")
# An obvious fake in GitHub's token shape (not a real token).
REMOVED = "ghp_" + "0123456789abcdefABCDEF0123456789wxyz"
STILL_THERE = "ghp_" + "abcdefABCDEF0123456789abcdef01234567"

pytestmark = pytest.mark.skipif(
    not Path(BETTERLEAKS).is_file(), reason="betterleaks not installed (make install)"
)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)
    return done.stdout.decode().strip()


def repo_with_history(root: Path) -> tuple[Path, str]:
    """A repository whose first commit held a token that the second removed."""
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "settings.py").write_text(f'TOKEN = "{REMOVED}"\nOTHER = "{STILL_THERE}"\n')
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "add settings")
    first = git(repo, "rev-parse", "HEAD")
    (repo / "settings.py").write_text(f'TOKEN = os.environ["TOKEN"]\nOTHER = "{STILL_THERE}"\n')
    git(repo, "commit", "-q", "-am", "read the token from the environment")
    return repo, first


def settings() -> Settings:
    return Settings(
        betterleaks_bin=BETTERLEAKS, semgrep_bin=os.environ.get("VIGIL_SEMGREP_BIN", "")
    )


async def test_a_removed_secret_is_found_in_its_commit_masked(tmp_path: Path) -> None:
    repo, first = repo_with_history(tmp_path)
    found, note = await run_history_secrets(settings(), repo, tmp_path)
    removed = [f for f in found if REMOVED[-4:] in f.evidence]
    assert len(removed) == 1
    (finding,) = removed
    assert finding.rule_id.startswith("history-") and finding.file_path == "settings.py"
    assert first[:12] in finding.title and first in finding.description
    assert REMOVED not in str(finding) and finding.evidence.startswith("ghp_****")
    assert note.startswith("secrets in git history:")


async def test_a_secret_still_in_the_checkout_is_reported_once(tmp_path: Path) -> None:
    repo, _ = repo_with_history(tmp_path)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "settings.py").write_text((repo / "settings.py").read_text())
    found, note = await run_scanners(settings(), tree, tmp_path, history=repo)
    secrets = [f for f in found if f.scanner == "secrets"]
    assert [
        f.rule_id.startswith("history-") for f in secrets if STILL_THERE[-4:] in f.evidence
    ] == [False]
    assert [f for f in secrets if REMOVED[-4:] in f.evidence and f.rule_id.startswith("history-")]
    assert "secrets in git history" in note
