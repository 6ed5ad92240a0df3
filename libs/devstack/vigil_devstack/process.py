"""Server subprocesses: spawn with a log file, wait for readiness, stop, clean up at exit."""

import atexit
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar

T = TypeVar("T")

log = logging.getLogger("vigil_devstack")

LOG_TAIL_LINES = 20
_MAX_LOG_BYTES = 5 * 1024 * 1024
# The port we picked was taken by someone else before the server bound it.
_PORT_CLASH = re.compile(r"address already in use|is not available|could not bind", re.I)

RunAs = tuple[int, int]
"""(uid, gid) a server runs as instead of the current user."""


class StartupError(RuntimeError):
    """A server could not be started; the message ends with the tail of its log."""

    def __init__(self, name: str, reason: str, log_tail: str = "") -> None:
        message = f"{name}: {reason}"
        if log_tail:
            message += f"\n--- last lines of the {name} log ---\n{log_tail}"
        super().__init__(message)
        self.name = name
        self.log_tail = log_tail

    @property
    def port_clash(self) -> bool:
        """True when the log says a port we picked was taken meanwhile (worth a retry)."""
        return bool(_PORT_CLASH.search(self.log_tail))


class NotReadyError(Exception):
    """Raised by a readiness probe; its message is reported if start-up times out."""


class RunningServer:
    """A started server process; `env` holds the VIGIL_* settings that point clients at it."""

    def __init__(
        self,
        name: str,
        process: "subprocess.Popen[bytes]",
        *,
        data_dir: Path,
        log_path: Path,
        log_offset: int,
        stop_signal: signal.Signals,
        grace: float,
    ) -> None:
        self.name = name
        self.data_dir = data_dir
        self.env: dict[str, str] = {}
        self.ports: dict[str, int] = {}
        self.log_path = log_path
        self._process = process
        self._log_offset = log_offset
        self._stop_signal = stop_signal
        self._grace = grace
        self._lock = threading.Lock()
        self.cleanup: Callable[[], None] | None = None
        """Called once the process has exited, e.g. to remove files it leaves behind."""
        _register(self)

    def __repr__(self) -> str:
        state = "running" if self.running() else f"exited {self.exit_code}"
        return f"<RunningServer {self.name} pid={self.pid} {state} env={self.env}>"

    @property
    def pid(self) -> int:
        """Process id of the server (also its process group id)."""
        return self._process.pid

    @property
    def exit_code(self) -> int | None:
        """Exit status once the process has exited, else None."""
        return self._process.poll()

    def running(self) -> bool:
        """True while the server process has not exited."""
        return self._process.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """Last `lines` lines this server wrote to its log since it was started."""
        return read_tail(self.log_path, self._log_offset, lines)

    def stop(self) -> None:
        """Stop the server and wait until it has exited; calling it again does nothing."""
        with self._lock:
            if self.running():
                _terminate(self._process, self._stop_signal, self._grace)
                log.info("stopped %s (pid %d)", self.name, self.pid)
            _unregister(self)
            pid_record(self.data_dir, self.name).unlink(missing_ok=True)
            if self.cleanup is not None:
                self.cleanup()
                self.cleanup = None


def spawn(
    name: str,
    argv: Sequence[str | Path],
    *,
    data_dir: Path,
    log_name: str,
    env: Mapping[str, str] | None = None,
    run_as: RunAs | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
    grace: float = 10.0,
) -> RunningServer:
    """Start `argv` in its own session with output appended to data_dir/log_name.

    Its own session keeps a terminal Ctrl-C away from it, so that our code stops the
    servers in order; an atexit hook stops whatever is still running.
    """
    log_path = data_dir / log_name
    handle, offset = open_log(log_path)
    with handle:
        process = subprocess.Popen(
            [str(arg) for arg in argv],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            env=env,
            start_new_session=True,
            **_identity(run_as),
        )
    server = RunningServer(
        name,
        process,
        data_dir=data_dir,
        log_path=log_path,
        log_offset=offset,
        stop_signal=stop_signal,
        grace=grace,
    )
    _write_pid_record(data_dir, name, process.pid)
    return server


def run_logged(
    name: str,
    argv: Sequence[str | Path],
    *,
    log_path: Path,
    cwd: Path,
    run_as: RunAs | None = None,
    timeout: float = 120.0,
) -> None:
    """Run a one-off helper command (e.g. initdb) with output appended to the server log."""
    handle, offset = open_log(log_path)
    with handle:
        result = subprocess.run(
            [str(arg) for arg in argv],
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            timeout=timeout,
            check=False,
            **_identity(run_as),
        )
    if result.returncode != 0:
        reason = f"{Path(argv[0]).name} failed with exit code {result.returncode}"
        raise StartupError(name, reason, read_tail(log_path, offset))


