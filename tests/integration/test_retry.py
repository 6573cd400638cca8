"""Retrying an ended batch: a new batch of the lines that did not succeed, the same custom ids and bodies,
read from the first batch's own input, its metadata naming the batch it retries."""

from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, Console, chat_line

CHAT = "/v1/chat/completions"


def test_retry_runs_the_failed_lines_again_with_their_custom_ids_and_bodies(system: LocalSystem) -> None:
    console = Console(system)
    lines = [chat_line("a", "fine"), chat_line("b", "bad [fault:400]"), chat_line("c", "ok")]
    lines.append(chat_line("d", "down [fault:500x9]"))
    first = console.wait(console.create({"endpoint": CHAT, "requests": lines, "metadata": {"team": "x"}}).json()["id"])

    answer = console.call("POST", f"{CONSOLE}/{first['id']}/retry")
    retried = console.wait(answer.json()["id"])

    assert (first["request_counts"]["completed"], first["request_counts"]["failed"]) == (2, 2)
    assert answer.status == 201 and answer.json()["id"] != first["id"]
    assert retried["metadata"] == {"team": "x", "retry_of": first["id"]}
    assert retried["request_counts"]["total"] == 2
    items = console.items(retried["id"]).json()["data"]
    assert [item["custom_id"] for item in items] == ["b", "d"]
    assert console.call("GET", f"/v1/batches/{retried['id']}").json()["metadata"]["retry_of"] == first["id"]
    assert [line["custom_id"] for line in console.result_lines(retried["id"])] == ["b", "d"]


def test_retry_runs_the_lines_a_cancel_left_unrun(system: LocalSystem) -> None:
    console = Console(system)
    lines = [chat_line(f"s{n}", f"slow {n} [slow:0.5]") for n in range(9)]
    created = console.create({"endpoint": CHAT, "requests": lines}).json()
    console.cancel(created["id"])
    first = console.wait(created["id"])

    retried = console.wait(console.call("POST", f"{CONSOLE}/{first['id']}/retry").json()["id"])

    assert first["status"] == "cancelled"
    unfinished = first["request_counts"]["total"] - first["request_counts"]["completed"]
    assert retried["status"] == "completed" and retried["request_counts"]["completed"] == unfinished > 0


def test_a_batch_still_running_or_with_nothing_to_retry_is_refused_with_the_reason(system: LocalSystem) -> None:
    console = Console(system)
    running = console.create({"endpoint": CHAT, "requests": [chat_line("r", "[slow:2]")]}).json()
    refused_running = console.call("POST", f"{CONSOLE}/{running['id']}/retry")
    done = console.wait(console.create({"endpoint": CHAT, "requests": [chat_line("k", "fine")]}).json()["id"])

    refused_done = console.call("POST", f"{CONSOLE}/{done['id']}/retry")
    unknown = console.call("POST", f"{CONSOLE}/batch_nope/retry")

    assert refused_running.status == 400 and "retry it once it has ended" in refused_running.json()["error"]
    assert refused_done.status == 400
    assert refused_done.json()["error"] == f"batch {done['id']} has no failed, expired or cancelled lines to retry"
    assert unknown.status == 404
    console.wait(running["id"])
