"""Items pages on in-memory stores: a page deep into a large batch, of any status, reads only the units it shows."""

from collections.abc import Iterator
from typing import Any

import pytest

from batch_core.batches import cancel_batch
from batch_core.dal.stores import Stores
from batch_core.items import list_items
from batch_core.models import assembly as assembly_models
from batch_core.models.batch import Batch
from batch_core.models.work_unit import UnitRecord
from batch_core.workflow.decisions import check_batch
from tests.unit.fakes.upstream import TableUpstream, status
from tests.unit.given import SETTINGS, TENANT, current, new_stores, prepared, run

LINES = 600
RAN = 450
FAILED = [n for n in range(RAN) if n % 7 == 0]


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of ten units (thirty lines): the batch below has twenty of them."""
    monkeypatch.setattr(assembly_models, "BLOCK_LINES", 30)


@pytest.fixture
def large() -> tuple[Stores, Batch]:
    """200 units: the first 150 ran (every seventh line failed), then the batch was cancelled."""
    stores = new_stores()
    batch = prepared(stores, [f"p{n}" for n in range(LINES)])
    upstream = TableUpstream({f"p{n}": [status(400)] for n in FAILED})
    for message in stores.queue.sent[: RAN // 3]:
        run(stores, message, upstream)
    cancel_batch(stores, TENANT, batch.id)
    check_batch(stores, SETTINGS, batch.id)
    return stores, current(stores, batch)


def units_read(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records what is read from now on, the unit records listed and the objects of their outputs: what a page
    costs."""
    read: list[str] = []
    get, listed = stores.blobs.get, stores.units.list

    def get_object(key: str) -> bytes:
        read.append(key)
        return get(key)

    def list_units(batch_id: str, **bounds: Any) -> Iterator[UnitRecord]:
        for unit in listed(batch_id, **bounds):
            read.append(f"unit {unit.unit}")
            yield unit

    monkeypatch.setattr(stores.blobs, "get", get_object)
    monkeypatch.setattr(stores.units, "list", list_units)
    return read


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("failed", FAILED),
        ("succeeded", [n for n in range(RAN) if n not in FAILED]),
        ("cancelled", list(range(RAN, LINES))),
    ],
)
def test_a_status_page_deep_into_a_large_batch_reads_only_the_units_it_shows(
    large: tuple[Stores, Batch], monkeypatch: pytest.MonkeyPatch, status: str, expected: list[int]
) -> None:
    stores, batch = large
    skip = len(expected) - 5
    read = units_read(stores, monkeypatch)

    page = list_items(stores, batch, status=status, limit=3, skip=skip)

    assert [(item.index, item.custom_id, item.status) for item in page] == [
        (n, f"c{n}", status) for n in expected[skip : skip + 3]
    ]
    # The units of the block holding the page (ten), and objects of the page and the read-ahead: of 200 units.
    assert len([entry for entry in read if entry.startswith("unit")]) <= 20
    assert len([entry for entry in read if not entry.startswith("unit")]) <= 12


def test_an_unfiltered_page_deep_into_a_large_batch_reads_the_units_it_shows(
    large: tuple[Stores, Batch], monkeypatch: pytest.MonkeyPatch
) -> None:
    stores, batch = large
    read = units_read(stores, monkeypatch)

    page = list_items(stores, batch, status=None, limit=4, skip=447)

    assert [(item.index, item.status) for item in page] == [
        (447, "succeeded"),
        (448, "failed"),
        (449, "succeeded"),
        (450, "cancelled"),
    ]
    assert page[0].usage is not None and page[0].started_at is not None and page[0].response_status_code == 200
    assert (page[1].response_status_code, page[1].error_message) == (400, "upstream said 400")
    assert (page[3].custom_id, page[3].started_at, page[3].usage) == ("c450", None, None)
    assert page[3].error_message == "The batch was cancelled before this request ran."
    assert sorted(read) == [f"batches/{TENANT}/{batch.id}/units/000149/attempt-1.jsonl", "unit 149", "unit 150"]


def test_a_page_past_the_last_line_in_a_status_is_empty(large: tuple[Stores, Batch]) -> None:
    stores, batch = large

    assert list_items(stores, batch, status="failed", limit=10, skip=len(FAILED)) == []
    assert list_items(stores, batch, status="expired", limit=10, skip=0) == []
    assert [item.index for item in list_items(stores, batch, status="failed", limit=2, skip=0)] == [0, 7]
