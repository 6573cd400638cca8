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
        # The tenant's other batches, still ending from earlier tests on this stack, are heard too.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _events_of(client, receiver, secret, batch.id):
            time.sleep(0.2)

    events = _events_of(client, receiver, secret, batch.id)
    assert events, "no webhook for the batch arrived within 60 s"
    assert [event.type for event in events] == ["batch.completed"]
    assert client.batches.retrieve(batch.id).status == "completed"
    stack.call("DELETE", f"/api/client/v1/webhooks/{registered.json()['id']}")


def _events_of(client: OpenAI, receiver: WebhookReceiver, secret: str, batch_id: str) -> list:
    """Every request the receiver got, verified with the endpoint's secret; those about the batch."""
    events = [client.webhooks.unwrap(request.body, request.headers, secret=secret) for request in receiver.received]
    return [event for event in events if event.data.id == batch_id]


def test_the_stack_says_at_startup_that_its_webhooks_may_call_loopback(stack: RunningStack) -> None:
    assert any("Webhooks" in line and "loopback" in line and "refuses" in line for line in stack.output)
