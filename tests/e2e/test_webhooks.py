"""A webhook end to end: registered over HTTP on the running stack, a batch made with the `openai` package,
and its ending delivered to a receiver on loopback, which verifies it with `client.webhooks.unwrap`."""

import io
import json
import time

from openai import OpenAI

from tests.e2e.conftest import KEY_A, RunningStack, chat_line
from tests.webhook_receiver import WebhookReceiver


def test_the_stack_calls_a_loopback_receiver_with_a_signed_batch_completed_event(stack: RunningStack) -> None:
    client = OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_A, max_retries=0)
    line = {"custom_id": "w1", "method": "POST", "url": "/v1/chat/completions", "body": chat_line("", "hook")["body"]}
    with WebhookReceiver() as receiver:
        registered = stack.call("POST", "/api/client/v1/webhooks", body={"url": receiver.url})
        assert registered.status == 201, registered.json()
        secret = registered.json()["secret"]

        uploaded = client.files.create(file=("in.jsonl", io.BytesIO(json.dumps(line).encode())), purpose="batch")
        batch = client.batches.create(
            input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        deadline = time.monotonic() + 60
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)

    assert receiver.received, "no webhook arrived within 60 s"
    request = receiver.received[0]
    event = client.webhooks.unwrap(request.body, request.headers, secret=secret)
    assert (event.type, event.data.id) == ("batch.completed", batch.id)
    assert client.batches.retrieve(batch.id).status == "completed"
    stack.call("DELETE", f"/api/client/v1/webhooks/{registered.json()['id']}")


def test_the_stack_says_at_startup_that_its_webhooks_may_call_loopback(stack: RunningStack) -> None:
    assert any("Webhooks" in line and "loopback" in line and "refuses" in line for line in stack.output)
