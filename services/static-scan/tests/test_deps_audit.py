"""Matching against real records of the offline OSV folder, and run_deps end to end."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from vigil_common.config import Settings
from vigil_common.findings import fingerprint
from vigil_static_scan.deps.audit import SKIPPED, audit, check, in_range
from vigil_static_scan.deps.manifests import Dependency
from vigil_static_scan.deps.osv_index import Event, Index, load_index
from vigil_static_scan.deps.versions import Ecosystem, parse_version
from vigil_static_scan.handlers import run_deps

FIXTURES = Path(__file__).parent / "fixtures" / "deps"
# CI clones the repository with shared/ beside it: <root>/main/services/static-scan/tests.
OSV_DIR = Path(
    os.environ.get("VIGIL_OSV_DIR") or Path(__file__).resolve().parents[4] / "shared" / "osv"
)
needs_osv = pytest.mark.skipif(
    not OSV_DIR.is_dir(),
    reason=f"offline OSV folder {OSV_DIR} not found (set VIGIL_OSV_DIR to run these tests)",
)


@pytest.fixture(scope="module")
def index() -> Index:
    if not OSV_DIR.is_dir():
        pytest.skip(f"offline OSV folder {OSV_DIR} not found (set VIGIL_OSV_DIR)")
    return load_index(OSV_DIR)


def _ids(index: Index, ecosystem: Ecosystem, name: str, version: str) -> set[str]:
    dep = Dependency(ecosystem, name, version, "m", 1, f"{name} {version}")
    return {finding.rule_id for finding in check(dep, index)}


@pytest.mark.parametrize(
    ("ecosystem", "name", "version", "advisory", "affected"),
    [
        # PYSEC-2023-74 (CVE-2023-32681): ECOSYSTEM introduced 2.3.0, fixed 2.31.0.
        ("PyPI", "requests", "2.30.0", "PYSEC-2023-74", True),
        ("PyPI", "Requests", "2.3.0", "PYSEC-2023-74", True),
        ("PyPI", "requests", "2.31.0", "PYSEC-2023-74", False),
        ("PyPI", "requests", "2.2.1", "PYSEC-2023-74", False),
        # x_NSWG-ECO-516: SEMVER introduced 4.17.15, fixed 4.17.19.
        ("npm", "lodash", "4.17.15", "x_NSWG-ECO-516", True),
        ("npm", "lodash", "4.17.18", "x_NSWG-ECO-516", True),
        ("npm", "lodash", "4.17.19", "x_NSWG-ECO-516", False),
        ("npm", "lodash", "4.17.14", "x_NSWG-ECO-516", False),
        # x_NSWG-ECO-1: introduced 0, last_affected 1.5.1.
        ("npm", "bassmaster", "1.5.1", "x_NSWG-ECO-1", True),
        ("npm", "bassmaster", "1.5.2", "x_NSWG-ECO-1", False),
        # GO-2021-0113 (CVE-2021-38561): introduced 0, fixed 0.3.7.
        ("Go", "golang.org/x/text", "v0.3.6", "GO-2021-0113", True),
        ("Go", "golang.org/x/text", "v0.0.0-20170915032832-14c0d48ead0c", "GO-2021-0113", True),
        ("Go", "golang.org/x/text", "v0.3.7", "GO-2021-0113", False),
        # RUSTSEC-2019-0009 (CVE-2019-15551): introduced 0.6.5, fixed 0.6.10.
        ("crates.io", "smallvec", "0.6.9", "RUSTSEC-2019-0009", True),
        ("crates.io", "smallvec", "0.6.10", "RUSTSEC-2019-0009", False),
        ("crates.io", "smallvec", "0.6.4", "RUSTSEC-2019-0009", False),
    ],
)
def test_real_records_match_affected_versions_only(
    index: Index, ecosystem: Ecosystem, name: str, version: str, advisory: str, affected: bool
) -> None:
    assert (advisory in _ids(index, ecosystem, name, version)) is affected


def test_withdrawn_records_are_skipped(index: Index) -> None:
    # PYSEC-2006-10 (plone <= 2.5.1) is withdrawn.
    assert "PYSEC-2006-10" not in _ids(index, "PyPI", "plone", "2.5")


def test_finding_fields_from_a_real_record(index: Index) -> None:
    dep = Dependency("crates.io", "smallvec", "0.6.9", "Cargo.lock", 13, 'name = "smallvec"')
    [finding] = [f for f in check(dep, index) if f.rule_id == "RUSTSEC-2019-0009"]
    assert finding.title == "smallvec 0.6.9: Double-free and use-after-free in SmallVec::grow()"
    # Its CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H scores 9.8.
    assert finding.severity == "critical"
    assert finding.confidence == "high"
    assert finding.recommendation == "Upgrade to 0.6.10 or later"
    assert finding.description.splitlines()[-1] == ("Aliases: CVE-2019-15551, GHSA-mm7v-vpv8-xfc3")
    assert "CVSS: CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H (base score 9.8)" in (
        finding.description
    )
    assert finding.evidence == (
        "crates.io smallvec 0.6.9 is affected by RUSTSEC-2019-0009"
        " (CVE-2019-15551, GHSA-mm7v-vpv8-xfc3); fixed in 0.6.10;"
        " CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H = 9.8"
    )
    assert (finding.file_path, finding.start_line, finding.end_line) == ("Cargo.lock", 13, 13)
    assert finding.snippet == 'name = "smallvec"'
    assert finding.fingerprint == fingerprint(
        "deps", "RUSTSEC-2019-0009", "Cargo.lock", "smallvec@0.6.9"
    )


def test_record_without_summary_uses_its_id_and_details(index: Index) -> None:
    dep = Dependency("PyPI", "requests", "2.30.0", "requirements.txt", 1, "requests==2.30.0")
    [finding] = [f for f in check(dep, index) if f.rule_id == "PYSEC-2023-74"]
    assert finding.title == "requests 2.30.0: PYSEC-2023-74"
    assert finding.description.startswith("Requests is a HTTP library.")
    assert finding.recommendation.startswith("Upgrade to 2.31.0 or later")


def test_informational_crate_advisory_is_info(index: Index) -> None:
    dep = Dependency("crates.io", "libusb", "0.3.0", "Cargo.lock", 1, 'name = "libusb"')
    [finding] = [f for f in check(dep, index) if f.rule_id == "RUSTSEC-2016-0004"]
    assert finding.severity == "info"


def test_no_fix_published(index: Index) -> None:
    dep = Dependency("npm", "bassmaster", "1.5.1", "package-lock.json", 1, "")
    [finding] = [f for f in check(dep, index) if f.rule_id == "x_NSWG-ECO-1"]
    assert finding.recommendation == "No fixed version is published"


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.9", False), ("1.0", True), ("1.4", True), ("1.5", False), ("2.0", True), ("2.1", True)],
)
def test_ranges_with_several_intervals(version: str, affected: bool) -> None:
    events = (
        Event(introduced="1.0"),
        Event(fixed="1.5"),
        Event(introduced="2.0"),
        Event(last_affected="2.1"),
    )
    assert in_range("PyPI", parse_version("PyPI", version), events) is affected


def test_skipped_without_advisory_source(tmp_path: Path) -> None:
    assert audit(FIXTURES / "tree", None) == ([], SKIPPED)
    assert audit(FIXTURES / "tree", str(tmp_path / "missing")) == ([], SKIPPED)
    assert SKIPPED == "deps: skipped: no advisory source (set VIGIL_OSV_DIR or VIGIL_OSV_API_URL)"


@needs_osv
def test_run_deps_end_to_end(tmp_path: Path) -> None:
    settings = Settings(osv_dir=str(OSV_DIR))
    found, note = asyncio.run(run_deps(settings, FIXTURES / "tree", tmp_path))
    by_file = {(f.file_path, f.rule_id) for f in found}
    assert ("svc/requirements.txt", "PYSEC-2023-74") in by_file
    assert ("svc/go.mod", "GO-2021-0113") in by_file
    assert ("web/package-lock.json", "x_NSWG-ECO-516") in by_file
    # Fixed in the pinned version, withdrawn, or under node_modules/ (not the project's own).
    assert ("requirements-dev.txt", "PYSEC-2023-74") not in by_file
    assert ("Cargo.lock", "RUSTSEC-2019-0009") not in by_file
    assert ("Cargo.lock", "RUSTSEC-2021-0003") in by_file
    assert ("requirements-dev.txt", "PYSEC-2006-10") not in by_file
    assert not any(f.file_path.startswith("node_modules/") for f in found)
    assert [f.start_line for f in found if f.file_path == "web/package-lock.json"] == [17]
    assert all(f.scanner == "deps" for f in found)
    assert note.startswith(f"deps: {len(found)} findings in 8 pinned dependencies")
    assert f"OSV offline, {OSV_DIR.resolve()}, snapshot 20" in note


def _record(vuln_id: str, ecosystem: str, name: str, introduced: str, fixed: str) -> str:
    affected = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}],
    }
    record = {"id": vuln_id, "modified": "2023-02-01T00:00:00Z", "affected": [affected]}
    return json.dumps(record)


def test_rubygems_and_packagist_audit_against_a_folder_that_has_them(tmp_path: Path) -> None:
    osv = tmp_path / "osv"
    for ecosystem, vuln_id, name, introduced, fixed in [
        ("Packagist", "TEST-PHP-1", "symfony/http-kernel", "5.0.0", "5.4.20"),
        ("Packagist", "TEST-PHP-2", "phpunit/phpunit", "9.5.29", "9.6.0"),
        ("RubyGems", "TEST-RB-1", "rack", "2.2.0", "2.2.3.1"),
        ("RubyGems", "TEST-RB-2", "nokogiri", "1.16.3", "1.16.5"),
    ]:
        (osv / ecosystem).mkdir(parents=True, exist_ok=True)
        (osv / ecosystem / f"{vuln_id}.json").write_text(
            _record(vuln_id, ecosystem, name, introduced, fixed)
        )
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("composer/composer.lock", "gemfile/Gemfile.lock"):
        (tree / Path(name).name).write_text((FIXTURES / name).read_text())
    found, note = audit(tree, str(osv))
    assert sorted((f.rule_id, f.file_path, f.start_line, f.recommendation) for f in found) == [
        ("TEST-PHP-1", "composer.lock", 18, "Upgrade to 5.4.20 or later"),
        ("TEST-RB-1", "Gemfile.lock", 20, "Upgrade to 2.2.3.1 or later"),
    ]
    # No README or snapshot.json: the newest `modified` dates the snapshot.
    assert note == (
        f"deps: 2 findings in 6 pinned dependencies (OSV offline, {osv.resolve()},"
        " snapshot 2023-02-01)"
    )
