import json

from tests.integration.conftest import Console, chat_line


def test_a_console_batch_is_visible_on_the_openai_surface_with_its_input_as_a_file(console: Console) -> None:
    lines = [chat_line("a", "first"), chat_line("b", "second [fault:400]")]
    batch_id = console.create({"endpoint": "/v1/chat/completions", "requests": lines}).json()["id"]
    console.wait(batch_id)

    seen = console.call("GET", f"/v1/batches/{batch_id}").json()
    input_lines = console.call("GET", f"/v1/files/{seen['input_file_id']}/content").body.splitlines()
    errors = console.call("GET", f"/v1/files/{seen['error_file_id']}/content").body.splitlines()

    assert seen["object"] == "batch" and seen["status"] == "completed"
    assert seen["request_counts"] == {"total": 2, "completed": 1, "failed": 1}
    assert [json.loads(line)["custom_id"] for line in input_lines] == ["a", "b"]
    assert [json.loads(line)["custom_id"] for line in errors] == ["b"]
    assert console.call("GET", f"/v1/files/{seen['output_file_id']}").json()["purpose"] == "batch_output"


def test_openai_errors_use_the_openai_envelope_and_console_errors_their_own(console: Console) -> None:
    openai_missing = console.call("GET", "/v1/batches/batch_none")
    console_missing = console.get("batch_none")

    assert openai_missing.json() == {
        "error": {
            "message": "Batch 'batch_none' not found",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    assert console_missing.json() == {"error": "Batch 'batch_none' not found"}


def test_the_openai_view_of_console_metadata_shows_values_that_are_not_strings_as_json(console: Console) -> None:
    metadata = {"team": "a", "priority": 2, "tags": ["x", "y"], "owner": {"id": 7}, "draft": False}
    batch_id = console.create(
        {"endpoint": "/v1/chat/completions", "requests": [chat_line("a", "x")], "metadata": metadata}
    ).json()["id"]

    seen = console.call("GET", f"/v1/batches/{batch_id}").json()
    listed = console.call("GET", "/v1/batches").json()["data"][0]

    expected = {"team": "a", "priority": "2", "tags": '["x","y"]', "owner": '{"id":7}', "draft": "false"}
    assert seen["metadata"] == expected and listed["metadata"] == expected
