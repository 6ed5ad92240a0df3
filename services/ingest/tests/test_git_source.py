"""Git sources against a real git server on loopback: refs, SHAs, tokens, refusals, failures.

The server runs ``git http-backend`` as a CGI program behind a small aiohttp handler, streaming
the request body to its stdin and its stdout back. The ``/private`` mount requires an
``Authorization`` header (401 otherwise), for private-repository cases. (The fixture lives here,
not in a ``conftest.py``: a second conftest would shadow the root one that other tests import.)
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from vigil_common.config import Settings
from vigil_common.db import Pool
from vigil_common.errors import Reject
from vigil_common.repo_urls import RepoSource
from vigil_common.schemas import ScanIngested, ScanRequested
from vigil_common.sealing import seal
from vigil_common.storage import ObjectStore, history_key
from vigil_common.subjects import SCAN_INGESTED, STREAM
from vigil_common.trees import decode_manifest, unpack_tree
from vigil_common.worker import StageContext
from vigil_ingest.gitfetch import GitFetchFailed, GitOptions, explain_failure, fetch_repo
from vigil_ingest.handlers import make_handler

TOKEN = "ghp_TestToken_0123456789abcdef"
EXPECTED_AUTH = "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()


@dataclass(frozen=True)
class GitRepo:
    """The served repository: its public and private URLs and its commits."""

    public_url: str
    private_url: str
    first_sha: str
    main_sha: str
    feature_sha: str
    token: str
    seen_auth: list[str]


def git(cwd: Path, *args: str) -> str:
    """Run git for test set-up with a fixed identity."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
    }  # fmt: skip
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def make_repository(root: Path) -> tuple[Path, dict[str, str]]:
    """A bare repo with two commits on main, an annotated tag on the first and a branch."""
    work = root / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "app.py").write_text("print('v1')\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "first")
    git(work, "tag", "-a", "v1.0", "-m", "release")
    shas = {"first": git(work, "rev-parse", "HEAD")}
    (work / "app.py").write_text("print('v2')\nprint('more')\n")
    git(work, "commit", "-q", "-am", "second")
    shas["main"] = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-q", "-b", "feature/x")
    (work / "feature.js").write_text("#!/usr/bin/env node\nconsole.log(1)\n")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "feature")
    shas["feature"] = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-q", "main")
    served = root / "served"
    served.mkdir()
    git(root, "clone", "-q", "--bare", str(work), str(served / "project.git"))
    return served, shas


def cgi_app(project_root: Path, seen_auth: list[str]) -> web.Application:
    """An app serving ``/public/...`` openly and ``/private/...`` only with the token."""

    async def handle(request: web.Request) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        seen_auth.append(auth)
        if request.match_info["mount"] == "private" and auth != EXPECTED_AUTH:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="git"'})
        return await run_backend(request, project_root)

    app = web.Application()
    app.router.add_route("*", "/{mount:public|private}{path:/.*}", handle)
    return app


