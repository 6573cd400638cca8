import pytest

from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, KEY_B, Console, chat_line


@pytest.fixture
def finished_batch_of_tenant_a(console: Console) -> str:
    batch_id = console.create({"endpoint": "/v1/chat/completions", "requests": [chat_line("a", "private")]}).json()[
        "id"
    ]
    console.wait(batch_id)
    return batch_id


def test_another_tenant_gets_404_on_every_route_and_does_not_see_the_batch(
    system: LocalSystem, finished_batch_of_tenant_a: str
) -> None:
    tenant_b = Console(system, KEY_B)
    batch_id = finished_batch_of_tenant_a
    not_found = {"error": f"Batch '{batch_id}' not found"}

    answers = [
        tenant_b.get(batch_id),
        tenant_b.items(batch_id),
        tenant_b.results(batch_id),
        tenant_b.cancel(batch_id),
    ]

    assert [answer.status for answer in answers] == [404, 404, 404, 404]
    assert all(answer.json() == not_found for answer in answers)
    assert tenant_b.call("GET", CONSOLE).json() == {"object": "list", "data": [], "nextCursor": None}


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_api_key_is_401(system: LocalSystem, key: str | None) -> None:
    stranger = Console(system, key)

    answers = [stranger.call("GET", CONSOLE), stranger.create({"endpoint": "/v1/embeddings", "requests": []})]

    assert [answer.status for answer in answers] == [401, 401]
    assert answers[0].json() == {"message": "Unauthorized"}


def test_malformed_authorization_header_is_401(system: LocalSystem) -> None:
    answer = system.request("GET", CONSOLE, key=None, headers={"Authorization": "Basic key-tenant-a"})

    assert answer.status == 401
