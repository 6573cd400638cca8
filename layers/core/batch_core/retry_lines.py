"""The lines of an ended batch that did not succeed (failed, expired, cancelled), as input lines again: the same
custom ids and bodies, read from the batch's own input, in input order."""

import json
from collections.abc import Iterator

from batch_core.dal.stores import Stores
from batch_core.inputs import read_unit_lines
from batch_core.line_views import iter_units
from batch_core.models.batch import Batch

RETRIED_STATUSES = ("failed", "expired", "cancelled")


def unsucceeded_lines(stores: Stores, batch: Batch) -> Iterator[bytes]:
    """Each line to run again, as a stored input line; a unit whose lines all succeeded is not read."""
    for unit, views in iter_units(stores, batch, units=lambda unit: unit.n_succeeded < unit.count):
        kept = {view.index for view in views if view.status not in RETRIED_STATUSES}
        for line in read_unit_lines(stores, batch, unit, skip=kept):
            if line.request is None:
                continue
            entry = {"custom_id": line.custom_id, "method": "POST", "url": batch.endpoint, "body": line.request.body}
            yield json.dumps(entry, ensure_ascii=False).encode() + b"\n"
