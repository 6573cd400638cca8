"""Webhooks on the local system: endpoints registered over HTTP, a batch's ending delivered to a receiver on
loopback through the bus's rule and the webhook queue, signed, retried, and recorded for its endpoint."""

import json
from collections.abc import Iterator

import pytest
from openai import OpenAI
from standardwebhooks import Webhook

from embedded.simulator import Simulator
from embedded.system import LocalSystem
from tests.integration.conftest import KEY_B, Console, chat_line, started_system
from tests.webhook_receiver import WebhookReceiver

WEBHOOKS = "/api/client/v1/webhooks"
CHAT = "/v1/chat/completions"


@pytest.fixture
def quick_retries(simulator: Simulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSystem]:
    with started_system(simulator, monkeypatch, WEBHOOK_RETRY_SECONDS="1,1") as local:
        yield local


def _deliveries(console: Console, endpoint_id: str) -> list[dict]:
    answer = console.call("GET", f"{WEBHOOKS}/{endpoint_id}/deliveries")
    assert answer.status == 200, answer.body
    return answer.json()["data"]


def test_a_completed_batch_is_delivered_signed_after_the_receiver_fails_twice(quick_retries: LocalSystem) -> None:
    console = Console(quick_retries)
    with WebhookReceiver(statuses=[500, 502]) as receiver:
        registered = console.call("POST", WEBHOOKS, {"url": receiver.url, "events": ["batch.completed"]})
        assert registered.status == 201, registered.body
        endpoint = registered.json()
        batch = console.wait(console.create({"endpoint": CHAT, "requests": [chat_line("a", "hello")]}).json()["id"])

        quick_retries.run_until(
            lambda: [d for d in _deliveries(console, endpoint["id"]) if d["status"] == "delivered"], timeout=30
        )

    assert batch["status"] == "completed"
    assert len(receiver.received) == 3
    assert len({request.headers["webhook-id"] for request in receiver.received}) == 1
    final = receiver.received[-1]
    event = OpenAI(api_key="unused").webhooks.unwrap(final.body, final.headers, secret=endpoint["secret"])
    assert (event.type, event.data.id) == ("batch.completed", batch["id"])
    assert Webhook(endpoint["secret"]).verify(final.body, final.headers)["type"] == "batch.completed"
    assert final.path == "/hooks/batches"
    [delivery] = _deliveries(console, endpoint["id"])
    assert (delivery["status"], delivery["attempts"], delivery["response_status"]) == ("delivered", 3, 200)
    assert (delivery["event_id"], delivery["batch_id"]) == (event.id, batch["id"])


def test_an_endpoint_hears_only_the_events_it_registered_for(system: LocalSystem) -> None:
    console = Console(system)
    with WebhookReceiver() as receiver:
        failed_only = console.call("POST", WEBHOOKS, {"url": receiver.url, "events": ["batch.failed"]}).json()
        everything = console.call("POST", WEBHOOKS, {"url": receiver.url}).json()
        created = console.create({"endpoint": CHAT, "requests": [chat_line("a", "hi")]}).json()
        console.wait(created["id"])

        system.run_until(lambda: receiver.received, timeout=30)

    assert [json.loads(request.body)["type"] for request in receiver.received] == ["batch.completed"]
    assert _deliveries(console, failed_only["id"]) == []
    assert everything["events"] == ["batch.completed", "batch.failed", "batch.cancelled", "batch.expired"]


def test_endpoints_are_listed_without_their_secret_and_kept_from_other_tenants(system: LocalSystem) -> None:
    console, other = Console(system), Console(system, KEY_B)
    created = console.call("POST", WEBHOOKS, {"url": "http://127.0.0.1:9/hook", "description": "ci"}).json()

    listed = console.call("GET", WEBHOOKS).json()["data"]

    assert [endpoint["id"] for endpoint in listed] == [created["id"]]
    assert "secret" not in listed[0] and created["secret"].startswith("whsec_")
    assert other.call("GET", WEBHOOKS).json()["data"] == []
    assert other.call("GET", f"{WEBHOOKS}/{created['id']}").status == 404
    assert other.call("DELETE", f"{WEBHOOKS}/{created['id']}").status == 404
    assert console.call("DELETE", f"{WEBHOOKS}/{created['id']}").json() == {
        "id": created["id"],
        "object": "webhook_endpoint",
        "deleted": True,
    }
    assert console.call("GET", f"{WEBHOOKS}/{created['id']}").status == 404


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("https://10.20.30.40/hook", "a private address (10.20.30.40)"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("ftp://example.com/hook", "https://"),
    ],
)
def test_registering_an_endpoint_that_is_not_a_public_https_address_is_refused(
    system: LocalSystem, url: str, named: str
) -> None:
    console = Console(system)

    answer = console.call("POST", WEBHOOKS, {"url": url})

    assert answer.status == 400
    assert named in answer.json()["error"] and "webhook url refused" in answer.json()["error"]
    assert console.call("GET", WEBHOOKS).json()["data"] == []


def test_a_registration_naming_an_unknown_event_is_refused_naming_the_field(system: LocalSystem) -> None:
    answer = Console(system).call("POST", WEBHOOKS, {"url": "http://127.0.0.1:9/hook", "events": ["batch.done"]})

    assert answer.status == 400
    assert "events.0" in answer.json()["error"]
