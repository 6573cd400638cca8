"""What Powertools' File/Form parameters leave to the routes that read a multipart form.

Powertools hands a part sent with a filename to the route as an `UploadFile`, unvalidated whatever the
parameter's type or bounds say, and a part sent without one as UTF-8 text; a route takes either."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import File, Form, UploadFile
from pydantic import ValidationError

from batch_core.errors import InvalidInput
from batch_core.models.bounds import MAX_NAME_CHARS, echo
from batch_core.models.file import ExpiresAfter

FilePart = Annotated[UploadFile | bytes, File()]
TextPart = Annotated[UploadFile | bytes, Form()]
ExpiresAnchorPart = Annotated[UploadFile | bytes, Form(alias="expires_after[anchor]")]
ExpiresSecondsPart = Annotated[UploadFile | bytes, Form(alias="expires_after[seconds]")]


def read_part(part: UploadFile | bytes, name: str) -> tuple[str | None, bytes]:
    """The part's filename (None when it has none) and its bytes, exactly as sent."""
    if not isinstance(part, UploadFile):
        return None, part
    if part.filename is not None and len(part.filename) > MAX_NAME_CHARS:
        raise InvalidInput(f"the '{echo(name)}' part's filename is longer than {MAX_NAME_CHARS} characters", param=name)
    return part.filename, part.content


def expires_after_part(anchor_part: UploadFile | bytes, seconds_part: UploadFile | bytes) -> ExpiresAfter | None:
    """A file's `expires_after`, as a form sends it in two parts."""
    anchor = read_part(anchor_part, "expires_after[anchor]")[1]
    seconds = read_part(seconds_part, "expires_after[seconds]")[1]
    if not anchor and not seconds:
        return None
    try:
        return ExpiresAfter.model_validate(
            {"anchor": anchor.decode(errors="replace"), "seconds": seconds.decode(errors="replace") or None}
        )
    except ValidationError as invalid:
        field = ".".join(str(part) for part in invalid.errors()[0]["loc"])
        message = invalid.errors()[0]["msg"].replace("Input should be", "must be")
        raise InvalidInput(f"expires_after.{field}: {message}", param=f"expires_after.{field}") from None
