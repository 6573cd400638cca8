import hashlib
from typing import Annotated

import error_shapes
from aws_lambda_powertools.event_handler import Depends
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from form_parts import FilePart, read_part
from once import answered_once
from runtime import SETTINGS, STORES
from tenancy import tenant

from batch_core.models.openai import OpenAIFile
from batch_core.models.upload import CompleteUploadRequest, CreateUploadRequest, OpenAIUpload, OpenAIUploadPart
from batch_core.uploads import add_part, cancel_upload, complete_upload, create_upload

router = APIGatewayHttpRouter()


@router.post("/v1/uploads", responses=error_shapes.OPENAI)
def handle_create_upload(
    tenant_id: Annotated[str, Depends(tenant)], request: Annotated[CreateUploadRequest, Body()]
) -> OpenAIUpload:
    return answered_once(
        router,
        tenant_id,
        "openai.uploads.create",
        request.model_dump(mode="json"),
        OpenAIUpload,
        lambda: OpenAIUpload.of(create_upload(STORES, SETTINGS, tenant_id, request)),
    )


@router.post("/v1/uploads/<upload_id>/parts", responses=error_shapes.OPENAI)
def handle_add_part(tenant_id: Annotated[str, Depends(tenant)], upload_id: str, data: FilePart) -> OpenAIUploadPart:
    content = read_part(data, "data")[1]

    def added() -> OpenAIUploadPart:
        part_id, created_at = add_part(STORES, tenant_id, upload_id, content)
        return OpenAIUploadPart(id=part_id, created_at=created_at, upload_id=upload_id)

    fingerprint = {"upload_id": upload_id, "sha256": hashlib.sha256(content).hexdigest()}
    return answered_once(router, tenant_id, "openai.uploads.parts.create", fingerprint, OpenAIUploadPart, added)


@router.post("/v1/uploads/<upload_id>/complete", responses=error_shapes.OPENAI)
def handle_complete_upload(
    tenant_id: Annotated[str, Depends(tenant)], upload_id: str, request: Annotated[CompleteUploadRequest, Body()]
) -> OpenAIUpload:
    upload, stored = complete_upload(STORES, SETTINGS, tenant_id, upload_id, request)
    return OpenAIUpload.of(upload, OpenAIFile.of(stored))


@router.post("/v1/uploads/<upload_id>/cancel", responses=error_shapes.OPENAI)
def handle_cancel_upload(tenant_id: Annotated[str, Depends(tenant)], upload_id: str) -> OpenAIUpload:
    return OpenAIUpload.of(cancel_upload(STORES, tenant_id, upload_id))
