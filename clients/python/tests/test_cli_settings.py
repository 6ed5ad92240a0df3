"""CLI settings: flags win over the environment, which wins over the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil_client.cli.settings import CliSettings, SettingsError, config_path, resolve


def test_flags_win_over_env_which_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('api_url = "http://file:1"\napi_key = "file-key"\ntimeout = 5\n')
    env = {"VIGIL_CONFIG": str(config), "VIGIL_API_KEY": "env-key"}
    assert resolve({}, env) == CliSettings("http://file:1", "env-key", 5.0)
    flags = {"api_url": "http://flag:2", "api_key": "flag-key"}
    assert resolve(flags, env) == CliSettings("http://flag:2", "flag-key", 5.0)


def test_without_any_setting_the_local_gateway_is_used(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert config_path(env) == tmp_path / "vigil" / "config.toml"
    assert resolve({}, env) == CliSettings("http://127.0.0.1:8080", None, 30.0)


def test_a_broken_config_file_is_an_error_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("api_url = \n")
    with pytest.raises(SettingsError, match=str(config)):
        resolve({"config": str(config)}, {})
