"""Create with an Idempotency-Key: a client's retry gets the first answer, never a second batch."""

from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from batch_core.batches import create_batch
from batch_core.dal import keys
from batch_core.dal.stores import Stores
from batch_core.models.batch import Batch, CreateBatchRequest
from batch_core.settings import Settings

IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[tenant, key]", payload_validation_jmespath="request", expires_after_seconds=24 * 3600
)


def create_batch_once(
    stores: Stores, settings: Settings, tenant_id: str, idempotency_key: str, request: CreateBatchRequest
) -> Batch:
    """Once per tenant and key for a day; the same key with another body raises IdempotencyValidationError."""
    store = DynamoDBPersistenceLayer(
        table_name=settings.table_name,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value=keys.IDEMPOTENCY_PARTITION,
        expiry_attr="ttl",
        boto3_client=stores.clients.client("dynamodb"),
    )
    once = idempotent_function(
        data_keyword_argument="idempotency",
        persistence_store=store,
        config=IDEMPOTENCY,
        output_serializer=PydanticSerializer(Batch),
    )(_create)
    payload = {"tenant": tenant_id, "key": idempotency_key, "request": request.model_dump(mode="json")}
    return once(stores, settings, idempotency=payload)


def _create(stores: Stores, settings: Settings, idempotency: dict[str, Any]) -> Batch:
    """Only `idempotency` makes the key; the stores are how the first call creates the batch."""
    request = CreateBatchRequest.model_validate(idempotency["request"])
    return create_batch(stores, settings, idempotency["tenant"], request)
