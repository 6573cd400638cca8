import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from openai import OpenAI
from standardwebhooks import Webhook

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput
from batch_core.models.status import BatchStatus
from batch_core.models.webhook import (
    BatchStatusChange,
    CreateWebhookRequest,
    DeliveryStatus,
    WebhookEventType,
)
from batch_core.settings import Settings
from batch_core.webhooks.addresses import RefusedAddress, Target, checked_target
from batch_core.webhooks.delivery import attempt_delivery, fan_out
from batch_core.webhooks.endpoints import delete_webhook, register_webhook
from batch_core.webhooks.sender import Answer
from tests.unit.fakes import fake_stores

PUBLIC_URL = "https://8.8.8.8/hooks/batches"  # an address literal: nothing to resolve, so no network here


@dataclass
class Receiver:
    """Answers each request with the next of `statuses` (200 once they run out), keeping what it received."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[Target, str, dict[str, str]]] = field(default_factory=list)

    def __call__(self, target: Target, body: str, headers: dict[str, str], timeout: float) -> Answer:
        self.received.append((target, body, headers))
        return Answer(status=self.statuses.pop(0) if self.statuses else 200)


def _change(status: BatchStatus, tenant_id: str = "tenant-a", event_id: str = "eb-1") -> BatchStatusChange:
    """A status change as the bus's rule hands it to the webhook queue."""
    return BatchStatusChange.model_validate(
        {
            "version": "0",
            "id": event_id,
            "source": "batch-api",
            "account": "123456789012",
            "time": datetime.now(tz=UTC).isoformat(),
            "region": "us-east-1",
            "resources": [],
            "detail-type": "Batch Status Change",
            "detail": {"id": "batch_1", "tenant_id": tenant_id, "status": status},
        }
    )


def _register(stores: Stores, *events: WebhookEventType, tenant_id: str = "tenant-a") -> Any:
    request = CreateWebhookRequest(url=PUBLIC_URL, events=list(events) or list(WebhookEventType))
    return register_webhook(stores, Settings(), tenant_id, request)


def _run_queue(stores: Stores, settings: Settings, receiver: Receiver) -> list[DeliveryStatus | None]:
    """Attempts every queued delivery, as the queue would hand them over (delays ignored)."""
    outcomes = []
    while stores.webhook_queue.sent:
        queued = stores.webhook_queue.sent.pop(0)
        outcomes.append(attempt_delivery(stores, settings, queued.attempt, send=receiver))
    return outcomes


def test_a_batch_ending_queues_a_delivery_for_each_of_its_tenants_endpoints_that_listen_for_it() -> None:
    stores = fake_stores()
    listening = _register(stores, WebhookEventType.BATCH_COMPLETED)
    _register(stores, WebhookEventType.BATCH_FAILED)
    _register(stores, tenant_id="tenant-b")

    queued = fan_out(stores, _change(BatchStatus.COMPLETED))

    assert queued == 1
    assert [sent.attempt.endpoint_id for sent in stores.webhook_queue.sent] == [listening.id]
    assert fan_out(stores, _change(BatchStatus.IN_PROGRESS, event_id="eb-2")) == 0


def test_a_status_change_heard_twice_is_delivered_once_with_one_event_id() -> None:
    stores, receiver = fake_stores(), Receiver()
    _register(stores)

    fan_out(stores, _change(BatchStatus.COMPLETED))
    _run_queue(stores, Settings(), receiver)
    fan_out(stores, _change(BatchStatus.COMPLETED))
    _run_queue(stores, Settings(), receiver)

    assert len(receiver.received) == 1


def test_a_delivery_is_signed_so_the_openai_package_and_standard_webhooks_verify_it() -> None:
    stores, receiver = fake_stores(), Receiver()
    endpoint = _register(stores)

    fan_out(stores, _change(BatchStatus.COMPLETED))
    assert _run_queue(stores, Settings(), receiver) == [DeliveryStatus.DELIVERED]

    target, body, headers = receiver.received[0]
    event = OpenAI(api_key="unused").webhooks.unwrap(body, headers, secret=endpoint.secret)
    assert (event.type, event.data.id, event.object) == ("batch.completed", "batch_1", "event")
    assert event.id == headers["webhook-id"]
    assert Webhook(endpoint.secret).verify(body, headers)["data"] == {"id": "batch_1"}
    assert (target.address, target.host, target.path) == ("8.8.8.8", "8.8.8.8", "/hooks/batches")


def test_a_signature_made_with_another_secret_does_not_verify() -> None:
    stores, receiver = fake_stores(), Receiver()
    _register(stores)
    other = _register(stores, tenant_id="tenant-b")
    fan_out(stores, _change(BatchStatus.FAILED))
    _run_queue(stores, Settings(), receiver)
    _, body, headers = receiver.received[0]

    with pytest.raises(Exception, match="signature"):
        OpenAI(api_key="unused").webhooks.unwrap(body, headers, secret=other.secret)


def test_a_failed_attempt_is_retried_on_the_schedule_and_recorded_with_the_receivers_answer() -> None:
    stores, receiver = fake_stores(), Receiver(statuses=[500, 503])
    endpoint = _register(stores)
    settings = Settings(webhook_retry_seconds=[5, 300, 1800])
    fan_out(stores, _change(BatchStatus.EXPIRED))

    first = attempt_delivery(stores, settings, stores.webhook_queue.sent.pop(0).attempt, send=receiver)
    retry = stores.webhook_queue.sent[0]
    recorded = stores.webhooks.list_deliveries(endpoint.id, limit=5, before=None)[0][0]

    assert first == DeliveryStatus.PENDING
    assert (retry.attempt.attempt, retry.delay_seconds) == (2, 5)
    assert (recorded.attempts, recorded.response_status, recorded.status) == (1, 500, DeliveryStatus.PENDING)
    assert recorded.next_attempt_at == pytest.approx(time.time() + 5, abs=2)

    assert _run_queue(stores, settings, receiver) == [DeliveryStatus.PENDING, DeliveryStatus.DELIVERED]
    delivered = stores.webhooks.get_delivery(endpoint.id, recorded.event.id)
    assert (delivered.attempts, delivered.response_status, delivered.status) == (3, 200, DeliveryStatus.DELIVERED)
    assert len({headers["webhook-id"] for _, _, headers in receiver.received}) == 1


