from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from multipart_form import read_event_form
from runtime import SETTINGS, STORES
from tenancy import tenant_of

from batch_core.errors import InvalidInput
from batch_core.models.openai import OpenAIFile
from batch_core.models.upload import CompleteUploadRequest, CreateUploadRequest, OpenAIUpload, OpenAIUploadPart, Upload
from batch_core.uploads import add_part, cancel_upload, complete_upload, create_upload

router = APIGatewayHttpRouter()


def tenant() -> str:
    return tenant_of(router.current_event)


def view(upload: Upload, file: OpenAIFile | None = None) -> OpenAIUpload:
    return OpenAIUpload(**upload.model_dump(exclude={"file_id"}), file=file)


@router.post("/v1/uploads")
def handle_create_upload(request: Annotated[CreateUploadRequest, Body()]) -> OpenAIUpload:
    return view(create_upload(STORES, tenant(), request))


@router.post("/v1/uploads/<upload_id>/parts")
def handle_add_part(upload_id: str) -> OpenAIUploadPart:
    form = read_event_form(router.current_event)
    if "data" not in form:
        raise InvalidInput("the form has no 'data' part", param="data")
    part_id, created_at = add_part(STORES, tenant(), upload_id, form["data"][1])
    return OpenAIUploadPart(id=part_id, created_at=created_at, upload_id=upload_id)


@router.post("/v1/uploads/<upload_id>/complete")
def handle_complete_upload(upload_id: str, request: Annotated[CompleteUploadRequest, Body()]) -> OpenAIUpload:
    upload, stored = complete_upload(STORES, SETTINGS, tenant(), upload_id, request)
    return view(upload, OpenAIFile.of(stored))


@router.post("/v1/uploads/<upload_id>/cancel")
def handle_cancel_upload(upload_id: str) -> OpenAIUpload:
    return view(cancel_upload(STORES, tenant(), upload_id))