async def run_backend(request: web.Request, project_root: Path) -> web.StreamResponse:
    """Run ``git http-backend`` for one request (CGI: environment in, headers + body out)."""
    env = {
        "PATH": os.environ["PATH"],
        "GIT_PROJECT_ROOT": str(project_root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": request.match_info["path"],
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.query_string,
        "CONTENT_TYPE": request.headers.get("Content-Type", ""),
        "REMOTE_ADDR": "127.0.0.1",
        "GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
    }
    proc = await asyncio.create_subprocess_exec(
        "git", "http-backend", env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    async for chunk in request.content.iter_chunked(65536):  # aiohttp already un-gzipped it
        proc.stdin.write(chunk)
        await proc.stdin.drain()
    proc.stdin.close()
    response = await _start_response(request, proc.stdout)
    while chunk := await proc.stdout.read(65536):
        await response.write(chunk)
    await proc.wait()
    await response.write_eof()
    return response


async def _start_response(request: web.Request, stdout: asyncio.StreamReader) -> web.StreamResponse:
    """Parse the CGI header block (``Status:`` and ordinary headers) and start the response."""
    response = web.StreamResponse()
    while (line := (await stdout.readline()).decode("latin-1").rstrip("\r\n")) != "":
        name, _, value = line.partition(":")
        if name.lower() == "status":
            response.set_status(int(value.split()[0]))
        else:
            response.headers[name.strip()] = value.strip()
    await response.prepare(request)
    return response


@pytest.fixture(scope="session")
async def git_repo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GitRepo]:
    """A git server on 127.0.0.1 with one repository, public and private."""
    served, shas = make_repository(tmp_path_factory.mktemp("git"))
    seen_auth: list[str] = []
    server = TestServer(cgi_app(served, seen_auth), host="127.0.0.1")
    await server.start_server()
    base = f"http://127.0.0.1:{server.port}"
    yield GitRepo(
        public_url=f"{base}/public/project.git",
        private_url=f"{base}/private/project.git",
        first_sha=shas["first"],
        main_sha=shas["main"],
        feature_sha=shas["feature"],
        token=TOKEN,
        seen_auth=seen_auth,
    )
    await server.close()


def options(**overrides: Any) -> GitOptions:
    values: dict[str, Any] = {
        "timeout": 30.0,
        "max_bytes": 10_000_000,
        "allow_private": True,
        "token": None,
    }
    return GitOptions(**{**values, **overrides})


async def test_fetches_the_default_branch(git_repo: Any, tmp_path: Path) -> None:
    sha = await fetch_repo(RepoSource(git_repo.public_url), tmp_path / "t", options())
    assert sha == git_repo.main_sha
    assert (tmp_path / "t" / "app.py").read_text() == "print('v2')\nprint('more')\n"
    assert not (tmp_path / "t" / ".git").exists()


async def test_keeps_the_history_for_the_secret_scan_when_asked(
    git_repo: Any, tmp_path: Path
) -> None:
    history = tmp_path / "h"
    history.mkdir()
    opts = options(history_depth=10)
    sha = await fetch_repo(RepoSource(git_repo.public_url), tmp_path / "t", opts, history)
    assert sha == git_repo.main_sha
    assert not (tmp_path / "t" / ".git").exists()
    log = subprocess.run(
        ["git", "-C", str(history), "log", "--format=%H"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert log == [git_repo.main_sha, git_repo.first_sha]


async def test_fetches_a_branch_with_a_slash(git_repo: Any, tmp_path: Path) -> None:
    sha = await fetch_repo(RepoSource(git_repo.public_url, "feature/x"), tmp_path / "t", options())
    assert sha == git_repo.feature_sha
    assert (tmp_path / "t" / "feature.js").exists()


async def test_fetches_an_annotated_tag_as_its_commit(git_repo: Any, tmp_path: Path) -> None:
    sha = await fetch_repo(RepoSource(git_repo.public_url, "v1.0"), tmp_path / "t", options())
    assert sha == git_repo.first_sha
    assert (tmp_path / "t" / "app.py").read_text() == "print('v1')\n"


async def test_fetches_an_older_commit_by_sha(git_repo: Any, tmp_path: Path) -> None:
    source = RepoSource(git_repo.public_url, git_repo.first_sha)
    assert await fetch_repo(source, tmp_path / "t", options()) == git_repo.first_sha


async def test_a_missing_ref_has_a_clear_reason(git_repo: Any, tmp_path: Path) -> None:
    with pytest.raises(GitFetchFailed, match="branch, tag or commit was not found"):
        await fetch_repo(RepoSource(git_repo.public_url, "nope"), tmp_path / "t", options())


async def test_a_missing_repository_has_a_clear_reason(git_repo: Any, tmp_path: Path) -> None:
    url = git_repo.public_url.replace("project.git", "absent.git")
    with pytest.raises(GitFetchFailed, match="not found"):
        await fetch_repo(RepoSource(url), tmp_path / "t", options())


async def test_private_repository_with_the_token(git_repo: Any, tmp_path: Path) -> None:
    opts = options(token=git_repo.token)
    sha = await fetch_repo(RepoSource(git_repo.private_url, "main"), tmp_path / "t", opts)
    assert sha == git_repo.main_sha


async def test_private_repository_without_a_token_needs_authentication(
    git_repo: Any, tmp_path: Path
) -> None:
    with pytest.raises(GitFetchFailed, match="authentication required"):
        await fetch_repo(RepoSource(git_repo.private_url), tmp_path / "t", options())


async def test_a_wrong_token_never_shows_in_reason_or_logs(
    git_repo: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "ghp_WrongSecret_999"
    with pytest.raises(GitFetchFailed, match="authentication required") as caught:
        await fetch_repo(RepoSource(git_repo.private_url), tmp_path / "t", options(token=wrong))
    assert wrong not in caught.value.reason
    assert wrong not in caplog.text
    assert "Basic" not in caplog.text
    assert not any(wrong in p.read_text("latin-1") for p in tmp_path.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1:9/repo.git", "loopback or private address"),
        ("https://localhost:9/repo.git", "loopback or private address"),
        ("http://example.com/repo.git", "must use https"),
        ("https://user:pw@example.com/repo.git", "must not carry credentials"),
        ("https://169.254.169.254/latest", "cloud metadata"),
    ],
)
async def test_refuses_destinations_before_connecting(
    tmp_path: Path, url: str, reason: str
) -> None:
    with pytest.raises(GitFetchFailed, match=reason):
        await fetch_repo(RepoSource(url), tmp_path / "t", options(allow_private=False))


async def test_a_repository_over_the_size_limit_is_stopped(git_repo: Any, tmp_path: Path) -> None:
    with pytest.raises(GitFetchFailed, match="larger than 10 bytes"):
        await fetch_repo(RepoSource(git_repo.public_url), tmp_path / "t", options(max_bytes=10))


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("fatal: Authentication failed for 'https://h/r'", "authentication required"),
        ("fatal: could not read Username for 'https://h': terminal prompts disabled", "auth"),
        ("fatal: couldn't find remote ref nope", "was not found in the repository"),
        ("fatal: repository 'https://h/r/' not found", "repository was not found"),
        ("fatal: unable to access 'https://h/r/': The requested URL returned error: 301", "redir"),
        ("fatal: unable to access 'x': Could not resolve host: h", "does not resolve"),
        ("fatal: unable to access 'x': Failed to connect to h port 443", "could not be reached"),
        ("something new", "without a known reason"),
    ],
)
def test_explains_git_failures_in_words_for_users(stderr: str, reason: str) -> None:
    assert reason in explain_failure(stderr)


async def test_the_token_travels_in_the_environment_not_argv(
    git_repo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[tuple[str, ...], dict[str, str]]] = []
    real_exec = asyncio.create_subprocess_exec

    async def spy(*args: str, **kwargs: Any) -> Any:
        calls.append((args, kwargs["env"]))
        return await real_exec(*args, **kwargs)

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    opts = options(token=git_repo.token)
    await fetch_repo(RepoSource(git_repo.private_url), tmp_path / "t", opts)
    assert calls
    assert all(git_repo.token not in " ".join(args) for args, _ in calls)
    fetch_env = next(env for args, env in calls if "fetch" in args)
    assert fetch_env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert fetch_env["GIT_TERMINAL_PROMPT"] == "0"
    assert "core.hooksPath=/dev/null" in next(args for args, _ in calls if "fetch" in args)


@pytest.fixture
def ctx(
    settings: Settings, pool: Pool, store: ObjectStore, nats_js: tuple[NATS, JetStreamContext]
) -> StageContext:
    return StageContext(settings, pool, store, nats_js[1])


async def new_git_scan(pool: Pool, org_id: uuid.UUID) -> uuid.UUID:
    project_id = await pool.fetchval(
        "INSERT INTO projects (org_id, name) VALUES ($1, $2) RETURNING id",
        org_id,
        f"p-{uuid.uuid4().hex[:6]}",
    )
    scan_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO scans (id, org_id, project_id, source_type, status)"
        " VALUES ($1, $2, $3, 'git', 'queued')",
        scan_id,
        org_id,
        project_id,
    )
    return scan_id


