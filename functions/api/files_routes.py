from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from runtime import STORES
from tenancy import tenant_of

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


def tenant() -> str:
    return tenant_of(router.current_event)


@router.get(BUCKETS)
def handle_list_buckets() -> BucketList:
    found = list_buckets(STORES, tenant())
    return BucketList(buckets=found, count=len(found))


@router.get(f"{BUCKETS}/<bucket>")
def handle_get_bucket(bucket: str) -> BucketEnvelope:
    return BucketEnvelope(bucket=get_bucket(STORES, tenant(), bucket))


@router.post(f"{BUCKETS}/<bucket>/objects")
def handle_upload_object(bucket: str, request: Annotated[UploadObjectRequest, Body()]) -> Response[ObjectEnvelope]:
    stored = upload_object(STORES, tenant(), bucket, request)
    return Response(201, content_type="application/json", body=ObjectEnvelope(file=stored))


@router.post(f"{BUCKETS}/<bucket>/uploads")
def handle_presign_upload(bucket: str, request: Annotated[PresignUploadRequest, Body()]) -> Response[PresignedUpload]:
    stored, url = presign_upload(STORES, tenant(), bucket, request)
    upload = PresignedUpload(file=stored, uploadUrl=url, headers={"Content-Type": stored.contentType})
    return Response(201, content_type="application/json", body=upload)


@router.post(f"{BUCKETS}/<bucket>/uploads/<key>/complete")
def handle_complete_upload(bucket: str, key: str) -> ObjectEnvelope:
    return ObjectEnvelope(file=complete_upload(STORES, tenant(), bucket, key))


@router.get(f"{BUCKETS}/<bucket>/objects")
def handle_list_objects(
    bucket: str,
    limit: Annotated[int, Query()] = 50,
    cursor: Annotated[str | None, Query(max_length=2 * MAX_NAME_CHARS)] = None,
    search: Annotated[str | None, Query(max_length=MAX_NAME_CHARS)] = None,
) -> ObjectList:
    found, next_cursor = list_objects(STORES, tenant(), bucket, limit=limit, cursor=cursor, search=search)
    return ObjectList(files=found, count=len(found), nextCursor=next_cursor)


@router.get(f"{BUCKETS}/<bucket>/objects/<key>")
def handle_get_object(bucket: str, key: str) -> ObjectEnvelope:
    return ObjectEnvelope(file=get_object(STORES, tenant(), bucket, key))


@router.get(f"{BUCKETS}/<bucket>/objects/<key>/download")
def handle_download_object(bucket: str, key: str):
    stored, content = download_object(STORES, tenant(), bucket, key)
    if content.url:
        return Response(status_code=302, headers={"Location": content.url}, body="")
    return Response(status_code=200, content_type=stored.contentType, body=content.body)


@router.delete(f"{BUCKETS}/<bucket>/objects/<key>")
def handle_delete_object(bucket: str, key: str) -> DeletedObject:
    delete_object(STORES, tenant(), bucket, key)
    return DeletedObject(bucketKey=bucket, objectKey=key)
