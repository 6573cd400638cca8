from typing import Any

import console_routes
import files_routes
import openai_routes
import uploads_routes
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from response_size import fit_response

from batch_core.errors import InvalidInput, InvalidTransition, NotFound, StorageError
from batch_core.idempotency import IDEMPOTENCY
from batch_core.observability import logger, tracer

app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(console_routes.router)
app.include_router(files_routes.router)
app.include_router(openai_routes.router)
app.include_router(uploads_routes.router)


def error(status: int, message: str, param: str | None = None, code: str | None = None) -> Response:
    """The error envelope of the surface being served."""
    if app.current_event.path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        body: dict[str, Any] = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    else:
        body = {"error": message}
    return Response(status_code=status, content_type="application/json", body=body)


@app.exception_handler(InvalidInput)
def handle_invalid_input(exc: InvalidInput) -> Response:
    return error(400, exc.message, exc.param)


@app.exception_handler(RequestValidationError)
def handle_invalid_request(exc: RequestValidationError) -> Response:
    problems = [
        (".".join(str(part) for part in problem["loc"][1:]), problem["msg"].removeprefix("Value error, "))
        for problem in exc.errors()
    ]
    return error(400, "; ".join(f"{field}: {message}" for field, message in problems), problems[0][0] or None)


@app.exception_handler(NotFound)
def handle_not_found(exc: NotFound) -> Response:
    return error(404, str(exc))


@app.exception_handler(IdempotencyValidationError)
def handle_reused_idempotency_key(exc: IdempotencyValidationError) -> Response:
    return error(409, "this Idempotency-Key was already used with a different request body", "Idempotency-Key")


@app.exception_handler(IdempotencyAlreadyInProgressError)
def handle_idempotent_request_in_progress(exc: IdempotencyAlreadyInProgressError) -> Response:
    return error(409, "a request with this Idempotency-Key is still being processed; retry shortly", "Idempotency-Key")


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
    IDEMPOTENCY.register_lambda_context(context)
    return fit_response(event, app.resolve(event, context))
