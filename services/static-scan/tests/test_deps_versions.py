"""Version ordering per ecosystem: PEP 440 through packaging, SemVer and Go's own."""

from __future__ import annotations

import pytest

from vigil_static_scan.deps.versions import parse_semver, parse_version


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0", "1.0.1"),
        ("1.0a1", "1.0b1"),
        ("1.0b2", "1.0rc1"),
        ("1.0rc1", "1.0"),
        ("1.0.dev1", "1.0a1"),
        ("1.0", "1.0.post1"),
        ("1.0.post1", "1.0.1"),
        ("2.9", "2.10"),
        ("1!0.1", "2!0.0"),
        ("2.30.0", "2.31.0"),
    ],
)
def test_pep440_orders_pre_and_post_releases(lower: str, higher: str) -> None:
    assert parse_version("PyPI", lower) < parse_version("PyPI", higher)


def test_pep440_treats_trailing_zeros_as_equal() -> None:
    assert parse_version("PyPI", "2.0") == parse_version("PyPI", "2.0.0")


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        # The chain from semver.org 2.0.0, section 11.
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"),
        ("1.0.0-beta", "1.0.0-beta.2"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.9.0", "1.10.0"),
        ("1.10.0", "1.10.1"),
        ("0.3.0", "0.3.1-0"),
        ("4.17.15", "4.17.19"),
    ],
)
def test_semver_orders_prereleases_below_the_release(lower: str, higher: str) -> None:
    for ecosystem in ("npm", "crates.io"):
        assert parse_version(ecosystem, lower) < parse_version(ecosystem, higher)


def test_semver_ignores_build_metadata_and_fills_missing_parts() -> None:
    assert parse_semver("1.2.3+build.7") == parse_semver("1.2.3")
    assert parse_semver("1.2") == parse_semver("1.2.0")
    assert parse_semver("v1.2.3") == parse_semver("1.2.3")


@pytest.mark.parametrize("text", ["", "latest", "1.2.3.4", "^1.2.0", "1.x"])
def test_semver_refuses_what_is_not_a_version(text: str) -> None:
    assert parse_semver(text) is None
    assert parse_version("npm", text) is None


def test_pep440_refuses_what_is_not_a_version() -> None:
    assert parse_version("PyPI", "not a version") is None


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("v0.3.6", "0.3.7"),
        # A pseudo-version sorts below its base release and above the release before it.
        ("v0.0.0-20170915142106-8351a756f30f", "0.0.0"),
        ("v0.0.0-20170915142106-8351a756f30f", "v0.0.0-20210101000000-abcdefabcdef"),
        ("v1.2.3", "v1.2.4-0.20210101000000-abcdefabcdef"),
        ("v1.2.4-0.20210101000000-abcdefabcdef", "1.2.4"),
        ("v1.2.4-pre.0.20210101000000-abcdefabcdef", "1.2.4-pre.1"),
    ],
)
def test_go_versions_sort_as_go_does(lower: str, higher: str) -> None:
    assert parse_version("Go", lower) < parse_version("Go", higher)


def test_go_drops_incompatible() -> None:
    assert parse_version("Go", "v20.10.7+incompatible") == parse_version("Go", "20.10.7")


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.0.a", "1.0"),
        ("1.0.pre1", "1.0.pre2"),
        ("2.2.3", "2.2.3.1"),
        ("1.9", "1.10"),
        ("1.0.0.rc1", "1.0.0"),
        ("6.1.4", "6.1.4.1"),
    ],
)
def test_rubygems_orders_like_gem_version(lower: str, higher: str) -> None:
    assert parse_version("RubyGems", lower) < parse_version("RubyGems", higher)


def test_rubygems_trailing_zeros_are_equal() -> None:
    assert parse_version("RubyGems", "1.0.0") == parse_version("RubyGems", "1")
    assert hash(parse_version("RubyGems", "1.0.0")) == hash(parse_version("RubyGems", "1"))
    assert parse_version("RubyGems", "1.2.3-x86_64-linux") is None


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("v5.4.19", "5.4.20"),
        ("1.0-dev", "1.0-alpha1"),
        ("1.0-alpha1", "1.0-beta1"),
        ("2.0.0-beta1", "2.0.0-RC1"),
        ("2.0.0-RC1", "v2.0.0"),
        ("1.0", "1.0-pl1"),
        ("1.2", "1.2.0.1"),
        ("4.3.2RC1", "4.3.2"),
    ],
)
def test_packagist_versions_compare_as_php_does(lower: str, higher: str) -> None:
    assert parse_version("Packagist", lower) < parse_version("Packagist", higher)


def test_packagist_leading_v_is_ignored() -> None:
    assert parse_version("Packagist", "v5.4.19") == parse_version("Packagist", "5.4.19")
    assert parse_version("Packagist", "dev-main") is None
