import threading
from concurrent.futures import ThreadPoolExecutor

from tests.e2e.conftest import CONSOLE, RunningStack, chat_line

CLIENTS = 50


def test_fifty_clients_connecting_at_once_all_get_an_answer(stack: RunningStack) -> None:
    together = threading.Barrier(CLIENTS)
    rejected = {"endpoint": "/v1/nowhere", "requests": [chat_line(f"c{n}", "hi") for n in range(20)]}

    def one_client(_: int) -> int | str:
        together.wait(timeout=30)
        try:
            return stack.call("POST", CONSOLE, body=rejected).status
        except OSError as failure:  # a reset or a refused connection, as the client sees it
            return type(failure).__name__

    with ThreadPoolExecutor(max_workers=CLIENTS) as clients:
        answers = list(clients.map(one_client, range(CLIENTS)))

    assert answers == [400] * CLIENTS
