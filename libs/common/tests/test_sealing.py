"""Sealed secrets round-trip, and refuse the wrong key, purpose or a tampered value."""

import pytest

from vigil_common.sealing import SealingError, generate_key, seal, unseal


def test_round_trip_and_the_plaintext_never_shows() -> None:
    key = generate_key()
    sealed = seal("ghp_fake_token_for_tests", key, "git-token")
    assert "ghp_fake" not in sealed
    assert seal("ghp_fake_token_for_tests", key, "git-token") != sealed  # fresh nonce
    assert unseal(sealed, key, "git-token") == "ghp_fake_token_for_tests"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s, k: unseal(s, generate_key(), "git-token"), "tampered with or sealed"),
        (lambda s, k: unseal(s, k, "webhook-secret"), "tampered with or sealed"),
        (lambda s, k: unseal(s[:-4] + "AAAA", k, "git-token"), "tampered with or sealed"),
        (lambda s, k: unseal("plain-text", k, "git-token"), "not a sealed value"),
        (lambda s, k: unseal(s, None, "git-token"), "VIGIL_SEALING_KEY is not set"),
        (lambda s, k: unseal(s, "c2hvcnQ", "git-token"), "exactly 32 bytes"),
    ],
)
def test_anything_but_the_right_key_and_purpose_is_refused(change, message) -> None:  # type: ignore[no-untyped-def]
    key = generate_key()
    sealed = seal("secret", key, "git-token")
    with pytest.raises(SealingError, match=message):
        change(sealed, key)
