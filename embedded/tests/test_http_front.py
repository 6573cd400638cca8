import threading
from concurrent.futures import ThreadPoolExecutor

from embedded.launcher import LaunchedStack
from embedded.tests.conftest import CONSOLE, KEY, chat_line

CLIENTS = 50


def test_fifty_clients_connecting_at_once_all_get_an_answer(stack: LaunchedStack) -> None:
    together = threading.Barrier(CLIENTS)
    rejected = {"endpoint": "/v1/nowhere", "requests": [chat_line(f"c{n}", "hi") for n in range(20)]}

    def one_client(_: int) -> int | str:
        together.wait(timeout=30)
        try:
            return stack.request("POST", CONSOLE, KEY, body=rejected).status
        except OSError as failure:  # a reset or a refused connection, as the client sees it
            return type(failure).__name__

    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        answers = list(clients.map(one_client, range(CLIENTS)))

    assert answers == [400] * CLIENTS


def test_bodies_over_the_gateway_and_lambda_limits_get_a_clear_413(stack: LaunchedStack) -> None:
    over_gateway = stack.request("POST", CONSOLE, KEY, raw=b"x" * (10 * 1024 * 1024 + 1))
    over_lambda = stack.request("POST", CONSOLE, KEY, raw=b"y" * (7 * 1024 * 1024))

    assert over_gateway.status == 413
    assert "API Gateway accepts request bodies of at most 10 MB" in over_gateway.json()["message"]
    assert over_lambda.status == 413
    assert "Lambda accepts request events of at most 6 MB" in over_lambda.json()["message"]
