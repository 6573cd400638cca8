from typing import Annotated

import error_shapes
from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from once import answered_once
from response_size import content_answer
from runtime import SETTINGS, STORES
from tenancy import tenant

from batch_core.batches import cancel_batch, create_batch, get_batch, list_batches, retry_batch
from batch_core.items import list_items
from batch_core.models.batch import CreateBatchRequest
from batch_core.models.bounds import MAX_ID_CHARS
from batch_core.models.console import ConsoleBatch, ConsoleBatchList, ConsoleItemList
from batch_core.results import render_results

router = APIGatewayHttpRouter()
CONSOLE = "/api/client/v1/batches"


@router.post(CONSOLE, responses=error_shapes.CONSOLE_BATCH_CREATED)
def handle_create_batch(
    tenant_id: Annotated[str, Depends(tenant)], request: Annotated[CreateBatchRequest, Body()]
) -> Response[ConsoleBatch]:
    created = answered_once(
        router,
        tenant_id,
        "console.batches.create",
        request.model_dump(mode="json"),
        ConsoleBatch,
        lambda: ConsoleBatch.of(create_batch(STORES, SETTINGS, tenant_id, request)),
    )
    return Response(201, content_type="application/json", body=created)


@router.get(CONSOLE, responses=error_shapes.CONSOLE)
def handle_list_batches(
    tenant_id: Annotated[str, Depends(tenant)],
    status: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
    limit: Annotated[int, Query()] = 50,
    cursor: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
) -> ConsoleBatchList:
    """Newest first; `cursor` (a page's `nextCursor`) continues below the page it came from."""
    batches, has_more = list_batches(STORES, tenant_id, status=status, limit=limit, after=cursor)
    next_cursor = batches[-1].id if has_more else None
    return ConsoleBatchList(data=[ConsoleBatch.of(batch) for batch in batches], nextCursor=next_cursor)


@router.get(f"{CONSOLE}/<batch_id>", responses=error_shapes.CONSOLE)
def handle_get_batch(tenant_id: Annotated[str, Depends(tenant)], batch_id: str) -> ConsoleBatch:
    return ConsoleBatch.of(get_batch(STORES, tenant_id, batch_id))


@router.post(f"{CONSOLE}/<batch_id>/cancel", responses=error_shapes.CONSOLE)
def handle_cancel_batch(tenant_id: Annotated[str, Depends(tenant)], batch_id: str) -> ConsoleBatch:
    return ConsoleBatch.of(cancel_batch(STORES, tenant_id, batch_id))


@router.post(f"{CONSOLE}/<batch_id>/retry", responses=error_shapes.CONSOLE_BATCH_CREATED)
def handle_retry_batch(tenant_id: Annotated[str, Depends(tenant)], batch_id: str) -> Response[ConsoleBatch]:
    """A new batch of the lines that did not succeed; its metadata's `retry_of` names this batch."""
    retried = answered_once(
        router,
        tenant_id,
        "console.batches.retry",
        {"batch_id": batch_id},
        ConsoleBatch,
        lambda: ConsoleBatch.of(retry_batch(STORES, SETTINGS, tenant_id, batch_id)),
    )
    return Response(201, content_type="application/json", body=retried)


@router.get(f"{CONSOLE}/<batch_id>/items", responses=error_shapes.CONSOLE)
def handle_list_items(
    tenant_id: Annotated[str, Depends(tenant)],
    batch_id: str,
    status: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
    limit: Annotated[int, Query()] = 100,
    skip: Annotated[int, Query()] = 0,
) -> ConsoleItemList:
    return ConsoleItemList(
        data=list_items(STORES, get_batch(STORES, tenant_id, batch_id), status=status, limit=limit, skip=skip)
    )


@router.get(f"{CONSOLE}/<batch_id>/results", responses=error_shapes.CONSOLE)
def handle_get_results(
    tenant_id: Annotated[str, Depends(tenant)],
    batch_id: str,
    status: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
):
    results = render_results(STORES, get_batch(STORES, tenant_id, batch_id), status)
    return content_answer(results, "application/jsonl", text=True)
