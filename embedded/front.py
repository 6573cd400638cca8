"""The HTTP front: real HTTP on loopback, each request through the local API Gateway."""

import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from embedded.gateway import API_GATEWAY_MAX_BODY_BYTES, LocalGateway, too_large
from embedded.http_server import LoopbackServer


class HttpFront:
    def __init__(self, gateway: LocalGateway, host: str, port: int):
        self._server = LoopbackServer((host, port), _handler_for(gateway))
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-front", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _discard(stream: BinaryIO, length: int) -> None:
    """Reads an oversized body away, so the client sees the 413 rather than a broken pipe."""
    while length > 0:
        chunk = stream.read(min(length, 1024 * 1024))
        if not chunk:
            return
        length -= len(chunk)


def _handler_for(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            if length > API_GATEWAY_MAX_BODY_BYTES:
                _discard(self.rfile, length)
                answer = too_large(length, API_GATEWAY_MAX_BODY_BYTES, "API Gateway accepts request bodies")
            else:
                body = self.rfile.read(length)
                answer = gateway.handle(self.command, url.path, url.query, dict(self.headers.items()), body)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name != "content-length":
                    self.send_header(name, value)
            self.send_header("content-length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
            return

    return Handler
