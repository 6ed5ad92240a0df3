"""The online source: a local server speaking OSV's querybatch/vulns protocol with real records."""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from vigil_common.config import Settings
from vigil_static_scan.deps.audit import run
from vigil_static_scan.deps.osv_api import OsvApiError
from vigil_static_scan.handlers import run_deps, run_scanners

FIXTURES = Path(__file__).parent / "fixtures" / "deps"
OSV_DIR = Path(
    os.environ.get("VIGIL_OSV_DIR") or Path(__file__).resolve().parents[4] / "shared" / "osv"
)
pytestmark = pytest.mark.skipif(
    not OSV_DIR.is_dir(), reason=f"offline OSV folder {OSV_DIR} not found (set VIGIL_OSV_DIR)"
)

# A RubyGems record in OSV's shape (the offline folder has no RubyGems data): rack's
# multipart denial of service, CVE-2022-30122, fixed in 2.2.3.1 on the 2.2 line.
RACK = {
    "id": "TEST-RACK-2022-30122",
    "modified": "2022-06-01T00:00:00Z",
    "summary": "Denial of service in multipart parsing",
    "aliases": ["CVE-2022-30122"],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
    "affected": [
        {
            "package": {"ecosystem": "RubyGems", "name": "rack"},
            "ranges": [
                {
                    "type": "ECOSYSTEM",
                    "events": [{"introduced": "2.2.0"}, {"fixed": "2.2.3.1"}],
                }
            ],
        }
    ],
}
# What the fake API answers per (ecosystem, name, version); versions as OSV writes them.
ANSWERS = {
    ("PyPI", "requests", "2.30.0"): ["PYSEC-2023-74"],
    ("npm", "lodash", "4.17.15"): ["x_NSWG-ECO-516", "x_NSWG-ECO-493"],
    ("Go", "golang.org/x/text", "0.3.6"): ["GO-2021-0113"],
    ("RubyGems", "rack", "2.2.3"): [RACK["id"]],
}
FOLDERS = {"PYSEC": "PyPI", "x_NSWG": "npm", "GO": "Go"}


@dataclass
class FakeOsv:
    """What the server was asked: batch sizes, page tokens seen, vuln ids fetched."""

    url: str = ""
    batches: list[int] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    # Answer this many querybatch requests with 503 before answering properly.
    unavailable: int = 0
    answers: dict[tuple[str, str, str], list[str]] = field(
        default_factory=lambda: {key: list(ids) for key, ids in ANSWERS.items()}
    )


FAKE = web.AppKey("fake", FakeOsv)


async def _querybatch(request: web.Request) -> web.Response:
    fake = request.app[FAKE]
    queries = (await request.json())["queries"]
    fake.batches.append(len(queries))
    if fake.unavailable:
        fake.unavailable -= 1
        raise web.HTTPServiceUnavailable()
    results = []
    for query in queries:
        package = query["package"]
        ids = fake.answers.get((package["ecosystem"], package["name"], query["version"]), [])
        # One id per page: every second id is only reachable through next_page_token.
        page = int(query.get("page_token") or 0)
        if query.get("page_token"):
            fake.tokens.append(query["page_token"])
        result: dict[str, object] = {}
        if ids[page : page + 1]:
            result["vulns"] = [{"id": ids[page], "modified": "2024-01-01T00:00:00Z"}]
        if page + 1 < len(ids):
            result["next_page_token"] = str(page + 1)
        results.append(result)
    return web.json_response({"results": results})


async def _vuln(request: web.Request) -> web.Response:
    vuln_id = request.match_info["id"]
    request.app[FAKE].fetched.append(vuln_id)
    if vuln_id == RACK["id"]:
        return web.json_response(RACK)
    folder = FOLDERS.get(vuln_id.split("-")[0])
    path = OSV_DIR / (folder or "none") / f"{vuln_id}.json"
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(body=path.read_bytes(), content_type="application/json")


@pytest.fixture
async def osv_api(unused_tcp_port: int) -> AsyncIterator[FakeOsv]:
    app = web.Application()
    app[FAKE] = fake = FakeOsv(url=f"http://127.0.0.1:{unused_tcp_port}")
    app.router.add_post("/v1/querybatch", _querybatch)
    app.router.add_get("/v1/vulns/{id}", _vuln)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield fake
    await runner.cleanup()


def _tree(root: Path) -> Path:
    tree = root / "tree"
    for source, target in [
        ("poetry/poetry.lock", "py/poetry.lock"),
        ("yarn_v1/yarn.lock", "web/yarn.lock"),
        ("gosum/go.sum", "svc/go.sum"),
        ("gemfile/Gemfile.lock", "Gemfile.lock"),
    ]:
        (tree / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / source, tree / target)
    (tree / "requirements.txt").write_text("requests==2.30.0\n")
    return tree


