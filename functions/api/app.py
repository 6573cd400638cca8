from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from batch_core.batches import cancel_batch, create_batch, get_batch, list_batches
from batch_core.errors import BatchNotFound, InvalidInput, InvalidTransition, StorageError
from batch_core.lines import list_items
from batch_core.models.batch import CreateBatchRequest
from batch_core.models.console import ConsoleBatch, ConsoleList
from batch_core.observability import logger, tracer
from batch_core.results import render_results

app = APIGatewayHttpResolver(enable_validation=True)
CONSOLE = "/api/client/v1/batches"


def tenant() -> str:
    return app.current_event.request_context.authorizer.get_lambda["tenant_id"]


@app.post(CONSOLE)
def handle_create_batch(request: Annotated[CreateBatchRequest, Body()]) -> Response[ConsoleBatch]:
    return Response(201, content_type="application/json", body=ConsoleBatch.of(create_batch(tenant(), request)))


@app.get(CONSOLE)
def handle_list_batches(
    status: Annotated[str | None, Query()] = None, limit: Annotated[int, Query()] = 50
) -> ConsoleList:
    batches = list_batches(tenant(), status=status, limit=limit)
    return ConsoleList(data=[ConsoleBatch.of(batch) for batch in batches])


@app.get(f"{CONSOLE}/<batch_id>")
def handle_get_batch(batch_id: str) -> ConsoleBatch:
    return ConsoleBatch.of(get_batch(tenant(), batch_id))


@app.post(f"{CONSOLE}/<batch_id>/cancel")
def handle_cancel_batch(batch_id: str) -> ConsoleBatch:
    return ConsoleBatch.of(cancel_batch(tenant(), batch_id))


@app.get(f"{CONSOLE}/<batch_id>/items")
def handle_list_items(
    batch_id: str,
    status: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query()] = 100,
    skip: Annotated[int, Query()] = 0,
) -> ConsoleList:
    return ConsoleList(data=list_items(get_batch(tenant(), batch_id), status=status, limit=limit, skip=skip))


@app.get(f"{CONSOLE}/<batch_id>/results")
def handle_get_results(batch_id: str, status: Annotated[str | None, Query()] = None):
    results = render_results(get_batch(tenant(), batch_id), status)
    if results.url:
        return Response(status_code=302, headers={"Location": results.url}, body="")
    return Response(status_code=200, content_type="application/jsonl", body=results.body.decode())


def error(status: int, message: str) -> Response:
    return Response(status_code=status, content_type="application/json", body={"error": message})


@app.exception_handler(InvalidInput)
def handle_invalid_input(exc: InvalidInput) -> Response:
    return error(400, exc.message)


@app.exception_handler(RequestValidationError)
def handle_invalid_request(exc: RequestValidationError) -> Response:
    problems = [
        f"{'.'.join(str(part) for part in problem['loc'][1:])}: {problem['msg'].removeprefix('Value error, ')}"
        for problem in exc.errors()
    ]
    return error(400, "; ".join(problems))


@app.exception_handler(BatchNotFound)
def handle_not_found(exc: BatchNotFound) -> Response:
    return error(404, str(exc))


@app.exception_handler(InvalidTransition)
def handle_invalid_transition(exc: InvalidTransition) -> Response:
    return error(400, str(exc))


@app.exception_handler(StorageError)
def handle_storage_error(exc: StorageError) -> Response:
    logger.exception("storage failure")
    return error(500, "the service could not complete the request; try again")


@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
