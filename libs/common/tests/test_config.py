"""Settings come from VIGIL_* variables and fail loudly, naming the variable."""

import pytest

from vigil_common.config import SettingsError, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.gateway_port == 8080
    assert settings.allow_private_networks is False


def test_values_are_converted_from_strings() -> None:
    settings = load_settings(
        {"VIGIL_GATEWAY_PORT": "9000", "VIGIL_ALLOW_PRIVATE_NETWORKS": "true", "OTHER": "x"}
    )
    assert settings.gateway_port == 9000
    assert settings.allow_private_networks is True


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("VIGIL_GATEWAY_PORT", "eighty", "Expected `int`"),
        ("VIGIL_GATEWAY_PORT", "70000", "<= 65535"),
        ("VIGIL_ALLOW_PRIVATE_NETWORKS", "maybe", "Expected `bool`"),
        ("VIGIL_MAX_DELIVER", "0", ">= 1"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({variable: value})
    assert str(caught.value).startswith(f"{variable} is invalid: ")
    assert expected in str(caught.value)


def test_secrets_are_masked_in_the_settings_repr() -> None:
    settings = load_settings(
        {"VIGIL_S3_SECRET_KEY": "fake-s3-secret", "VIGIL_DATABASE_URL": "postgresql://u:pw@h/db"}
    )
    shown = repr(settings)
    assert "fake-s3-secret" not in shown
    assert "pw@h" not in shown
    assert "s3_secret_key=***" in shown
