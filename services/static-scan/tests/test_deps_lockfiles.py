"""The lockfile parsers added beside npm/Go/Cargo/pip: one fixture per format and version."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_static_scan.deps.jslocks import parse_pnpm_lock, parse_yarn_lock
from vigil_static_scan.deps.manifests import (
    Dependency,
    ManifestError,
    find_manifests,
    parse_package_lock,
    parser_for,
)
from vigil_static_scan.deps.otherlocks import parse_composer_lock, parse_gemfile_lock, parse_go_sum
from vigil_static_scan.deps.pylocks import parse_pipfile_lock, parse_poetry_lock, parse_uv_lock

FIXTURES = Path(__file__).parent / "fixtures" / "deps"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text()


def _pins(deps: list[Dependency]) -> list[tuple[str, str, int]]:
    return [(d.name, d.version, d.line) for d in deps]


def test_poetry_lock_skips_directory_sources_and_keeps_private_indexes() -> None:
    deps = parse_poetry_lock(_read("poetry/poetry.lock"), "poetry.lock")
    assert _pins(deps) == [
        ("certifi", "2024.2.2", 4),
        ("requests", "2.30.0", 27),
        ("private-pkg", "1.0.0", 43),
    ]
    assert deps[1].text == 'name = "requests"'
    assert {(d.ecosystem, d.path) for d in deps} == {("PyPI", "poetry.lock")}


def test_uv_lock_reads_registry_packages_only() -> None:
    deps = parse_uv_lock(_read("uv/uv.lock"), "uv.lock")
    assert _pins(deps) == [("certifi", "2024.2.2", 5), ("requests", "2.30.0", 22)]


def test_pipfile_lock_reads_both_sections_and_skips_git_and_paths() -> None:
    deps = parse_pipfile_lock(_read("pipfile/Pipfile.lock"), "Pipfile.lock")
    assert _pins(deps) == [("requests", "2.30.0", 19), ("requests", "2.31.0", 33)]
    assert deps[0].text == '"requests": {'


def test_yarn_classic_reads_headers_and_aliases() -> None:
    deps = parse_yarn_lock(_read("yarn_v1/yarn.lock"), "yarn.lock")
    assert _pins(deps) == [
        ("@babel/code-frame", "7.10.4", 5),
        ("lodash", "4.17.15", 12),
        ("string-width", "4.2.3", 20),
    ]
    assert deps[1].text == "lodash@^4.17.15:"
    assert {d.ecosystem for d in deps} == {"npm"}


def test_yarn_berry_reads_npm_resolutions_only() -> None:
    deps = parse_yarn_lock(_read("yarn_berry/yarn.lock"), "yarn.lock")
    assert _pins(deps) == [("@babel/code-frame", "7.10.4", 8), ("lodash", "4.17.15", 17)]
    assert deps[1].text == '"lodash@npm:^4.17.15":'


@pytest.mark.parametrize(
    ("folder", "lines"),
    [("pnpm_v5", [13, 17, 21]), ("pnpm_v6", [14, 18, 22]), ("pnpm_v9", [17, 20])],
)
def test_pnpm_lock_every_key_format(folder: str, lines: list[int]) -> None:
    deps = parse_pnpm_lock(_read(f"{folder}/pnpm-lock.yaml"), "pnpm-lock.yaml")
    expected = [("@babel/code-frame", "7.10.4"), ("lodash", "4.17.15"), ("react-dom", "17.0.2")]
    assert _pins(deps) == [(*pin, line) for pin, line in zip(expected, lines, strict=False)]


def test_go_sum_keeps_the_highest_downloaded_version() -> None:
    deps = parse_go_sum(_read("gosum/go.sum"), "go.sum")
    assert _pins(deps) == [
        ("github.com/google/uuid", "v1.3.0", 1),
        ("golang.org/x/text", "v0.3.6", 4),
    ]
    assert {d.ecosystem for d in deps} == {"Go"}


def test_gemfile_lock_reads_gem_specs_once_without_platforms() -> None:
    deps = parse_gemfile_lock(_read("gemfile/Gemfile.lock"), "Gemfile.lock")
    assert _pins(deps) == [("nokogiri", "1.16.2", 15), ("racc", "1.7.3", 19), ("rack", "2.2.3", 20)]
    assert {d.ecosystem for d in deps} == {"RubyGems"}


def test_composer_lock_reads_both_sections_and_skips_branches() -> None:
    deps = parse_composer_lock(_read("composer/composer.lock"), "composer.lock")
    assert _pins(deps) == [
        ("guzzlehttp/psr7", "2.4.1", 8),
        ("symfony/http-kernel", "v5.4.19", 18),
        ("phpunit/phpunit", "9.5.28", 30),
    ]
    assert {d.ecosystem for d in deps} == {"Packagist"}


@pytest.mark.parametrize(
    "name",
    ["poetry.lock", "uv.lock", "Pipfile.lock", "yarn.lock", "pnpm-lock.yaml", "composer.lock"],
)
def test_malformed_lockfiles_raise_manifest_error(name: str) -> None:
    parse = parser_for(name)
    assert parse is not None
    with pytest.raises(ManifestError):
        parse('{"a": [1, 2\n__metadata:\n  - [unclosed\n[[package]\nname = ', name)


@pytest.mark.parametrize(
    "name",
    [
        "poetry.lock",
        "uv.lock",
        "Pipfile.lock",
        "yarn.lock",
        "pnpm-lock.yaml",
        "go.sum",
        "Gemfile.lock",
        "composer.lock",
    ],
)
def test_empty_lockfiles_have_no_dependencies(name: str) -> None:
    parse = parser_for(name)
    assert parse is not None
    text = "{}" if name.endswith(".lock") and name in {"Pipfile.lock", "composer.lock"} else ""
    assert parse(text, name) == []


def test_go_sum_is_left_out_beside_a_go_mod(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "go.sum").write_text(_read("gosum/go.sum"))
    (tmp_path / "a" / "go.mod").write_text(_read("go.mod"))
    found = [p.relative_to(tmp_path).as_posix() for p in find_manifests(tmp_path)]
    assert found == ["a/go.mod", "b/go.sum"]


def test_package_lock_aliases_are_reported_as_the_real_package() -> None:
    v3 = (
        '{"lockfileVersion": 3, "packages": {\n'
        '  "": {"name": "app"},\n'
        '  "node_modules/string-width-cjs": {\n'
        '    "name": "string-width", "version": "4.2.3"}}}'
    )
    v1 = (
        '{"lockfileVersion": 1, "dependencies": {\n'
        '  "string-width-cjs": {\n'
        '    "version": "npm:string-width@4.2.3"}}}'
    )
    assert _pins(parse_package_lock(v3, "p")) == [("string-width", "4.2.3", 3)]
    assert _pins(parse_package_lock(v1, "p")) == [("string-width", "4.2.3", 2)]