def test_a_delivery_fails_for_good_once_its_retries_are_spent() -> None:
    stores, receiver = fake_stores(), Receiver(statuses=[500, 500, 500])
    endpoint = _register(stores)
    fan_out(stores, _change(BatchStatus.CANCELLED))

    outcomes = _run_queue(stores, Settings(webhook_retry_seconds=[1]), receiver)

    assert outcomes == [DeliveryStatus.PENDING, DeliveryStatus.FAILED]
    assert len(receiver.received) == 2
    recorded = stores.webhooks.list_deliveries(endpoint.id, limit=5, before=None)[0][0]
    assert (recorded.status, recorded.attempts, recorded.next_attempt_at) == (DeliveryStatus.FAILED, 2, None)


def test_the_default_schedule_retries_for_about_a_day() -> None:
    schedule = Settings().webhook_retry_seconds

    assert 20 * 3600 <= sum(schedule) <= 24 * 3600
    assert schedule == sorted(schedule[:-1]) + schedule[-1:]


def test_an_attempt_message_that_comes_twice_sends_once() -> None:
    stores, receiver = fake_stores(), Receiver()
    _register(stores)
    fan_out(stores, _change(BatchStatus.COMPLETED))
    attempt = stores.webhook_queue.sent.pop(0).attempt

    assert attempt_delivery(stores, Settings(), attempt, send=receiver) == DeliveryStatus.DELIVERED
    assert attempt_delivery(stores, Settings(), attempt, send=receiver) is None
    assert len(receiver.received) == 1


def test_an_attempt_due_later_than_sqs_can_delay_waits_again_without_sending() -> None:
    stores, receiver = fake_stores(), Receiver()
    _register(stores)
    fan_out(stores, _change(BatchStatus.COMPLETED))
    attempt = stores.webhook_queue.sent.pop(0).attempt
    due = int(time.time()) + 7200

    assert attempt_delivery(stores, Settings(), attempt.model_copy(update={"not_before": due}), send=receiver) is None

    hop = stores.webhook_queue.sent[0]
    assert (hop.delay_seconds, hop.attempt.not_before) == (900, pytest.approx(due, abs=2))
    assert receiver.received == []


def test_a_deleted_endpoints_pending_delivery_ends_failed_without_a_request() -> None:
    stores, receiver = fake_stores(), Receiver()
    endpoint = _register(stores)
    fan_out(stores, _change(BatchStatus.COMPLETED))
    delete_webhook(stores, "tenant-a", endpoint.id)

    assert _run_queue(stores, Settings(), receiver) == [DeliveryStatus.FAILED]
    assert receiver.received == []
    recorded = stores.webhooks.list_deliveries(endpoint.id, limit=5, before=None)[0][0]
    assert recorded.error == "the endpoint was deleted"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://10.0.0.5/hook", "private address (10.0.0.5)"),
        ("https://192.168.1.20/hook", "private address"),
        ("https://169.254.169.254/latest/meta-data", "link-local address"),
        ("https://127.0.0.1:8443/hook", "loopback address"),
        ("https://[::1]/hook", "loopback address"),
        ("https://[::ffff:10.1.2.3]/hook", "private address (10.1.2.3)"),
        ("https://100.64.0.1/hook", "reserved address"),
        ("http://8.8.8.8/hook", "must start with https://"),
        ("ftp://8.8.8.8/hook", "must start with https://"),
        ("https://user:secret@8.8.8.8/hook", "user name or password"),
        ("https:///hook", "no host"),
        ("https://8.8.8.8:99999/hook", "port"),
    ],
)
def test_a_url_that_is_not_https_to_a_public_address_is_refused(url: str, reason: str) -> None:
    with pytest.raises(RefusedAddress, match="refused: .*" + reason.replace("(", r"\(").replace(")", r"\)")) as refused:
        checked_target(url, allow_loopback=False)

    assert refused.value.param == "url"


def test_the_local_stack_may_call_loopback_but_still_no_private_address() -> None:
    local = checked_target("http://127.0.0.1:8123/receiver?x=1", allow_loopback=True)

    assert (local.address, local.port, local.path) == ("127.0.0.1", 8123, "/receiver?x=1")
    with pytest.raises(RefusedAddress, match="private"):
        checked_target("http://10.0.0.1/receiver", allow_loopback=True)


def test_registering_answers_a_whsec_secret_and_refuses_private_addresses_and_too_many_endpoints() -> None:
    stores, settings = fake_stores(), Settings(max_webhooks_per_tenant=2)
    request = CreateWebhookRequest(url=PUBLIC_URL, events=["batch.failed", "batch.failed"])

    endpoint = register_webhook(stores, settings, "tenant-a", request)
    register_webhook(stores, settings, "tenant-a", request)

    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.events == [WebhookEventType.BATCH_FAILED]
    with pytest.raises(InvalidInput, match="2 webhook endpoints"):
        register_webhook(stores, settings, "tenant-a", request)
    with pytest.raises(RefusedAddress, match="link-local"):
        register_webhook(stores, settings, "tenant-b", CreateWebhookRequest(url="https://169.254.169.254/"))
    assert stores.webhooks.list_endpoints("tenant-b") == []
