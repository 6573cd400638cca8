"""The console's items: pages of a batch's lines, each rendered as the console SDK reads it."""

from itertools import islice

from batch_core.dal.stores import Stores
from batch_core.line_views import LineView, iter_lines, lines_in
from batch_core.models.batch import Batch
from batch_core.models.item import Item, OutputLine
from batch_core.pages import page_limit


def list_items(stores: Stores, batch: Batch, *, status: str | None, limit: int, skip: int) -> list[Item]:
    """A page of `limit` lines from the `skip`-th, of one status when given; it reads only the units it shows."""
    limit, skip = page_limit(limit, 1000), max(0, skip)
    if not batch.units:
        return []
    if status is None:
        first_unit, last_unit = skip // batch.unit_lines, (skip + limit - 1) // batch.unit_lines
        chosen = iter_lines(stores, batch, first_unit=first_unit, last_unit=last_unit)
        views = (view for view in chosen if view.index >= skip)
        return [to_item(view) for view in islice(views, limit)]
    return [to_item(view) for view in lines_in(stores, batch, status, skip, limit)]


def to_item(view: LineView) -> Item:
    line = OutputLine.model_validate_json(view.line)
    header = view.header
    return Item(
        id=line.id,
        index=view.index,
        custom_id=line.custom_id,
        status=view.status,
        response_status_code=line.response.status_code if line.response else None,
        response_body=line.response.body if line.response else None,
        error_message=line.error.message if line.error else None,
        usage=header.usage if header else None,
        started_at=header.started_at if header else None,
        ended_at=header.ended_at if header else None,
    )
