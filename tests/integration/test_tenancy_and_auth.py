import pytest

from batch_core.errors import InvalidInput
from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, KEY_A, KEY_B, Console, chat_line


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


@pytest.mark.parametrize(
    "authorization",
    [
        f"bearer {KEY_A}",
        f"BEARER {KEY_A}",
        f"Bearer  {KEY_A}",
        f" Bearer {KEY_A}",
        f"Bearer {KEY_A} ",
        f"Bearer\t{KEY_A}",
    ],
)
def test_only_the_exact_bearer_form_of_a_key_is_authorized(system: LocalSystem, authorization: str) -> None:
    exact = system.request("GET", CONSOLE, key=None, headers={"Authorization": f"Bearer {KEY_A}"})

    other_form = system.request("GET", CONSOLE, key=None, headers={"Authorization": authorization})

    assert (exact.status, other_form.status) == (200, 401)
    assert other_form.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("tenant_id", ["x#FILES", "x/y", "", "-x", "a" * 65, "tenant a"])
def test_a_tenant_id_outside_the_rule_is_rejected_and_its_key_does_not_work(
    system: LocalSystem, tenant_id: str
) -> None:
    with pytest.raises(InvalidInput) as rejected:
        system.add_api_key("key-of-a-bad-tenant", tenant_id)

    assert rejected.value.message == (
        f"tenant id {tenant_id!r} is not valid: use 1 to 64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )
    assert system.request("GET", CONSOLE, key="key-of-a-bad-tenant").status == 401


def test_a_key_stored_by_hand_for_a_tenant_outside_the_rule_is_refused(system: LocalSystem) -> None:
    system.stores.api_keys.put("key-stored-by-hand", "x#FILES")

    assert system.request("GET", CONSOLE, key="key-stored-by-hand").status == 401


def test_an_api_key_with_spaces_is_rejected(system: LocalSystem) -> None:
    with pytest.raises(InvalidInput) as rejected:
        system.add_api_key("two words", "tenant-c")

    assert rejected.value.message == "an API key must be 1 to 256 visible ASCII characters, without spaces"
