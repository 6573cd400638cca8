import json

import pytest

from embedded.simulator import Simulator
from tests.integration.conftest import Console, chat_line

CHAT = "/v1/chat/completions"


def test_an_unreachable_upstream_is_named_by_its_fault_class_and_its_address_stays_in_the_log(
    console: Console, simulator: Simulator, capfd: pytest.CaptureFixture[str]
) -> None:
    address = simulator.base_url.removeprefix("http://").removesuffix("/v1")
    host, port = address.split(":")
    simulator.stop()

    batch = console.wait(console.create({"endpoint": CHAT, "requests": [chat_line("c", "hello")]}).json()["id"])

    expected = "upstream unreachable after 3 attempts (NewConnectionError)"
    item = console.items(batch["id"]).json()["data"][0]
    assert (item["status"], item["error_message"]) == ("failed", expected)
    [line] = console.result_lines(batch["id"])
    assert line["error"] == {"code": "upstream_unreachable", "message": expected}
    seen_by_the_tenant = json.dumps([batch, item, line])
    assert port not in seen_by_the_tenant and host not in seen_by_the_tenant
    logged = [json.loads(entry) for entry in capfd.readouterr().out.splitlines() if "upstream unreachable" in entry]
    assert len(logged) == 3 and all(entry["batch_id"] == batch["id"] for entry in logged)
    assert all(f"host='{host}', port={port}" in entry["error"] for entry in logged)
