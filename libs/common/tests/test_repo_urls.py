"""Normalising the repository URLs users send."""

from __future__ import annotations

import pytest

from vigil_common.repo_urls import InvalidRepoUrl, RepoSource, is_sha, normalise

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("url", "ref", "expected"),
    [
        ("https://github.com/o/r", None, RepoSource("https://github.com/o/r")),
        ("https://github.com/o/r.git", None, RepoSource("https://github.com/o/r.git")),
        ("https://github.com/o/r/", "main", RepoSource("https://github.com/o/r", "main")),
        ("  https://github.com/o/r  ", None, RepoSource("https://github.com/o/r")),
        ("https://github.com/o/r/tree/dev", None, RepoSource("https://github.com/o/r", "dev")),
        (
            "https://github.com/o/r/tree/feature/x",
            None,
            RepoSource("https://github.com/o/r", "feature/x"),
        ),
        ("https://github.com/o/r/tree/dev", "v2", RepoSource("https://github.com/o/r", "v2")),
        (
            "https://gitlab.com/g/sub/r/-/tree/main",
            None,
            RepoSource("https://gitlab.com/g/sub/r", "main"),
        ),
        ("git@github.com:o/r.git", None, RepoSource("https://github.com/o/r.git")),
        ("ssh://git@github.com/o/r.git", SHA, RepoSource("https://github.com/o/r.git", SHA)),
        ("https://github.com/o/r?x=1#readme", None, RepoSource("https://github.com/o/r")),
        ("https://github.com/o/r", "", RepoSource("https://github.com/o/r")),
        ("http://localhost:3000/o/r.git", None, RepoSource("http://localhost:3000/o/r.git")),
    ],
)
def test_normalises(url: str, ref: str | None, expected: RepoSource) -> None:
    assert normalise(url, ref) == expected


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("", None),
        ("github.com/o/r", None),
        ("--upload-pack=touch /tmp/x", None),
        ("https://github.com/o/r", "--upload-pack=evil"),
        ("https://github.com/o/r", "a..b"),
        ("https://github.com/o/r", "a b"),
        ("https://github.com/o/r", "main@{1}"),
        ("https://github.com/o/r", "x.lock"),
        ("https://github.com/o/r" + "/x" * 2000, None),
    ],
)
def test_refuses(url: str, ref: str | None) -> None:
    with pytest.raises(InvalidRepoUrl):
        normalise(url, ref)


def test_is_sha() -> None:
    assert is_sha(SHA)
    assert not is_sha(SHA[:12])
    assert not is_sha("main")
