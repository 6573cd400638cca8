"""Every change the local stack makes to moto (and one to Powertools' metrics), applied together for as long as a
local system runs.

The patches reach into moto's internals, so they hold only for the moto they were written for: on
any other version they refuse to apply rather than change code they were never checked against."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import moto
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response
from moto.sqs.models import Queue, SQSBackend

from embedded import moto_fixes
from embedded.lambdas import LocalLambdas, metrics_one_handler_at_a_time

MOTO_VERSION = "5.2.5"  # as pinned in requirements-dev.txt and constraints.txt
_APPLIED = threading.Lock()
_ABSENT = object()


class MotoVersionMismatch(RuntimeError):
    def __init__(self, expected: str, found: str):
        super().__init__(
            f"the local stack's moto patches were written for moto {expected}, but moto {found} is installed:"
            f" install moto=={expected}, or check each patch in embedded/moto_patches.py against moto {found}"
        )
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class Patch:
    """One attribute of moto (a class's method, a module's global) and what stands in for it."""

    owner: Any
    name: str
    replacement: Callable[[Any], Any]  # given the attribute as moto has it; its docstring says why


def patches(lambdas: LocalLambdas) -> tuple[Patch, ...]:
    """What the local stack changes in moto; each replacement's docstring names the moto attribute,
    what moto does there that a long-running local stack cannot live with, and what it does instead."""
    return (
        Patch(DynamoDBBackend, "put_item", moto_fixes.one_at_a_time),
        Patch(DynamoDBBackend, "update_item", moto_fixes.one_at_a_time),
        Patch(DynamoDBBackend, "delete_item", moto_fixes.one_at_a_time),
        Patch(DynamoDBBackend, "get_item", moto_fixes.one_at_a_time),
        Patch(DynamoDBBackend, "query", moto_fixes.one_at_a_time),
        Patch(DynamoDBBackend, "scan", moto_fixes.one_at_a_time),
        Patch(DynamoDBBackend, "transact_write_items", moto_fixes.transaction_saving_its_items),
        Patch(Table, "query", moto_fixes.one_partition_queried),
        Patch(dynamodb_models, "copy", moto_fixes.tables_by_reference),
        Patch(DynamoResult, "execute_result", moto_fixes.items_as_plain_json),
        Patch(S3Response, "get_object", moto_fixes.ranges_read_alone),
        Patch(FakeKey, "value", moto_fixes.values_windowed_for_ranges),
        Patch(SQSBackend, "is_message_valid_based_on_retention_period", moto_fixes.retention_period_alone),
        Patch(Queue, "messages", moto_fixes.fair_queue_order),
        Patch(SQSBackend, "send_message", moto_fixes.sending_without_counting),
        Patch(Queue, "attributes", moto_fixes.attributes_counted_unless_sending),
        Patch(SQSBackend, "receive_message", moto_fixes.fair_receive),
        Patch(LambdaSimpleBackend, "invoke", lambdas.moto_invoke),
        Patch(AmazonCloudWatchEMFProvider, "add_metric", metrics_one_handler_at_a_time),
        Patch(AmazonCloudWatchEMFProvider, "flush_metrics", metrics_one_handler_at_a_time),
    )


@contextmanager
def moto_patches(lambdas: LocalLambdas) -> Iterator[None]:
    """Applies every patch, `lambdas` answering moto's Lambda invocations; on exit puts back each
    attribute exactly as it was (an inherited one is removed again), so moto is left untouched."""
    if moto.__version__ != MOTO_VERSION:
        raise MotoVersionMismatch(MOTO_VERSION, moto.__version__)
    # Patches applied twice at once would each restore what the other replaced.
    if not _APPLIED.acquire(blocking=False):
        raise RuntimeError("moto is already patched for another local system; end that one first")
    applied: list[tuple[Patch, Any]] = []
    try:
        for patch in patches(lambdas):
            original = vars(patch.owner).get(patch.name, _ABSENT)
            setattr(patch.owner, patch.name, patch.replacement(getattr(patch.owner, patch.name)))
            applied.append((patch, original))
        yield
    finally:
        for patch, original in reversed(applied):
            if original is _ABSENT:
                delattr(patch.owner, patch.name)
            else:
                setattr(patch.owner, patch.name, original)
        _APPLIED.release()
