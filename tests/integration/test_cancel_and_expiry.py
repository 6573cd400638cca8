import threading

from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import Console, chat_line
from tests.waiting import wait_for

CHAT = "/v1/chat/completions"


def _run_one_unit_slowly(
    system: LocalSystem, simulator: Simulator, console: Console, batch_id: str
) -> threading.Thread:
    """Starts one work unit (three lines) whose upstream calls take half a second, and returns once the upstream
    holds its lines."""
    console.wait(batch_id, {"in_progress"}, deliver=False)
    simulator.latency_seconds = 0.5
    # A long poll, as the event source mapping's: one receive must not come back empty on a message not yet visible.
    running_unit = threading.Thread(target=system.poller("ExecutorFunction").poll_once, kwargs={"wait_seconds": 5})
    running_unit.start()
    wait_for(lambda: console.items(batch_id, "status=running").json()["data"], timeout=10)
    wait_for(lambda: sum(simulator.calls.values()) == 3, timeout=10)
    return running_unit


def test_cancel_skips_pending_lines_but_lets_running_finish(
    console: Console, system: LocalSystem, simulator: Simulator
) -> None:
    lines = [chat_line(f"c{n}", f"cancel me {n}") for n in range(9)]
    batch_id = console.create({"endpoint": CHAT, "requests": lines}).json()["id"]
    running_unit = _run_one_unit_slowly(system, simulator, console, batch_id)

    cancelled = console.cancel(batch_id)

    assert cancelled.status == 200
    assert cancelled.json()["status"] == "cancelling"
    running_unit.join(timeout=10)
    batch = console.wait(batch_id)
    assert batch["status"] == "cancelled"
    assert batch["request_counts"] == {"total": 9, "completed": 3, "failed": 0, "cancelled": 6, "expired": 0}
    assert batch["cancelled_at"] is not None and batch["completed_at"] is None
    finished = console.result_lines(batch_id)
    assert len(finished) == 3 and all(line["response"]["status_code"] == 200 for line in finished)
    items = console.items(batch_id).json()["data"]
    assert sorted(item["status"] for item in items) == ["cancelled"] * 6 + ["succeeded"] * 3
    skipped = next(item for item in items if item["status"] == "cancelled")
    assert skipped["error_message"] == "The batch was cancelled before this request ran."
    assert sum(simulator.calls.values()) == 3


def test_cancel_of_a_cancelling_batch_returns_it_unchanged(
    console: Console, system: LocalSystem, simulator: Simulator
) -> None:
    lines = [chat_line(f"c{n}", f"twice {n}") for n in range(6)]
    batch_id = console.create({"endpoint": CHAT, "requests": lines}).json()["id"]
    running_unit = _run_one_unit_slowly(system, simulator, console, batch_id)
    first = console.cancel(batch_id).json()

    again = console.cancel(batch_id)

    assert again.status == 200
    assert again.json()["status"] == "cancelling"
    assert again.json()["cancelling_at"] == first["cancelling_at"]
    running_unit.join(timeout=10)
    assert console.wait(batch_id)["status"] == "cancelled"


def test_cancel_of_a_finished_batch_is_a_400_naming_its_status(console: Console) -> None:
    batch_id = console.create({"endpoint": CHAT, "requests": [chat_line("a", "x")]}).json()["id"]
    console.wait(batch_id)

    answer = console.cancel(batch_id)

    assert answer.status == 400
    assert answer.json() == {
        "error": f"batch {batch_id} is completed; only validating or in_progress batches can be cancelled"
    }


def test_expiry_marks_unfinished_lines_expired_and_keeps_finished_results(
    console: Console, system: LocalSystem, simulator: Simulator
) -> None:
    lines = [chat_line(f"x{n}", f"expiring {n}") for n in range(6)]
    batch_id = console.create({"endpoint": CHAT, "requests": lines, "completion_window": "3s"}).json()["id"]
    console.wait(batch_id, {"in_progress"}, deliver=False)
    system.poller("ExecutorFunction").poll_once()

    batch = console.wait(batch_id, deliver=False, timeout=20)

    assert batch["status"] == "expired"
    assert batch["expired_at"] >= batch["expires_at"]
    assert batch["request_counts"] == {"total": 6, "completed": 3, "failed": 0, "cancelled": 0, "expired": 3}
    assert len(console.result_lines(batch_id)) == 3
    expired = console.items(batch_id, "status=expired").json()["data"]
    assert [item["custom_id"] for item in expired] == [
        f"x{n}" for n in range(6) if f"x{n}" not in _succeeded(console, batch_id)
    ]
    assert expired[0]["error_message"] == "This request could not be executed before the completion window expired."
    assert sum(simulator.calls.values()) == 3


def _succeeded(console: Console, batch_id: str) -> set[str]:
    return {item["custom_id"] for item in console.items(batch_id, "status=succeeded").json()["data"]}


def test_cancel_of_a_cancelled_batch_answers_the_batch_again_on_both_surfaces(console: Console) -> None:
    batch_id = console.create({"endpoint": CHAT, "requests": [chat_line(f"c{n}", "x") for n in range(6)]}).json()["id"]
    console.wait(batch_id, {"in_progress"}, deliver=False)
    console.cancel(batch_id)
    cancelled = console.wait(batch_id)

    again = console.cancel(batch_id)
    openai_again = console.call("POST", f"/v1/batches/{batch_id}/cancel")

    assert cancelled["status"] == "cancelled"
    assert again.status == 200 and again.json() == cancelled
    assert openai_again.status == 200
    assert openai_again.json()["status"] == "cancelled"
    assert openai_again.json()["cancelled_at"] == cancelled["cancelled_at"]


def test_openai_cancel_of_a_finished_batch_is_a_400_naming_its_status(console: Console) -> None:
    batch_id = console.create({"endpoint": CHAT, "requests": [chat_line("a", "x")]}).json()["id"]
    console.wait(batch_id)

    answer = console.call("POST", f"/v1/batches/{batch_id}/cancel")

    assert answer.status == 400
    assert answer.json()["error"]["message"] == (
        f"batch {batch_id} is completed; only validating or in_progress batches can be cancelled"
    )
