import pytest

from embedded.__main__ import api_keys_from_environment


def test_the_local_stack_refuses_to_start_with_a_bad_tenant_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_API_KEYS", "tenant-a=key1,x#FILES=key2")

    with pytest.raises(SystemExit) as refused:
        api_keys_from_environment()

    assert str(refused.value.code) == (
        "BATCH_API_KEYS / BATCH_API_KEY: tenant id 'x#FILES' is not valid: use 1 to 64 letters, digits, "
        "'.', '_' or '-', starting with a letter or digit"
    )


def test_the_local_stack_accepts_valid_tenants_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCH_API_KEYS", "tenant-a=key1, team.b_2=key2")

    assert api_keys_from_environment() == {"key1": "tenant-a", "key2": "team.b_2"}
