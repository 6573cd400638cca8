"""A line as the output and error files hold it (OpenAI's batch output line)."""

from batch_core.line_views import LineView
from batch_core.models.batch import Batch
from batch_core.models.item import OutputLine, OutputResponse
from batch_core.models.line import UNRUN_ERRORS, line_id


def to_output_line(batch: Batch, view: LineView) -> OutputLine:
    result = view.result
    response = None
    if result and result.status_code is not None:
        response = OutputResponse(status_code=result.status_code, request_id=result.request_id, body=result.body)
    return OutputLine(
        id=line_id(batch.id, view.index),
        custom_id=view.custom_id,
        response=response,
        error=result.error if result else UNRUN_ERRORS.get(view.status),
    )
