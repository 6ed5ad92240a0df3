"""Where the CLI finds the API: flags, then ``VIGIL_API_URL``/``VIGIL_API_KEY``, then the
config file (``$VIGIL_CONFIG``, else ``$XDG_CONFIG_HOME/vigil/config.toml``, else
``~/.config/vigil/config.toml``), then defaults."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

DEFAULT_URL: Final = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT: Final = 30.0


class SettingsError(Exception):
    """The configuration cannot be used (bad file, missing key)."""


@dataclass(frozen=True)
class CliSettings:
    """The resolved API address, key and per-request timeout."""

    api_url: str
    api_key: str | None
    timeout: float


def config_path(env: Mapping[str, str]) -> Path:
    """The config file this environment points at (it need not exist)."""
    if env.get("VIGIL_CONFIG"):
        return Path(env["VIGIL_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vigil" / "config.toml"


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from None


def resolve(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> CliSettings:
    """Flags win over the environment, which wins over the file."""
    env = os.environ if env is None else env
    path = Path(flags["config"]) if flags.get("config") else config_path(env)
    file = _read_file(path)
    url = flags.get("api_url") or env.get("VIGIL_API_URL") or file.get("api_url") or DEFAULT_URL
    key = flags.get("api_key") or env.get("VIGIL_API_KEY") or file.get("api_key")
    timeout = flags.get("timeout") or env.get("VIGIL_TIMEOUT") or file.get("timeout")
    try:
        seconds = float(timeout) if timeout is not None else DEFAULT_TIMEOUT
    except ValueError:
        raise SettingsError(f"timeout must be a number of seconds, not {timeout!r}") from None
    return CliSettings(str(url), str(key) if key else None, seconds)
