"""Create with an Idempotency-Key, on either surface: a client's retry gets the first answer, never a second batch."""

from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.batches import create_batch, create_batch_from_file
from batch_core.dal import keys
from batch_core.dal.stores import Stores
from batch_core.models.batch import Batch, CreateBatchRequest, OpenAICreateBatch
from batch_core.settings import Settings


class CreateOnce:
    """Creates a batch once per tenant, surface and key for a day; the same key with another body raises
    IdempotencyValidationError. Built once per container, so its persistence layer and client are reused."""

    def __init__(self, stores: Stores, settings: Settings):
        self.stores = stores
        self.settings = settings
        self.config = IdempotencyConfig(
            event_key_jmespath="[tenant, surface, key]",
            payload_validation_jmespath="request",
            expires_after_seconds=24 * 3600,
        )
        store = DynamoDBPersistenceLayer(
            table_name=settings.table_name,
            key_attr="pk",
            sort_key_attr="sk",
            static_pk_value=keys.IDEMPOTENCY_PARTITION,
            expiry_attr="ttl",
            boto3_client=stores.clients.client("dynamodb"),
        )
        self._once = idempotent_function(
            data_keyword_argument="idempotency",
            persistence_store=store,
            config=self.config,
            output_serializer=PydanticSerializer(Batch),
        )(_create)

    def register_lambda_context(self, context: LambdaContext) -> None:
        """Lets a request still in progress when the invocation times out be retried, not refused for a day."""
        self.config.register_lambda_context(context)

    def __call__(self, tenant_id: str, idempotency_key: str, request: CreateBatchRequest | OpenAICreateBatch) -> Batch:
        surface = "openai" if isinstance(request, OpenAICreateBatch) else "console"
        idempotency = {
            "tenant": tenant_id,
            "surface": surface,
            "key": idempotency_key,
            "request": request.model_dump(mode="json"),
        }
        return self._once(self.stores, self.settings, idempotency=idempotency)


def _create(stores: Stores, settings: Settings, idempotency: dict[str, Any]) -> Batch:
    """Only `idempotency` makes the key; the stores are how the first call creates the batch."""
    if idempotency["surface"] == "openai":
        from_file = OpenAICreateBatch.model_validate(idempotency["request"])
        return create_batch_from_file(stores, settings, idempotency["tenant"], from_file)
    inline = CreateBatchRequest.model_validate(idempotency["request"])
    return create_batch(stores, settings, idempotency["tenant"], inline)
