import hashlib
from typing import Annotated

import error_shapes
from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from form_parts import ExpiresAnchorPart, ExpiresSecondsPart, FilePart, TextPart, expires_after_part, read_part
from once import answered_once
from response_size import content_answer
from runtime import SETTINGS, STORES
from tenancy import tenant

from batch_core.batches import cancel_batch, create_batch_from_file, get_batch, list_batches
from batch_core.files import delete_file, file_content, get_file, list_files, upload_file
from batch_core.models.batch import OpenAICreateBatch
from batch_core.models.bounds import MAX_ID_CHARS
from batch_core.models.openai import DeletedFile, Listed, OpenAIBatch, OpenAIFile, OpenAIList
from batch_core.responses import fit_page

router = APIGatewayHttpRouter()


def page_of(data: list[Listed], has_more: bool) -> OpenAIList[Listed]:
    """A page cut to fit Lambda's answer says `has_more`, so the SDK's auto-pager asks for the rest."""
    fitted, cut = fit_page(data)
    return OpenAIList[Listed].of(fitted, has_more or cut)


@router.post("/v1/files", responses=error_shapes.OPENAI)
def handle_upload_file(
    tenant_id: Annotated[str, Depends(tenant)],
    file: FilePart,
    purpose: TextPart = b"",
    anchor: ExpiresAnchorPart = b"",
    seconds: ExpiresSecondsPart = b"",
) -> OpenAIFile:
    filename, data = read_part(file, "file")
    chosen = read_part(purpose, "purpose")[1].decode(errors="replace")
    expires_after = expires_after_part(anchor, seconds)
    name = filename or "upload.jsonl"
    fingerprint = {
        "filename": name,
        "purpose": chosen,
        "expires_after": expires_after.model_dump() if expires_after else None,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return answered_once(
        router,
        tenant_id,
        "openai.files.create",
        fingerprint,
        OpenAIFile,
        lambda: OpenAIFile.of(upload_file(STORES, SETTINGS, tenant_id, name, chosen, data, expires_after)),
    )


@router.get("/v1/files", responses=error_shapes.OPENAI)
def handle_list_files(
    tenant_id: Annotated[str, Depends(tenant)],
    limit: Annotated[int, Query()] = 10_000,
    after: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
    order: Annotated[str, Query(max_length=MAX_ID_CHARS)] = "desc",
    purpose: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
) -> OpenAIList[OpenAIFile]:
    found, has_more = list_files(STORES, tenant_id, limit=limit, after=after, order=order, purpose=purpose)
    return page_of([OpenAIFile.of(stored) for stored in found], has_more)


@router.get("/v1/files/<file_id>", responses=error_shapes.OPENAI)
def handle_get_file(tenant_id: Annotated[str, Depends(tenant)], file_id: str) -> OpenAIFile:
    return OpenAIFile.of(get_file(STORES, tenant_id, file_id))


@router.get("/v1/files/<file_id>/content", responses=error_shapes.OPENAI)
def handle_get_file_content(tenant_id: Annotated[str, Depends(tenant)], file_id: str):
    return content_answer(file_content(STORES, tenant_id, file_id), "application/octet-stream")


@router.delete("/v1/files/<file_id>", responses=error_shapes.OPENAI)
def handle_delete_file(tenant_id: Annotated[str, Depends(tenant)], file_id: str) -> DeletedFile:
    return DeletedFile(id=delete_file(STORES, tenant_id, file_id).id)


@router.post("/v1/batches", responses=error_shapes.OPENAI_BATCH_CREATED)
def handle_create_openai_batch(
    tenant_id: Annotated[str, Depends(tenant)], request: Annotated[OpenAICreateBatch, Body()]
) -> OpenAIBatch:
    return answered_once(
        router,
        tenant_id,
        "openai.batches.create",
        request.model_dump(mode="json"),
        OpenAIBatch,
        lambda: OpenAIBatch.of(create_batch_from_file(STORES, SETTINGS, tenant_id, request)),
    )


@router.get("/v1/batches", responses=error_shapes.OPENAI)
def handle_list_openai_batches(
    tenant_id: Annotated[str, Depends(tenant)],
    limit: Annotated[int, Query()] = 20,
    after: Annotated[str | None, Query(max_length=MAX_ID_CHARS)] = None,
) -> OpenAIList[OpenAIBatch]:
    batches, has_more = list_batches(STORES, tenant_id, limit=min(limit, 100), after=after)
    return page_of([OpenAIBatch.of(batch) for batch in batches], has_more)


@router.get("/v1/batches/<batch_id>", responses=error_shapes.OPENAI)
def handle_get_openai_batch(tenant_id: Annotated[str, Depends(tenant)], batch_id: str) -> OpenAIBatch:
    return OpenAIBatch.of(get_batch(STORES, tenant_id, batch_id))


@router.post("/v1/batches/<batch_id>/cancel", responses=error_shapes.OPENAI)
def handle_cancel_openai_batch(tenant_id: Annotated[str, Depends(tenant)], batch_id: str) -> OpenAIBatch:
    return OpenAIBatch.of(cancel_batch(STORES, tenant_id, batch_id))
