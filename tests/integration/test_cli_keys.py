import pytest

from batchapi.cli import main
from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE


def test_keys_create_list_and_revoke_control_who_gets_in(
    system: LocalSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    table = ["keys", "--table", system.stack.ref("BatchTable")]

    assert main([*table, "create", "--tenant", "team-x"]) == 0
    api_key, note = capsys.readouterr().out.splitlines()
    key_id = note.split()[1]
    assert system.request("GET", CONSOLE, key=api_key).status == 200

    assert main([*table, "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{key_id}  team-x" in listed and "active" in listed

    assert main([*table, "revoke", key_id]) == 0
    assert system.request("GET", CONSOLE, key=api_key).status == 401
    assert main([*table, "list"]) == 0
    assert f"{key_id}  team-x               revoked" in capsys.readouterr().out


def test_keys_without_a_table_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BATCH_TABLE_NAME", raising=False)

    assert main(["keys", "list"]) == 2
    assert "no table: pass --table or set BATCH_TABLE_NAME" in capsys.readouterr().err
