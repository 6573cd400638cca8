"""What Powertools' File/Form parameters leave to the routes that read a multipart form.

Powertools hands a part sent with a filename to the route as an `UploadFile`, unvalidated whatever the
parameter's type or bounds say, and a part sent without one as UTF-8 text; a route takes either."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import File, Form, UploadFile

from batch_core.errors import InvalidInput
from batch_core.models.bounds import MAX_NAME_CHARS, echo

FilePart = Annotated[UploadFile | bytes, File()]
TextPart = Annotated[UploadFile | bytes, Form()]


def read_part(part: UploadFile | bytes, name: str) -> tuple[str | None, bytes]:
    """The part's filename (None when it has none) and its bytes, exactly as sent."""
    if not isinstance(part, UploadFile):
        return None, part
    if part.filename is not None and len(part.filename) > MAX_NAME_CHARS:
        raise InvalidInput(f"the '{echo(name)}' part's filename is longer than {MAX_NAME_CHARS} characters", param=name)
    return part.filename, part.content
