from embedded.simulator import Simulator
from tests.integration.conftest import CONSOLE, Console, chat_line


def test_chat_batch_completes_with_exact_counts_usage_and_input_order_results(console: Console) -> None:
    lines = [chat_line(f"q{n}", f"question number {n}") for n in range(7)]

    created = console.create({"endpoint": "/v1/chat/completions", "requests": lines, "metadata": {"team": "a"}})

    assert created.status == 201, created.body
    assert created.json()["status"] == "validating"
    batch = console.wait(created.json()["id"])
    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 7, "completed": 7, "failed": 0, "cancelled": 0, "expired": 0}
    results = console.result_lines(batch["id"])
    assert [line["custom_id"] for line in results] == [f"q{n}" for n in range(7)]
    assert results[3]["response"]["status_code"] == 200
    assert results[3]["response"]["body"]["choices"][0]["message"]["content"] == "Simulated reply to: question number 3"
    assert results[3]["error"] is None
    assert results[3]["id"].startswith("batch_req_")
    prompt = sum(line["response"]["body"]["usage"]["prompt_tokens"] for line in results)
    completion = sum(line["response"]["body"]["usage"]["completion_tokens"] for line in results)
    assert batch["usage"] == {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }
    assert batch["metadata"] == {"team": "a"}
    assert batch["created_at"] <= batch["started_at"] <= batch["completed_at"]
    assert batch["cancelled_at"] is None and batch["error_message"] is None


def test_console_batch_carries_every_contract_field(console: Console) -> None:
    created = console.create({"endpoint": "/v1/chat/completions", "requests": [chat_line("only", "hi")]})

    batch = console.wait(created.json()["id"])

    contract = {
        "id",
        "object",
        "endpoint",
        "status",
        "completion_window",
        "input_file",
        "output_file",
        "error_message",
        "request_counts",
        "usage",
        "metadata",
        "created_at",
        "started_at",
        "completed_at",
        "cancelled_at",
    }
    assert contract <= set(batch)
    assert not {"tenant_id", "task_token", "input_key"} & set(batch)
    assert batch["object"] == "batch" and batch["completion_window"] == "24h"
    assert batch["expires_at"] == batch["created_at"] + 24 * 3600


def test_embeddings_batch_completes_with_vectors_and_usage(console: Console) -> None:
    lines = [
        {"custom_id": f"e{n}", "body": {"model": "text-embedding-3-small", "input": f"text {n}"}} for n in range(4)
    ]

    created = console.create({"endpoint": "/v1/embeddings", "requests": lines})

    batch = console.wait(created.json()["id"])
    assert batch["status"] == "completed"
    assert batch["request_counts"]["completed"] == 4
    results = console.result_lines(batch["id"])
    assert [line["custom_id"] for line in results] == ["e0", "e1", "e2", "e3"]
    assert len(results[0]["response"]["body"]["data"][0]["embedding"]) == 8
    assert batch["usage"] == {
        "input_tokens": 8,
        "output_tokens": 0,
        "total_tokens": 8,
        "cached_tokens": 0,
        "reasoning_tokens": 0,
    }


def test_entry_without_body_key_is_itself_the_body(console: Console) -> None:
    bare = {"custom_id": "bare", "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "plain"}]}

    created = console.create({"endpoint": "/v1/chat/completions", "requests": [bare]})

    batch = console.wait(created.json()["id"])
    [line] = console.result_lines(batch["id"])
    assert line["custom_id"] == "bare"
    assert line["response"]["body"]["choices"][0]["message"]["content"] == "Simulated reply to: plain"


def test_upstream_400_fails_its_line_at_once_and_the_others_succeed(console: Console, simulator: Simulator) -> None:
    lines = [chat_line("ok-1", "fine"), chat_line("bad", "broken [fault:400]"), chat_line("ok-2", "also fine")]

    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])

    assert batch["status"] == "completed"
    assert batch["request_counts"] == {"total": 3, "completed": 2, "failed": 1, "cancelled": 0, "expired": 0}
    results = console.result_lines(batch["id"])
    assert [line["custom_id"] for line in results] == ["ok-1", "bad", "ok-2"]
    assert results[1]["response"]["status_code"] == 400
    assert results[1]["error"]["code"] == "simulated_fault"
    assert simulator.calls["broken [fault:400]"] == 1
    assert [line["custom_id"] for line in console.result_lines(batch["id"], "status=failed")] == ["bad"]
    assert [line["custom_id"] for line in console.result_lines(batch["id"], "status=succeeded")] == ["ok-1", "ok-2"]


def test_429_with_retry_after_is_retried_until_it_succeeds(console: Console, simulator: Simulator) -> None:
    lines = [chat_line("busy", "rate limited [fault:429x2]"), chat_line("calm", "no fault")]

    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])

    assert batch["request_counts"]["completed"] == 2
    assert simulator.calls["rate limited [fault:429x2]"] == 3
    assert simulator.calls["no fault"] == 1
    [busy, _] = console.result_lines(batch["id"])
    assert busy["response"]["status_code"] == 200


