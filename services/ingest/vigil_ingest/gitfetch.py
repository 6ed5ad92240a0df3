"""Shallow-fetch one commit of a git repository over https, hardened against its server.

The host is checked by the SSRF guard and git is pinned to the checked address
(``http.curloptResolve``), so DNS rebinding cannot move it elsewhere; redirects are not
followed. Only https is allowed (plain http only with ``allow_private_networks``, for local
servers). No hooks, submodules, LFS downloads, prompts or credential helpers; no system or
user git config. A per-request token travels in the environment as an ``http.extraHeader``
(``GIT_CONFIG_*``): never in argv (visible in ``ps``), on disk, in logs or in a reason.
The fetch is killed past ``git_timeout_seconds`` or when the repository grows past
``max_archive_bytes`` on disk.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from yarl import URL

from vigil_common.netguard import BlockedDestination, check_url, resolve_checked
from vigil_common.repo_urls import RepoSource

log = logging.getLogger(__name__)

# Read by git; the environment is otherwise emptied so no user or system setting applies.
_BASE_ENV: Final = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "/bin/true",
    "SSH_ASKPASS": "/bin/true",
    "GIT_LFS_SKIP_SMUDGE": "1",
    "LC_ALL": "C",  # English messages: the failure reasons below are read from them
}
_HARDENING: Final = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "credential.helper=",
    "protocol.allow=never",
    "protocol.https.allow=always",
    "http.followRedirects=false",
    "submodule.recurse=false",
    "fetch.recurseSubmodules=false",
    "transfer.fsckObjects=true",
    "http.lowSpeedLimit=1024",
    "http.lowSpeedTime=60",
    "advice.detachedHead=false",
)
_WATCH_SECONDS: Final = 0.5


class GitFetchFailed(Exception):
    """The repository could not be fetched; ``reason`` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, kw_only=True)
class GitOptions:
    """Per-fetch settings: limits, whether private networks are allowed, and the token."""

    timeout: float
    max_bytes: int
    allow_private: bool
    token: str | None = field(default=None, repr=False)
    # Commits of history to keep for the secret scan (0: none).
    history_depth: int = 0


async def fetch_repo(
    source: RepoSource, dest: Path, options: GitOptions, history: Path | None = None
) -> str:
    """Check out ``source`` into ``dest`` (without ``.git``); returns the commit SHA.

    With ``history``, the last ``options.history_depth`` commits are fetched and the ``.git``
    folder is moved there (for the secret scan of the history) instead of being deleted.
    """
    url, pin = await _checked_destination(source.url, options.allow_private)
    config = [*_HARDENING, f"http.curloptResolve={pin}"]
    if url.scheme == "http":
        config.append("protocol.http.allow=always")
    git = _Git(dest, config, options)
    await git.run("init", "--quiet", "--template=", str(dest), cwd=dest.parent)
    depth = max(1, options.history_depth) if history is not None else 1
    await git.run(
        "fetch", "--quiet", f"--depth={depth}", "--no-tags", str(url), source.ref or "HEAD"
    )
    await git.run("checkout", "--quiet", "--detach", "FETCH_HEAD")
    sha = (await git.run("rev-parse", "HEAD")).strip()
    if history is None:
        shutil.rmtree(dest / ".git")
    else:
        shutil.move(dest / ".git", history / ".git")
    return sha


async def _checked_destination(raw: str, allow_private: bool) -> tuple[URL, str]:
    """The URL and the ``host:port:address`` git must connect to, both SSRF-checked."""
    try:
        url = check_url(raw, allow_private)
        assert url.host is not None  # check_url refuses URLs without a host
        port = url.port or 443
        addresses = await resolve_checked(url.host, port, allow_private)
    except BlockedDestination as exc:
        raise GitFetchFailed(f"the repository URL is refused: {exc.reason}") from None
    ip = addresses[0]
    shown = f"[{ip}]" if ip.version == 6 else str(ip)
    return url, f"{url.raw_host}:{port}:{shown}"


def _auth_env(token: str | None) -> dict[str, str]:
    """The token as git config in the environment (``x-access-token`` works on GitHub/Gitea)."""
    if not token:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


