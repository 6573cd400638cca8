from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from batch_core.errors import InvalidInput
from batch_core.idempotency import CreateOnce
from batch_core.models.bounds import MAX_ID_CHARS

Answer = TypeVar("Answer", bound=BaseModel)


def answered_once(
    router: APIGatewayHttpRouter,
    tenant_id: str,
    operation: str,
    request: Any,
    kind: type[Answer],
    create: Callable[[], Answer],
) -> Answer:
    """`create`'s answer, or with an `Idempotency-Key` header, the first answer this tenant got for `operation`
    with that key (`request`, as JSON, must be the same)."""
    key = router.current_event.headers.get("idempotency-key")
    if not key:
        return create()
    if len(key) > MAX_ID_CHARS:
        raise InvalidInput(f"Idempotency-Key is longer than {MAX_ID_CHARS} characters", param="Idempotency-Key")
    create_once: CreateOnce = router.context["create_once"]
    return create_once(tenant_id, operation, key, request, kind, create)
