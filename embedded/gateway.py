"""API Gateway HTTP API in miniature: payload 2.0 events, the Lambda authorizer, then the API function."""

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from embedded.lambdas import HandlerError, LocalLambdas


@dataclass
class GatewayResponse:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024
LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


def _message(status: int, message: str) -> GatewayResponse:
    return GatewayResponse(status, {"content-type": "application/json"}, json.dumps({"message": message}).encode())


@dataclass(frozen=True)
class Route:
    """One HttpApi event of the API function: `GET /watch` exactly, or `ANY /v1/{proxy+}` for every path below."""

    method: str
    path: str
    authorized: bool = True

    @classmethod
    def of(cls, properties: dict[str, Any]) -> "Route":
        """The route of an HttpApi event's properties; `Auth: {Authorizer: NONE}` opens it to requests without a key."""
        authorizer = properties.get("Auth", {}).get("Authorizer")
        return cls(str(properties.get("Method", "ANY")).upper(), properties["Path"], authorizer != "NONE")

    @property
    def greedy(self) -> bool:
        return self.path.endswith("/{proxy+}")

    def matches(self, method: str, path: str) -> bool:
        if self.method not in ("ANY", method):
            return False
        if self.greedy:
            prefix = self.path.removesuffix("{proxy+}")
            return path.startswith(prefix) and len(path) > len(prefix)
        return path == self.path


def route_for(routes: list[Route], method: str, path: str) -> Route | None:
    """The route API Gateway picks: an exact path before a greedy one, then the longest greedy prefix."""
    matching = [route for route in routes if route.matches(method, path)]
    return min(matching, key=lambda route: (route.greedy, -len(route.path)), default=None)


class LocalGateway:
    def __init__(self, lambdas: LocalLambdas, api_function: str, authorizer_function: str, routes: list[Route]):
        self.lambdas = lambdas
        self.api_function = api_function
        self.authorizer_function = authorizer_function
        self.routes = routes

    def handle(
        self, method: str, path: str, query: str = "", headers: dict[str, str] | None = None, body: bytes = b""
    ) -> GatewayResponse:
        headers = {key.lower(): value for key, value in (headers or {}).items()}
        route = route_for(self.routes, method, path)
        if route is None:
            return _message(404, "Not Found")
        if len(body) > API_GATEWAY_MAX_BODY_BYTES:
            return too_large(len(body), API_GATEWAY_MAX_BODY_BYTES, "API Gateway accepts request bodies")
        event = self._event(method, path, query, headers, body)
        event_size = len(json.dumps(event))
        if event_size > LAMBDA_MAX_PAYLOAD_BYTES:
            return too_large(event_size, LAMBDA_MAX_PAYLOAD_BYTES, "Lambda accepts request events")
        refused = self._authorize(event) if route.authorized else None
        if refused:
            return refused
        try:
            result = self.lambdas.invoke(self.api_function, event)
        except HandlerError:
            return _message(500, "Internal Server Error")
        if len(json.dumps(result)) > LAMBDA_MAX_PAYLOAD_BYTES:
            return _message(502, "Internal Server Error")
        return _response(result)

    def _authorize(self, event: dict[str, Any]) -> GatewayResponse | None:
        """Runs the authorizer, as the HTTP API's default one; its context goes into the event, or the refusal back."""
        if not event["headers"].get("authorization"):
            return _message(401, "Unauthorized")
        try:
            verdict = self.lambdas.invoke(self.authorizer_function, self._authorizer_event(event))
        except HandlerError as failure:
            unauthorized = failure.payload["errorMessage"] == "Unauthorized"
            return _message(401, "Unauthorized") if unauthorized else _message(500, "Internal Server Error")
        if not verdict.get("isAuthorized"):
            return _message(403, "Forbidden")
        event["requestContext"]["authorizer"] = {"lambda": verdict.get("context", {})}
        return None

    def _event(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        parameters: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
        text, encoded = _body(body, headers.get("content-type", ""))
        now = time.time()
        return {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "queryStringParameters": parameters or None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "local",
                "domainName": headers.get("host", "127.0.0.1"),
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": "$default",
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            "body": text,
            "isBase64Encoded": encoded,
        }

    def _authorizer_event(self, event: dict[str, Any]) -> dict[str, Any]:
        method = event["requestContext"]["http"]["method"]
        return {
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": f"arn:aws:execute-api:us-east-1:123456789012:local/$default/{method}{event['rawPath']}",
            "identitySource": [event["headers"]["authorization"]],
            "routeKey": event["routeKey"],
            "rawPath": event["rawPath"],
            "rawQueryString": event["rawQueryString"],
            "headers": event["headers"],
            "queryStringParameters": event["queryStringParameters"],
            "requestContext": event["requestContext"],
        }


def too_large(size: int, limit: int, what: str) -> GatewayResponse:
    megabytes = f"{size / 1024 / 1024:.1f} MB"
    return _message(413, f"Request Entity Too Large: {megabytes}; {what} of at most {limit // 1024 // 1024} MB")


def _body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    """Text bodies go as they are, anything else base64-encoded, as API Gateway does."""
    if not body:
        return None, False
    textual = content_type.startswith(("application/json", "text/", "application/jsonl")) or not content_type
    if textual:
        try:
            return body.decode(), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode(), True


def _response(result: Any) -> GatewayResponse:
    if not isinstance(result, dict) or "statusCode" not in result:
        return GatewayResponse(200, {"content-type": "application/json"}, json.dumps(result).encode())
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    return GatewayResponse(
        int(result["statusCode"]), {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}, data
    )