async def test_online_audit_finds_every_ecosystem_with_pages(
    osv_api: FakeOsv, tmp_path: Path
) -> None:
    settings = Settings(osv_api_url=osv_api.url + "/")
    found, note = await run_deps(settings, _tree(tmp_path), tmp_path)
    by_place = {(f.file_path, f.start_line, f.rule_id) for f in found}
    assert by_place == {
        ("py/poetry.lock", 27, "PYSEC-2023-74"),
        ("requirements.txt", 1, "PYSEC-2023-74"),
        ("web/yarn.lock", 12, "x_NSWG-ECO-516"),
        ("web/yarn.lock", 12, "x_NSWG-ECO-493"),
        ("svc/go.sum", 4, "GO-2021-0113"),
        ("Gemfile.lock", 20, "TEST-RACK-2022-30122"),
    }
    assert osv_api.tokens == ["1"]
    # requests is pinned twice, and each record is still fetched once.
    assert sorted(osv_api.fetched) == sorted(
        ["PYSEC-2023-74", "x_NSWG-ECO-516", "x_NSWG-ECO-493", "GO-2021-0113", RACK["id"]]
    )
    assert note.startswith("deps: 6 findings in 12 pinned dependencies (OSV API ")
    assert f"(OSV API {osv_api.url}, queried 20" in note


async def test_online_finding_carries_the_advisory(osv_api: FakeOsv, tmp_path: Path) -> None:
    found, _ = await run(_tree(tmp_path), Settings(osv_api_url=osv_api.url))
    [rack] = [f for f in found if f.rule_id == RACK["id"]]
    assert rack.title == "rack 2.2.3: Denial of service in multipart parsing"
    assert rack.severity == "high"
    assert rack.recommendation == "Upgrade to 2.2.3.1 or later"
    assert rack.snippet == "rack (2.2.3)"
    assert rack.evidence == (
        "RubyGems rack 2.2.3 is affected by TEST-RACK-2022-30122 (CVE-2022-30122);"
        " fixed in 2.2.3.1; CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H = 7.5"
    )


async def test_queries_go_in_batches_of_at_most_1000(osv_api: FakeOsv, tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "".join(f"package-{n}==1.0.{n}\n" for n in range(1500))
    )
    found, note = await run(tmp_path, Settings(osv_api_url=osv_api.url))
    assert (found, osv_api.batches) == ([], [1000, 500])
    assert note.startswith("deps: 0 findings in 1500 pinned dependencies")


async def test_unreachable_api_fails_with_a_clear_reason(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OsvApiError) as raised:
        await run(_tree(tmp_path), Settings(osv_api_url=f"http://127.0.0.1:{port}"))
    assert str(raised.value) == (
        f"OSV API http://127.0.0.1:{port} could not be reached (ClientConnectorError)"
        " (after 3 attempts)"
    )


async def test_a_passing_outage_is_tried_again(osv_api: FakeOsv, tmp_path: Path) -> None:
    osv_api.unavailable = 2
    found, _ = await run(_tree(tmp_path), Settings(osv_api_url=osv_api.url))
    assert len(found) == 6
    # Three tries of the 11 distinct packages (requests is pinned twice), then the second page.
    assert osv_api.batches == [11, 11, 11, 1]


async def test_a_lasting_outage_fails(osv_api: FakeOsv, tmp_path: Path) -> None:
    osv_api.unavailable = 3
    with pytest.raises(OsvApiError, match=r"answered HTTP 503 to POST /v1/querybatch \(after 3"):
        await run(_tree(tmp_path), Settings(osv_api_url=osv_api.url))


async def test_api_error_status_fails(osv_api: FakeOsv, tmp_path: Path) -> None:
    osv_api.answers[("PyPI", "requests", "2.30.0")].append("PYSEC-0000-MISSING")
    with pytest.raises(OsvApiError, match="answered HTTP 404 to GET /v1/vulns/PYSEC-0000"):
        await run(_tree(tmp_path), Settings(osv_api_url=osv_api.url))


def test_fake_records_are_real_ones() -> None:
    # The fake answers with the shared folder's own records, not made-up ones (bar rack).
    for ids in ANSWERS.values():
        for vuln_id in ids:
            if vuln_id != RACK["id"]:
                folder = FOLDERS[vuln_id.split("-")[0]]
                assert (
                    json.loads((OSV_DIR / folder / f"{vuln_id}.json").read_text())["id"] == vuln_id
                )


SCANNERS = Path(__file__).resolve().parents[3] / ".venv-scanners" / "bin"


@pytest.mark.skipif(
    not (SCANNERS / "semgrep").exists() or not (SCANNERS / "betterleaks").exists(),
    reason="Semgrep and betterleaks not installed in .venv-scanners",
)
async def test_unreachable_api_keeps_the_other_scanners_findings(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "requirements.txt").write_text("requests==2.30.0\n")
    (tree / "app.py").write_text(
        "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    settings = Settings(
        osv_api_url=f"http://127.0.0.1:{port}",
        semgrep_bin=str(SCANNERS / "semgrep"),
        betterleaks_bin=str(SCANNERS / "betterleaks"),
    )
    found, note = await run_scanners(settings, tree, tmp_path)
    assert {f.scanner for f in found} == {"semgrep"}
    assert note.endswith(
        f"; deps failed: OSV API http://127.0.0.1:{port} could not be reached"
        " (ClientConnectorError) (after 3 attempts)"
    )
