"""The stack's HTTP servers (front and simulator) take a burst of connections, not socketserver's five."""

import socket
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler

from embedded.http_server import LoopbackServer

EXECUTORS_LINES_AT_ONCE = 10 * 50


def test_five_hundred_connections_complete_before_the_server_accepts_any() -> None:
    server = LoopbackServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    address = server.server_address[:2]
    try:
        with ExitStack() as connections:
            for _ in range(EXECUTORS_LINES_AT_ONCE):
                # Past the backlog the kernel drops a connect, and the client sends it again only after a second.
                connection = connections.enter_context(socket.create_connection(address, timeout=0.5))
                assert connection.getpeername()[:2] == address
    finally:
        server.server_close()
