from typing import Annotated

import error_shapes
from aws_lambda_powertools.event_handler import Depends, Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from once import answered_once
from response_size import content_answer
from runtime import STORES
from tenancy import tenant

from batch_core.buckets import (
    complete_upload,
    delete_object,
    download_object,
    get_bucket,
    get_object,
    list_buckets,
    list_objects,
    presign_upload,
    upload_object,
)
from batch_core.models.bounds import MAX_NAME_CHARS
from batch_core.models.bucket_object import (
    BucketEnvelope,
    BucketList,
    DeletedObject,
    ObjectEnvelope,
    ObjectList,
    PresignedUpload,
    PresignUploadRequest,
    UploadObjectRequest,
)

router = APIGatewayHttpRouter()
BUCKETS = "/api/client/v1/files/buckets"


@router.get(BUCKETS, responses=error_shapes.CONSOLE)
def handle_list_buckets(tenant_id: Annotated[str, Depends(tenant)]) -> BucketList:
    found = list_buckets(STORES, tenant_id)
    return BucketList(buckets=found, count=len(found))


@router.get(f"{BUCKETS}/<bucket>", responses=error_shapes.CONSOLE)
def handle_get_bucket(tenant_id: Annotated[str, Depends(tenant)], bucket: str) -> BucketEnvelope:
    return BucketEnvelope(bucket=get_bucket(STORES, tenant_id, bucket))


@router.post(f"{BUCKETS}/<bucket>/objects", responses=error_shapes.CONSOLE_CREATED)
def handle_upload_object(
    tenant_id: Annotated[str, Depends(tenant)], bucket: str, request: Annotated[UploadObjectRequest, Body()]
) -> Response[ObjectEnvelope]:
    created = answered_once(
        router,
        tenant_id,
        "console.objects.create",
        {"bucket": bucket, **request.model_dump(mode="json")},
        ObjectEnvelope,
        lambda: ObjectEnvelope(file=upload_object(STORES, tenant_id, bucket, request)),
    )
    return Response(201, content_type="application/json", body=created)


@router.post(f"{BUCKETS}/<bucket>/uploads", responses=error_shapes.CONSOLE_CREATED)
def handle_presign_upload(
    tenant_id: Annotated[str, Depends(tenant)], bucket: str, request: Annotated[PresignUploadRequest, Body()]
) -> Response[PresignedUpload]:
    def presigned() -> PresignedUpload:
        stored, url = presign_upload(STORES, tenant_id, bucket, request)
        return PresignedUpload(file=stored, uploadUrl=url, headers={"Content-Type": stored.contentType})

    fingerprint = {"bucket": bucket, **request.model_dump(mode="json")}
    upload = answered_once(router, tenant_id, "console.uploads.create", fingerprint, PresignedUpload, presigned)
    return Response(201, content_type="application/json", body=upload)


@router.post(f"{BUCKETS}/<bucket>/uploads/<key>/complete", responses=error_shapes.CONSOLE)
def handle_complete_upload(tenant_id: Annotated[str, Depends(tenant)], bucket: str, key: str) -> ObjectEnvelope:
    return ObjectEnvelope(file=complete_upload(STORES, tenant_id, bucket, key))


@router.get(f"{BUCKETS}/<bucket>/objects", responses=error_shapes.CONSOLE)
def handle_list_objects(
    tenant_id: Annotated[str, Depends(tenant)],
    bucket: str,
    limit: Annotated[int, Query()] = 50,
    cursor: Annotated[str | None, Query(max_length=2 * MAX_NAME_CHARS)] = None,
    search: Annotated[str | None, Query(max_length=MAX_NAME_CHARS)] = None,
) -> ObjectList:
    found, next_cursor = list_objects(STORES, tenant_id, bucket, limit=limit, cursor=cursor, search=search)
    return ObjectList(files=found, count=len(found), nextCursor=next_cursor)


@router.get(f"{BUCKETS}/<bucket>/objects/<key>", responses=error_shapes.CONSOLE)
def handle_get_object(tenant_id: Annotated[str, Depends(tenant)], bucket: str, key: str) -> ObjectEnvelope:
    return ObjectEnvelope(file=get_object(STORES, tenant_id, bucket, key))


@router.get(f"{BUCKETS}/<bucket>/objects/<key>/download", responses=error_shapes.CONSOLE)
def handle_download_object(tenant_id: Annotated[str, Depends(tenant)], bucket: str, key: str):
    stored, content = download_object(STORES, tenant_id, bucket, key)
    return content_answer(content, stored.contentType)


@router.delete(f"{BUCKETS}/<bucket>/objects/<key>", responses=error_shapes.CONSOLE)
def handle_delete_object(tenant_id: Annotated[str, Depends(tenant)], bucket: str, key: str) -> DeletedObject:
    delete_object(STORES, tenant_id, bucket, key)
    return DeletedObject(bucketKey=bucket, objectKey=key)
