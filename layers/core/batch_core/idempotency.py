"""Creates with an Idempotency-Key, on either surface: a client's retry gets the first answer, never a second
batch, file, upload, part, object or webhook endpoint."""

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from batch_core.dal import keys
from batch_core.dal.stores import Stores
from batch_core.settings import Settings

Answer = TypeVar("Answer", bound=BaseModel)


class CreateOnce:
    """Answers a create once per tenant, operation and key for a day; the same key with another request raises
    IdempotencyValidationError. Built once per container, so its persistence layer and client are reused."""

    def __init__(self, stores: Stores, settings: Settings):
        self.config = IdempotencyConfig(
            event_key_jmespath="[tenant, operation, key]",
            payload_validation_jmespath="request",
            expires_after_seconds=24 * 3600,
        )
        self._store = DynamoDBPersistenceLayer(
            table_name=settings.table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value=keys.IDEMPOTENCY_PARTITION,
            expiry_attr="ttl",
            boto3_client=stores.clients.client("dynamodb"),
        )
        # One wrapper per kind of answer, each storing its answer as that model.
        self._once: dict[type[BaseModel], Callable[..., Any]] = {}

    def register_lambda_context(self, context: LambdaContext) -> None:
        """Lets a request still in progress when the invocation times out be retried, not refused for a day."""
        self.config.register_lambda_context(context)

    def __call__(
        self, tenant_id: str, operation: str, key: str, request: Any, kind: type[Answer], create: Callable[[], Answer]
    ) -> Answer:
        """`create`'s answer the first time; the stored answer when the tenant sends `operation` with this key
        and the same `request` (what identifies it, as JSON) again."""
        if kind not in self._once:
            self._once[kind] = idempotent_function(
                data_keyword_argument="idempotency",
                persistence_store=self._store,
                config=self.config,
                output_serializer=PydanticSerializer(kind),
            )(_create)
        idempotency = {"tenant": tenant_id, "operation": operation, "key": key, "request": request}
        return self._once[kind](create, idempotency=idempotency)


def _create(create: Callable[[], BaseModel], idempotency: dict[str, Any]) -> BaseModel:
    """Only `idempotency` makes the key; `create` is how the first call answers."""
    return create()