def test_server_errors_and_timeouts_are_retried(console: Console, simulator: Simulator) -> None:
    lines = [chat_line("5xx", "server error [fault:500x1]"), chat_line("slow", "too slow [fault:timeoutx1]")]

    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])

    assert batch["request_counts"]["completed"] == 2
    assert simulator.calls["server error [fault:500x1]"] == 2
    assert simulator.calls["too slow [fault:timeoutx1]"] == 2


def test_retries_are_bounded_and_the_final_error_is_recorded(console: Console, simulator: Simulator) -> None:
    lines = [chat_line("down", "always failing [fault:503]")]

    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])

    assert batch["request_counts"]["failed"] == 1
    assert simulator.calls["always failing [fault:503]"] == 3
    [item] = console.items(batch["id"]).json()["data"]
    assert item["status"] == "failed"
    assert item["response_status_code"] == 503
    assert "gave up after 3 attempts" in item["error_message"]


def test_ok_answer_whose_body_is_not_json_fails_the_line_with_a_clear_message(console: Console) -> None:
    lines = [chat_line("html", "garbage [fault:notjson]")]

    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])

    [item] = console.items(batch["id"]).json()["data"]
    assert item["status"] == "failed"
    assert item["error_message"] == "the upstream answered 200 with a body that is not a JSON object"


def test_items_page_in_index_order_and_filter_by_status(console: Console) -> None:
    lines = [chat_line(f"i{n}", f"line {n}" + (" [fault:400]" if n % 4 == 0 else "")) for n in range(10)]
    batch = console.wait(console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"])

    page = console.items(batch["id"], "limit=4&skip=3").json()
    failed = console.items(batch["id"], "status=failed").json()["data"]
    second_failed = console.items(batch["id"], "status=failed&limit=1&skip=1").json()["data"]

    assert page["object"] == "list"
    assert [item["index"] for item in page["data"]] == [3, 4, 5, 6]
    assert [item["custom_id"] for item in page["data"]] == ["i3", "i4", "i5", "i6"]
    first = page["data"][0]
    assert first["object"] == "batch.item" and first["status"] == "succeeded"
    assert first["response_status_code"] == 200 and first["usage"]["total_tokens"] > 0
    assert first["started_at"] is not None and first["ended_at"] is not None
    assert [item["index"] for item in failed] == [0, 4, 8]
    assert [item["index"] for item in second_failed] == [4]


def test_list_is_newest_first_filters_by_status_and_clamps_limit(console: Console) -> None:
    ids = [
        console.create({"endpoint": "/v1/chat/completions", "requests": [chat_line("x", f"n{n}")]}).json()["id"]
        for n in range(3)
    ]
    console.wait(ids[0])

    listed = console.call("GET", CONSOLE).json()["data"]
    one = console.call("GET", CONSOLE, query="limit=1").json()["data"]
    clamped = console.call("GET", CONSOLE, query="limit=0").json()["data"]
    completed = console.call("GET", CONSOLE, query="status=completed").json()["data"]

    assert [batch["id"] for batch in listed] == list(reversed(ids))
    assert [batch["id"] for batch in one] == [ids[2]]
    assert len(clamped) == 1
    assert ids[0] in {batch["id"] for batch in completed}
    assert all(batch["status"] == "completed" for batch in completed)


def test_unknown_batch_is_404_with_a_clear_error(console: Console) -> None:
    answer = console.get("batch_missing")

    assert answer.status == 404
    assert answer.json() == {"error": "Batch 'batch_missing' not found"}


def test_the_console_list_pages_past_its_limit_with_a_cursor(console: Console) -> None:
    ids = [
        console.create({"endpoint": "/v1/chat/completions", "requests": [chat_line("x", f"n{n}")]}).json()["id"]
        for n in range(5)
    ]

    first = console.call("GET", CONSOLE, query="limit=2").json()
    second = console.call("GET", CONSOLE, query=f"limit=2&cursor={first['nextCursor']}").json()
    third = console.call("GET", CONSOLE, query=f"limit=2&cursor={second['nextCursor']}").json()

    pages = [[batch["id"] for batch in page["data"]] for page in (first, second, third)]
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]
    assert (first["object"], first["nextCursor"], third["nextCursor"]) == ("list", ids[3], None)


def test_console_metadata_takes_any_json_value_and_is_an_empty_object_when_unset(console: Console) -> None:
    metadata = {"team": "a", "priority": 2, "ratio": 0.25, "tags": ["x", "y"], "owner": {"id": 7}, "draft": False}
    with_metadata = console.create(
        {"endpoint": "/v1/chat/completions", "requests": [chat_line("a", "x")], "metadata": metadata}
    )
    without = console.create({"endpoint": "/v1/chat/completions", "requests": [chat_line("a", "x")]})

    assert with_metadata.status == 201 and with_metadata.json()["metadata"] == metadata
    assert console.get(with_metadata.json()["id"]).json()["metadata"] == metadata
    assert without.json()["metadata"] == {} and console.get(without.json()["id"]).json()["metadata"] == {}
