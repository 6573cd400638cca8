"""An answer past Lambda's response limit becomes a redirect to the same bytes in S3 (clients follow it)."""

import base64
from typing import Any

from aws_lambda_powertools.event_handler import Response
from runtime import STORES
from tenancy import tenant_of

from batch_core.responses import fits, spool
from batch_core.results import Results


def fit_response(event: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    if fits(answer):
        return answer
    body = answer.get("body") or ""
    data = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    content_type = (answer.get("headers") or {}).get("Content-Type", "application/octet-stream")
    url = spool(STORES, tenant_of(event), data, content_type)
    return {"statusCode": 302, "headers": {"Location": url}, "body": "", "isBase64Encoded": False}


def content_answer(content: Results, content_type: str, *, text: bool = False) -> Response:
    """The bytes inline, as text or binary, or a redirect to them when the core placed them in S3."""
    if content.url:
        return Response(status_code=302, headers={"Location": content.url}, body="")
    return Response(status_code=200, content_type=content_type, body=content.body.decode() if text else content.body)