class _Git:
    """Runs git commands in one working tree with one deadline and one size limit."""

    def __init__(self, dest: Path, config: list[str], options: GitOptions) -> None:
        self.dest = dest
        self.options = options
        self.deadline = time.monotonic() + options.timeout
        self.args = [arg for item in config for arg in ("-c", item)]
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(dest.parent),
            **_BASE_ENV,
            **_auth_env(options.token),
        }
        self.secrets = [s for s in (options.token, self.env.get("GIT_CONFIG_VALUE_0")) if s]

    async def run(self, *command: str, cwd: Path | None = None) -> str:
        """Run ``git <command>``; its stdout, or :class:`GitFetchFailed` with a reason."""
        proc = await asyncio.create_subprocess_exec(
            "git", *self.args, *command,
            cwd=cwd or self.dest, env=self.env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a kill reaches remote helpers
        )  # fmt: skip
        watchdog = asyncio.create_task(self._watch_size(proc))
        try:
            stdout, stderr = await self._communicate(proc)
        finally:
            watchdog.cancel()
        killed = watchdog.done() and not watchdog.cancelled() and watchdog.result()
        if killed or await asyncio.to_thread(disk_usage, self.dest) > self.options.max_bytes:
            raise GitFetchFailed(f"the repository is larger than {self.options.max_bytes} bytes")
        if proc.returncode != 0:
            raise GitFetchFailed(self._failure(command[0], stderr))
        return stdout.decode("utf-8", "replace")

    async def _communicate(self, proc: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
        """Wait for ``proc`` until the deadline; kill it on timeout or when cancelled."""
        try:
            remaining = max(self.deadline - time.monotonic(), 0.1)
            return await asyncio.wait_for(proc.communicate(), remaining)
        except TimeoutError:
            _kill(proc)
            await proc.wait()
            raise GitFetchFailed(
                f"fetching the repository took longer than {self.options.timeout:.0f} seconds"
            ) from None
        except asyncio.CancelledError:  # the stage timed out or the worker is stopping
            _kill(proc)
            raise

    async def _watch_size(self, proc: asyncio.subprocess.Process) -> bool:
        """Kill ``proc`` once the working tree outgrows the limit; True if it did."""
        while proc.returncode is None:
            await asyncio.sleep(_WATCH_SECONDS)
            if await asyncio.to_thread(disk_usage, self.dest) > self.options.max_bytes:
                _kill(proc)
                return True
        return False

    def _failure(self, step: str, stderr: bytes) -> str:
        text = stderr.decode("utf-8", "replace")
        for secret in self.secrets:
            text = text.replace(secret, "***")
        log.warning("git %s failed", step, extra={"stderr": text[-1000:]})
        return explain_failure(text)


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def disk_usage(root: Path) -> int:
    """Bytes of the regular files under ``root`` (files vanishing meanwhile are skipped)."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


# git's own words (LC_ALL=C) -> a reason for the user; the first match wins.
_FAILURES: Final = (
    (("authentication failed", "could not read username", "could not read password",
      "terminal prompts disabled", "error: 401", "error: 403"),
     "authentication required: the repository is private, or the token was not accepted"),
    (("couldn't find remote ref", "not our ref", "unadvertised object", "no such remote ref"),
     "the branch, tag or commit was not found in the repository"),
    (("repository not found", "not found", "error: 404"),
     "the repository was not found at that URL"),
    (("error: 30", "redirect"),
     "the server redirected the request; give the repository's final URL"),
    (("could not resolve host",), "the repository's host name does not resolve"),
    (("failed to connect", "connection refused", "couldn't connect", "timed out"),
     "the repository's server could not be reached"),
    (("ssl", "certificate", "tls"), "a secure (TLS) connection to the server failed"),
)  # fmt: skip


def explain_failure(stderr: str) -> str:
    """A sentence for the user from git's error output (which is never shown itself)."""
    lowered = stderr.lower()
    for needles, reason in _FAILURES:
        if any(needle in lowered for needle in needles):
            return f"the repository could not be fetched: {reason}"
    return "the repository could not be fetched (git failed without a known reason)"
