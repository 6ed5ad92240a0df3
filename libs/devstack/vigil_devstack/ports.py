"""Free loopback TCP ports for servers that cannot pick their own."""

import socket
import threading
from contextlib import ExitStack

LOOPBACK = "127.0.0.1"

# Ports already handed out by this process: the kernel may return a just-released port
# again, and the three servers start concurrently, so never give the same one out twice.
_issued: set[int] = set()
_lock = threading.Lock()


def free_ports(count: int) -> list[int]:
    """Return `count` distinct ports that are free on 127.0.0.1 right now."""
    with _lock, ExitStack() as held:
        ports: list[int] = []
        while len(ports) < count:
            sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
            if port not in _issued:
                ports.append(port)
        _issued.update(ports)
        return ports


def free_port() -> int:
    """Return one port that is free on 127.0.0.1 right now."""
    return free_ports(1)[0]


def free_port_pair(offset: int, attempts: int = 200) -> tuple[int, int]:
    """Return free ports (p, p + offset), for servers that derive one port from another."""
    with _lock:
        for _ in range(attempts):
            with ExitStack() as held:
                first = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                first.bind((LOOPBACK, 0))
                port = int(first.getsockname()[1])
                if _try_bind(held, port + offset) and not {port, port + offset} & _issued:
                    _issued.update((port, port + offset))
                    return port, port + offset
    raise RuntimeError(f"no free loopback port pair {offset} apart after {attempts} tries")


def _try_bind(held: ExitStack, port: int) -> bool:
    """Bind `port` on loopback inside `held`; False if it is taken or out of range."""
    if port > 65535:
        return False
    sock = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
    try:
        sock.bind((LOOPBACK, port))
    except OSError:
        return False
    return True
