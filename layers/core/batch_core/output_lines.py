"""A line as the output and error files hold it (OpenAI's batch output line), and as an attempt stores the lines it
ran: each in that final form, ready to be copied into the files, behind a header with what items show besides."""

from collections.abc import Iterator
from typing import NamedTuple

from batch_core.models.batch import Batch
from batch_core.models.item import OutputLine, OutputResponse
from batch_core.models.line import UNRUN_ERRORS, LineResult, LineStatus, OutputHeader, line_id

_HEADER_END = b"\t"


class StoredOutput(NamedTuple):
    """A line an attempt ran: its header, and the line as the output or error file holds it (newline included)."""

    header: OutputHeader
    line: bytes


def output_line(batch: Batch, result: LineResult) -> bytes:
    """A line that ran, as the output file (if it succeeded) or the error file holds it."""
    response = None
    if result.status_code is not None:
        response = OutputResponse(status_code=result.status_code, request_id=result.request_id, body=result.body)
    line = OutputLine(
        id=line_id(batch.id, result.index), custom_id=result.custom_id, response=response, error=result.error
    )
    return line.model_dump_json().encode() + b"\n"


def stored_output(result: LineResult, line: bytes) -> bytes:
    """A line that ran as its attempt stores it: its header, then its `output_line`. JSON escapes every tab inside a
    string, so the first tab ends the header."""
    header = OutputHeader(
        index=result.index,
        status=result.status,
        started_at=result.started_at,
        ended_at=result.ended_at,
        usage=result.usage,
    )
    return header.model_dump_json().encode() + _HEADER_END + line


def read_outputs(data: bytes) -> Iterator[StoredOutput]:
    """The lines of an attempt's object, as `stored_output` wrote them."""
    for stored in data.splitlines(keepends=True):
        header, line = stored.split(_HEADER_END, 1)
        yield StoredOutput(OutputHeader.model_validate_json(header), line)


def unrun_line(batch: Batch, index: int, custom_id: str | None, status: LineStatus) -> bytes:
    """A line that did not run, as the error file holds it: with the error of its status (a cancelled or expired
    line's), no response."""
    line = OutputLine(id=line_id(batch.id, index), custom_id=custom_id, response=None, error=UNRUN_ERRORS.get(status))
    return line.model_dump_json().encode() + b"\n"
