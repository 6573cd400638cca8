"""multipart/form-data, read with the standard library's MIME parser."""

import base64
from email.parser import BytesParser
from email.policy import HTTP

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from batch_core.errors import InvalidInput
from batch_core.models.bounds import MAX_NAME_CHARS, echo


def read_event_form(event: APIGatewayProxyEventV2) -> dict[str, tuple[str | None, bytes]]:
    body = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    return read_form(event.headers.get("content-type", ""), body)


def read_form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Each part's name to its filename (None for plain fields) and bytes."""
    if not content_type.startswith("multipart/form-data"):
        raise InvalidInput("the body must be multipart/form-data with 'file' and 'purpose' parts", param="file")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    form: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            form[name] = (_bounded_filename(part.get_filename(), name), part.get_payload(decode=True) or b"")
    return form


def _bounded_filename(filename: str | None, part: str) -> str | None:
    if filename is not None and len(filename) > MAX_NAME_CHARS:
        raise InvalidInput(f"the '{echo(part)}' part's filename is longer than {MAX_NAME_CHARS} characters", param=part)
    return filename
