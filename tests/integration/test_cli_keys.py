import hashlib
import json
import re
import time
from pathlib import Path

import boto3
import pytest

from batchapi.cli import main
from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, Console, chat_line

CHAT = "/v1/chat/completions"


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


def test_keys_create_rejects_a_tenant_id_that_could_reach_another_tenants_records(
    system: LocalSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    table = ["keys", "--table", system.stack.ref("BatchTable")]
    assert main([*table, "list"]) == 0
    before = capsys.readouterr().out

    assert main([*table, "create", "--tenant", "x#FILES", "--key", "key-x"]) == 2

    assert capsys.readouterr().err == (
        "batchapi: tenant id 'x#FILES' is not valid: use 1 to 64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit\n"
    )
    assert main([*table, "list"]) == 0
    assert capsys.readouterr().out == before
    assert system.request("GET", CONSOLE, key="key-x").status == 401


def test_a_key_inserted_as_the_readme_shows_works_and_is_listed(
    system: LocalSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    item = re.search(r"put-item --table-name <TableName> --item '(\{.*?\})'", readme, re.DOTALL)
    assert item is not None
    key_hash = hashlib.sha256(b"readme-key").hexdigest()
    filled = item.group(1).replace("<hash>", key_hash).replace("<unix seconds>", str(int(time.time())))
    boto3.client("dynamodb").put_item(TableName=system.stack.ref("BatchTable"), Item=json.loads(filled))

    assert system.request("GET", CONSOLE, key="readme-key").status == 200
    assert main(["keys", "--table", system.stack.ref("BatchTable"), "list"]) == 0
    assert f"{key_hash[:12]}  my-team              active" in capsys.readouterr().out.splitlines()


def test_keys_quota_sets_a_tenants_quota_which_the_api_then_enforces_and_default_resets_it(
    system: LocalSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    table = ["keys", "--table", system.stack.ref("BatchTable")]
    console = Console(system)
    running = console.create({"endpoint": CHAT, "requests": [chat_line("a", "hold [slow:1]")]}).json()

    assert main([*table, "quota", "--tenant", "tenant-a", "--batches", "1", "--lines", "100"]) == 0
    shown = _quota_lines(capsys.readouterr().out)
    refused = console.create({"endpoint": CHAT, "requests": [chat_line("b", "x")]})
    assert main([*table, "quota", "--tenant", "tenant-a", "--batches", "default"]) == 0
    reset = _quota_lines(capsys.readouterr().out)

    assert shown["batches_in_progress"] == ["1", "in", "use", "of", "1", "(set)"]
    assert shown["enqueued_lines"] == ["1", "in", "use", "of", "100", "(set)"]
    assert shown["enqueued_tokens"][-1] == "(default)"
    assert refused.status == 429 and refused.json()["quota"]["name"] == "batches_in_progress"
    assert reset["batches_in_progress"][-2:] == ["500", "(default)"] and reset["enqueued_lines"][-2:] == [
        "100",
        "(set)",
    ]
    assert console.create({"endpoint": CHAT, "requests": [chat_line("b", "x")]}).status == 201
    assert console.wait(running["id"])["status"] == "completed"


def test_keys_quota_refuses_a_value_that_is_not_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["keys", "--table", "t", "quota", "--tenant", "a", "--lines", "many"])

    assert "'many' is not a whole number nor 'default'" in capsys.readouterr().err


def _quota_lines(printed: str) -> dict[str, list[str]]:
    """What `keys quota` printed, by quota (the in-process functions print their logs beside it)."""
    names = ("batches_in_progress", "enqueued_lines", "enqueued_tokens")
    return {words[0]: words[1:] for words in map(str.split, printed.splitlines()) if words and words[0] in names}