async def test_ingests_a_private_git_repository_with_a_sealed_token(
    ctx: StageContext, tenant: Any, git_repo: Any
) -> None:
    scan_id = await new_git_scan(ctx.pool, tenant.org_id)
    event = ScanRequested(
        scan_id=scan_id,
        org_id=tenant.org_id,
        source_type="git",
        repo_url=git_repo.private_url,
        ref="feature/x",
        git_token_sealed=seal(git_repo.token, ctx.settings.sealing_key, "git-token"),
    )
    await make_handler(ctx)(event)
    row = await ctx.pool.fetchrow("SELECT * FROM scans WHERE id = $1", scan_id)
    assert row["commit_sha"] == git_repo.feature_sha
    assert row["languages"] == {"python": 1, "javascript": 1}
    assert row["included_files"] == row["total_files"] == 2
    manifest = decode_manifest(await ctx.store.get_bytes(row["manifest_key"]))
    assert manifest.commit_sha == git_repo.feature_sha


async def test_the_history_is_stored_for_the_secret_scan_when_configured(
    ctx: StageContext, tenant: Any, git_repo: Any, tmp_path: Path
) -> None:
    settings = msgspec.structs.replace(ctx.settings, secrets_git_history_depth=50)
    history_ctx = StageContext(settings, ctx.pool, ctx.store, ctx.js)
    scan_id = await new_git_scan(ctx.pool, tenant.org_id)
    event = ScanRequested(
        scan_id=scan_id, org_id=tenant.org_id, source_type="git", repo_url=git_repo.public_url
    )
    await make_handler(history_ctx)(event)
    message = await ctx.js.get_last_msg(STREAM, SCAN_INGESTED)
    sent = msgspec.json.decode(message.data or b"", type=ScanIngested)
    assert sent.scan_id == scan_id and sent.history_key == history_key(scan_id)
    (tmp_path / "h.tar.gz").write_bytes(await ctx.store.get_bytes(sent.history_key))
    unpack_tree(tmp_path / "h.tar.gz", tmp_path / "h")
    git_log = ["git", "-C", str(tmp_path / "h"), "log", "--format=%H"]
    log = subprocess.run(git_log, capture_output=True, text=True, check=True).stdout.split()
    assert log == [git_repo.main_sha, git_repo.first_sha]


async def test_a_git_failure_rejects_without_the_token(
    ctx: StageContext, tenant: Any, git_repo: Any
) -> None:
    scan_id = await new_git_scan(ctx.pool, tenant.org_id)
    event = ScanRequested(
        scan_id=scan_id,
        org_id=tenant.org_id,
        source_type="git",
        repo_url=git_repo.private_url,
        git_token_sealed=seal("ghp_not_the_right_one", ctx.settings.sealing_key, "git-token"),
    )
    with pytest.raises(Reject, match="authentication required") as caught:
        await make_handler(ctx)(event)
    assert "ghp_not_the_right_one" not in caught.value.reason


async def test_a_server_that_never_answers_times_out(tmp_path: Path) -> None:
    done = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await done.wait()  # accept, then say nothing until the test ends
        writer.close()

    server = await asyncio.start_server(stall, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(GitFetchFailed, match="took longer than 1 seconds"):
            url = f"http://127.0.0.1:{port}/r.git"
            await fetch_repo(RepoSource(url), tmp_path / "t", options(timeout=1.0))
    finally:
        done.set()
        server.close()
