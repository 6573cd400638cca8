from typing import Any

import console_routes
import files_routes
import openai_routes
import uploads_routes
import web_routes
import webhooks_routes
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from response_size import fit_response
from runtime import SETTINGS, STORES

from batch_core.errors import (
    InvalidInput,
    InvalidLines,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
    StorageError,
)
from batch_core.idempotency import CreateOnce
from batch_core.models.bounds import echo
from batch_core.observability import logger, metrics, tracer
from batch_core.validation import read_request_body

DOCS = "/api/client/v1/docs"

# Bodies are read by the same strict rules as input lines, so what is accepted can be stored and run.
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=read_request_body)
app.include_router(console_routes.router)
app.include_router(files_routes.router)
app.include_router(openai_routes.router)
app.include_router(uploads_routes.router)
app.include_router(webhooks_routes.router)
app.include_router(web_routes.router)
# The OpenAPI document and Swagger UI of both surfaces, behind the API key like every route:
# GET /api/client/v1/docs (the page) and /api/client/v1/docs?format=json (the document).
app.enable_swagger(
    path=DOCS,
    title="Serverless Batch API",
    version="1",
    description="OpenAI's /v1 files, uploads and batches, and the console's /api/client/v1 batches, "
    "buckets and webhooks.",
    security_schemes={"apiKey": HTTPBearer(description="An API key, sent as `Authorization: Bearer <key>`.")},
    security=[{"apiKey": []}],
)
CREATE_ONCE = CreateOnce(STORES, SETTINGS)


def error(
    status: int,
    message: str,
    param: str | None = None,
    code: str | None = None,
    listed: list[Any] | None = None,
    **console: Any,
) -> Response:
    """The error envelope of the surface being served; the console's also lists the bad lines, when given,
    and any other fields named."""
    if app.current_event.path.startswith("/v1/"):
        kind = "invalid_request_error" if status < 500 else "server_error"
        body: dict[str, Any] = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    else:
        body = {"error": message, **console} if listed is None else {"error": message, "errors": listed}
    return Response(status_code=status, content_type="application/json", body=body)


@app.exception_handler(InvalidInput)
def handle_invalid_input(exc: InvalidInput) -> Response:
    listed = [problem.as_error() for problem in exc.problems] if isinstance(exc, InvalidLines) else None
    return error(400, exc.message, exc.param, listed=listed)


@app.exception_handler(QuotaExceeded)
def handle_quota_exceeded(exc: QuotaExceeded) -> Response:
    return error(429, exc.message, exc.param, code=exc.code, quota=exc.details())


@app.exception_handler(UnicodeDecodeError)
def handle_body_not_text(exc: UnicodeDecodeError) -> Response:
    # Powertools decodes a JSON body as UTF-8 before any reader sees it, and a form's text parts while it reads
    # the form, before any route could name the part.
    if is_form():
        return error(400, f"a part of the form is not UTF-8 text (byte {exc.start + 1} of the part)", "body")
    return error(400, f"the request body is not UTF-8 text (byte {exc.start + 1})", "body")


@app.exception_handler(ValueError)
def handle_form_without_boundary(exc: ValueError) -> Response:
    # Powertools' form reader raises a bare ValueError, not a validation error, for a form with no boundary;
    # any other ValueError is a fault and stays one.
    if type(exc) is not ValueError or not is_form():
        raise exc
    return error(400, "the multipart/form-data body has no boundary", "body")


@app.exception_handler(RequestUnsupportedContentType)
def handle_unsupported_content_type(exc: RequestUnsupportedContentType) -> Response:
    content_type = app.current_event.headers.get("content-type", "")
    return error(400, f"a '{echo(content_type)}' body cannot be read; send JSON or multipart/form-data", "body")


def is_form() -> bool:
    return app.current_event.headers.get("content-type", "").startswith("multipart/form-data")


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
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    CREATE_ONCE.register_lambda_context(context)
    # What the handler builds once reaches the routes through the resolver's context, which each request clears.
    app.append_context(create_once=CREATE_ONCE)
    return fit_response(event, app.resolve(event, context))
