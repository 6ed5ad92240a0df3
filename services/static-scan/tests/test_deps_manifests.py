"""Each lockfile parser on a small fixture: names, versions, lines and what is left out."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_static_scan.deps.manifests import (
    Dependency,
    ManifestError,
    find_manifests,
    parse_cargo_lock,
    parse_go_mod,
    parse_package_lock,
    parse_requirements,
)

FIXTURES = Path(__file__).parent / "fixtures" / "deps"


def _read(name: str) -> str:
    return (FIXTURES / name).read_text()


def _pins(deps: list[Dependency]) -> list[tuple[str, str, int]]:
    return [(d.name, d.version, d.line) for d in deps]


def test_requirements_reads_exact_pins_only() -> None:
    deps = parse_requirements(_read("requirements.txt"), "requirements.txt")
    assert _pins(deps) == [
        ("requests", "2.30.0", 2),
        ("Django_Rest.Framework", "3.14.0", 3),
        ("numpy", "1.26.4", 6),
    ]
    assert deps[0].text == "requests==2.30.0"
    assert {d.ecosystem for d in deps} == {"PyPI"}


def test_requirements_empty() -> None:
    assert parse_requirements("", "requirements.txt") == []


def test_package_lock_v1_walks_nested_dependencies_in_order() -> None:
    deps = parse_package_lock(_read("lock_v1/package-lock.json"), "package-lock.json")
    assert _pins(deps) == [
        ("express", "4.17.1", 7),
        ("lodash", "4.17.15", 13),
        ("lodash", "4.17.19", 18),
    ]
    assert deps[1].text == '"lodash": {'


def test_package_lock_v3_reads_packages_and_skips_root_and_links() -> None:
    deps = parse_package_lock(_read("lock_v3/package-lock.json"), "web/package-lock.json")
    assert _pins(deps) == [
        ("@scope/pkg", "2.0.0-beta.1", 14),
        ("lodash", "4.17.15", 17),
        ("lodash", "4.17.19", 24),
    ]
    assert deps[2].text == '"node_modules/parent/node_modules/lodash": {'
    assert {d.ecosystem for d in deps} == {"npm"}


def test_package_lock_malformed_raises() -> None:
    with pytest.raises(ManifestError, match=r"package-lock\.json"):
        parse_package_lock("{not json", "package-lock.json")


def test_go_mod_reads_single_and_block_requires() -> None:
    deps = parse_go_mod(_read("go.mod"), "go.mod")
    assert _pins(deps) == [
        ("golang.org/x/text", "v0.3.6", 5),
        ("github.com/pkg/errors", "v0.9.1", 8),
        ("golang.org/x/net", "v0.0.0-20170915142106-8351a756f30f", 9),
        ("github.com/docker/docker", "v20.10.7+incompatible", 10),
    ]
    assert deps[2].text == "golang.org/x/net v0.0.0-20170915142106-8351a756f30f // indirect"


def test_cargo_lock_reads_registry_packages_only() -> None:
    deps = parse_cargo_lock(_read("Cargo.lock"), "Cargo.lock")
    assert _pins(deps) == [("smallvec", "0.6.9", 13), ("libusb", "0.3.0", 19)]
    assert deps[0].text == 'name = "smallvec"'


def test_empty_manifests_have_no_dependencies() -> None:
    assert parse_go_mod("module x\n", "go.mod") == []
    assert parse_cargo_lock("version = 3\n", "Cargo.lock") == []
    assert parse_package_lock('{"lockfileVersion": 3, "packages": {}}', "package-lock.json") == []


def test_find_manifests_skips_installed_packages() -> None:
    tree = FIXTURES / "tree"
    found = [p.relative_to(tree).as_posix() for p in find_manifests(tree)]
    assert found == [
        "Cargo.lock",
        "requirements-dev.txt",
        "svc/go.mod",
        "svc/requirements.txt",
        "web/package-lock.json",
    ]
