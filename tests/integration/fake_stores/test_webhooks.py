from batch_core.dal.stores import Stores
from batch_core.models.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent


def _endpoint(endpoint_id: str, tenant_id: str = "tenant-a") -> WebhookEndpoint:
    return WebhookEndpoint(
        id=endpoint_id,
        tenant_id=tenant_id,
        url="https://8.8.8.8/hook",
        events=["batch.completed"],
        secret="whsec_c2VjcmV0",
        created_at=1,
    )


def _delivery(event_id: str, endpoint_id: str = "wh_1") -> WebhookDelivery:
    event = WebhookEvent(id=event_id, type="batch.completed", created_at=1, data={"id": "batch_1"})
    return WebhookDelivery(endpoint_id=endpoint_id, event=event, created_at=1)


def test_endpoints_are_kept_per_tenant_and_deleted_once(stores: Stores) -> None:
    stores.webhooks.put_endpoint(_endpoint("wh_1"))
    stores.webhooks.put_endpoint(_endpoint("wh_2"))
    stores.webhooks.put_endpoint(_endpoint("wh_3", tenant_id="tenant-b"))

    assert [endpoint.id for endpoint in stores.webhooks.list_endpoints("tenant-a")] == ["wh_1", "wh_2"]
    assert stores.webhooks.get_endpoint("tenant-b", "wh_1") is None
    assert stores.webhooks.get_endpoint("tenant-a", "wh_2") == _endpoint("wh_2")
    assert stores.webhooks.delete_endpoint("tenant-a", "wh_1") is True
    assert stores.webhooks.delete_endpoint("tenant-a", "wh_1") is False
    assert stores.webhooks.delete_endpoint("tenant-a", "wh_3") is False


def test_a_delivery_is_added_once_and_an_attempt_is_recorded_only_over_the_attempts_it_saw(stores: Stores) -> None:
    delivery = _delivery("evt_1")

    assert (stores.webhooks.add_delivery(delivery), stores.webhooks.add_delivery(delivery)) == (True, False)
    attempted = delivery.model_copy(update={"attempts": 1, "status": DeliveryStatus.DELIVERED, "response_status": 204})
    assert stores.webhooks.record_attempt(attempted, attempts_before=0) is True
    assert stores.webhooks.record_attempt(attempted, attempts_before=0) is False
    assert stores.webhooks.get_delivery("wh_1", "evt_1") == attempted
    assert stores.webhooks.get_delivery("wh_2", "evt_1") is None


def test_deliveries_list_newest_first_a_page_at_a_time(stores: Stores) -> None:
    for event_id in ("evt_1", "evt_2", "evt_3"):
        stores.webhooks.add_delivery(_delivery(event_id))
    stores.webhooks.add_delivery(_delivery("evt_9", endpoint_id="wh_other"))

    first, more = stores.webhooks.list_deliveries("wh_1", limit=2, before=None)
    rest, after_rest = stores.webhooks.list_deliveries("wh_1", limit=2, before=first[-1].event.id)

    assert ([d.event.id for d in first], more) == (["evt_3", "evt_2"], True)
    assert ([d.event.id for d in rest], after_rest) == (["evt_1"], False)
