"""The console's items: pages of a batch's lines, each rendered as the console SDK reads it."""

from itertools import islice

from batch_core.dal.stores import Stores
from batch_core.line_views import LineView, iter_lines, lines_in
from batch_core.models.batch import Batch
from batch_core.models.item import Item
from batch_core.models.line import UNRUN_ERRORS, line_id
from batch_core.pages import page_limit


def list_items(stores: Stores, batch: Batch, *, status: str | None, limit: int, skip: int) -> list[Item]:
    limit, skip = page_limit(limit, 1000), max(0, skip)
    if not batch.units:
        return []
    if status is None:
        first_unit, last_unit = skip // batch.unit_lines, (skip + limit - 1) // batch.unit_lines
        chosen = iter_lines(stores, batch, first_unit=first_unit, last_unit=last_unit)
        views = (view for view in chosen if view.index >= skip)
        return [to_item(batch, view) for view in islice(views, limit)]
    return [to_item(batch, view) for view in islice(lines_in(stores, batch, status), skip, skip + limit)]


def to_item(batch: Batch, view: LineView) -> Item:
    result = view.result
    error = result.error if result else UNRUN_ERRORS.get(view.status)
    return Item(
        id=line_id(batch.id, view.index),
        index=view.index,
        custom_id=view.custom_id,
        status=view.status,
        response_status_code=result.status_code if result else None,
        response_body=result.body if result else None,
        error_message=error.message if error else None,
        usage=result.usage if result else None,
        started_at=result.started_at if result else None,
        ended_at=result.ended_at if result else None,
    )