def wait_until(server: RunningServer, probe: Callable[[], T], *, timeout: float, what: str) -> T:
    """Call `probe` until it stops raising NotReadyError and return its result.

    If the server exits or `timeout` seconds pass first, stop it and raise StartupError.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except NotReadyError as not_ready:
            last = str(not_ready)
        if not server.running():
            fail(server, f"exited with code {server.exit_code} before {what}")
        if time.monotonic() > deadline:
            fail(server, f"not {what} after {timeout:.0f} s (last check: {last})")
        time.sleep(0.05)


def fail(server: RunningServer, reason: str) -> NoReturn:
    """Stop a server that failed to start and raise StartupError with its log tail."""
    server.stop()
    raise StartupError(server.name, reason, server.log_tail())


def retry_on_port_clash(start: Callable[[], RunningServer], attempts: int = 3) -> RunningServer:
    """Call `start` again (it picks new ports) when it failed because a port was taken."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except StartupError as error:
            if attempt == attempts or not error.port_clash:
                raise
            log.warning("%s: port taken during start-up, retrying with new ports", error.name)
    raise AssertionError("unreachable: the last attempt returns or raises")


def clean_env(*drop_prefixes: str) -> dict[str, str]:
    """Our environment without variables whose names start with any of `drop_prefixes`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}


def open_log(path: Path) -> tuple[IO[bytes], int]:
    """Open a server log for appending; return it and the offset where this run starts."""
    # A dev stack's logs would otherwise grow forever: keep one previous generation.
    if path.exists() and path.stat().st_size > _MAX_LOG_BYTES:
        path.replace(path.with_name(path.name + ".1"))
    handle = path.open("ab")
    return handle, handle.tell()


def read_tail(path: Path, offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """Last `lines` lines of `path` written after byte `offset`."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def pid_record(data_dir: Path, name: str) -> Path:
    """File recording which process runs `name` on data_dir, and for which owner process."""
    return data_dir / f"{name}.pid.json"


def reclaim(data_dir: Path, name: str, stop_signal: signal.Signals) -> None:
    """Deal with a server still running on data_dir from an earlier run.

    If the program that started it is gone (killed without cleanup), stop the orphan.
    If that program is still alive, refuse: two servers must not share a data folder.
    """
    record = _read_pid_record(pid_record(data_dir, name))
    if record is not None and is_running_on(record[0], data_dir):
        pid, owner = record
        if is_alive(owner):
            reason = f"already running on {data_dir} (pid {pid}, started by process {owner})"
            raise StartupError(name, reason + "; stop it or use another VIGIL_HOME")
        log.warning("%s: stopping pid %d left running by a dead process %d", name, pid, owner)
        _stop_orphan(pid, stop_signal)
    pid_record(data_dir, name).unlink(missing_ok=True)


def is_alive(pid: int) -> bool:
    """True if process `pid` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, it just belongs to another user
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc to tell a zombie apart: trust kill()
    # An orphan reparented to a PID 1 that never reaps stays a zombie: it is gone.
    return state != "Z"


def is_running_on(pid: int, data_dir: Path) -> bool:
    """True if `pid` is alive and its command line names data_dir (so pid was not reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
    except OSError:
        return False
    return is_alive(pid) and str(data_dir) in cmdline


def _identity(run_as: RunAs | None) -> dict[str, Any]:
    """Popen's `user`, `group` and `extra_groups` (ours when None; root's groups dropped)."""
    if run_as is None:
        return {}
    return {"user": run_as[0], "group": run_as[1], "extra_groups": []}


def _terminate(process: "subprocess.Popen[bytes]", sig: signal.Signals, grace: float) -> None:
    """Send `sig`; if the process outlives `grace` seconds, kill its whole process group."""
    process.send_signal(sig)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        log.warning("pid %d ignored %s for %.0f s, killing it", process.pid, sig.name, grace)
        _kill_group(process.pid)
        process.wait()


def _kill_group(pgid: int) -> None:
    """SIGKILL every process of a server's group (e.g. PostgreSQL backends)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _stop_orphan(pid: int, sig: signal.Signals, grace: float = 10.0) -> None:
    """Stop a server that is not our child: signal it, then kill its group if it lingers."""
    os.kill(pid, sig)
    if not _wait_gone(pid, grace):
        _kill_group(pid)
        _wait_gone(pid, 5.0)


def _wait_gone(pid: int, timeout: float) -> bool:
    """Poll until `pid` is gone (we cannot wait() for a process that is not our child)."""
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _write_pid_record(data_dir: Path, name: str, pid: int) -> None:
    """Record server pid and owner pid, so a later run can recognise an orphan."""
    pid_record(data_dir, name).write_text(json.dumps({"pid": pid, "owner": os.getpid()}))


def _read_pid_record(path: Path) -> tuple[int, int] | None:
    """(pid, owner) from a pid record, or None if missing or unreadable."""
    try:
        data = json.loads(path.read_text())
        return int(data["pid"]), int(data["owner"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# Servers started and not yet stopped, oldest first: the atexit safety net stops them
# newest first, like a Stack does.
_live: dict[int, RunningServer] = {}
_live_lock = threading.Lock()


def _register(server: RunningServer) -> None:
    with _live_lock:
        _live[id(server)] = server


def _unregister(server: RunningServer) -> None:
    with _live_lock:
        _live.pop(id(server), None)


@atexit.register
def _stop_leftovers() -> None:
    """Safety net at interpreter exit: stop servers the program did not stop."""
    with _live_lock:
        leftovers = list(_live.values())
    for server in reversed(leftovers):
        server.stop()
