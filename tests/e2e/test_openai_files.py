"""Files as the `openai` package sends and lists them: `expires_after` on files and uploads, `order` and
`purpose` on the list, and the check of an upload that the SDK waits for."""

import io
import time

import openai
import pytest
from openai import OpenAI

from tests.e2e.conftest import KEY_B, RunningStack
from tests.waiting import wait_for

LINE = b'{"custom_id": "x", "method": "POST", "url": "/v1/embeddings", "body": {"model": "e", "input": "x"}}\n'


@pytest.fixture
def client(stack: RunningStack) -> OpenAI:
    # Tenant b, whose files no other test lists.
    return OpenAI(base_url=stack.base_url + "/v1", api_key=KEY_B, max_retries=0)


def test_a_file_expires_when_its_expires_after_says(client: OpenAI) -> None:
    before = int(time.time())

    kept = client.files.create(
        file=("hour.jsonl", io.BytesIO(LINE)), purpose="batch", expires_after={"anchor": "created_at", "seconds": 3600}
    )
    default = client.files.create(file=("month.jsonl", io.BytesIO(LINE)), purpose="batch")

    assert kept.expires_at is not None and before + 3600 <= kept.expires_at <= int(time.time()) + 3600
    assert client.files.retrieve(kept.id).expires_at == kept.expires_at
    assert default.expires_at is not None and default.expires_at - default.created_at == 30 * 86400


@pytest.mark.parametrize(
    ("expires_after", "named"),
    [
        ({"anchor": "created_at", "seconds": 60}, "expires_after.seconds"),
        ({"anchor": "now", "seconds": 3600}, "expires_after.anchor"),
    ],
)
def test_an_expires_after_out_of_bounds_is_refused_naming_its_field(
    client: OpenAI, expires_after: dict, named: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.files.create(file=("bad.jsonl", io.BytesIO(LINE)), purpose="batch", expires_after=expires_after)  # type: ignore[arg-type]

    assert refused.value.body["param"] == named  # type: ignore[index]


def test_an_upload_makes_a_file_that_expires_as_asked(client: OpenAI) -> None:
    upload = client.uploads.create(
        filename="parts.jsonl",
        purpose="batch",
        bytes=len(LINE),
        mime_type="application/jsonl",
        expires_after={"anchor": "created_at", "seconds": 7200},
    )
    part = client.uploads.parts.create(upload_id=upload.id, data=LINE)

    done = client.uploads.complete(upload_id=upload.id, part_ids=[part.id])

    assert done.file is not None and done.file.expires_at is not None
    assert 7200 - 5 <= done.file.expires_at - done.file.created_at <= 7200 + 5
    assert client.files.wait_for_processing(done.file.id, poll_interval=0.1, max_wait_seconds=60).status == "processed"


def test_the_sdk_waits_for_an_upload_to_be_checked_and_sees_its_bad_lines_named(client: OpenAI) -> None:
    """A batch made from the checked file cuts its units without reading its lines again, and runs them."""
    good = client.files.create(file=("good.jsonl", io.BytesIO(LINE)), purpose="batch")
    bad = client.files.create(
        file=("bad.jsonl", io.BytesIO(LINE + LINE.replace(b'"custom_id": "x", ', b""))), purpose="batch"
    )

    checked = [client.files.wait_for_processing(f.id, poll_interval=0.1, max_wait_seconds=60) for f in (good, bad)]

    assert (good.status, bad.status) == ("uploaded", "uploaded")
    assert [(f.status, f.status_details) for f in checked] == [
        ("processed", None),
        ("error", "line 2: custom_id is required in an input file"),
    ]
    batch = client.batches.create(input_file_id=good.id, endpoint="/v1/embeddings", completion_window="24h")
    ended = wait_for(lambda: (found := client.batches.retrieve(batch.id)).status == "completed" and found, 60)
    assert (ended.request_counts.total, ended.request_counts.completed) == (1, 1)


def test_files_list_in_either_order_and_by_purpose(client: OpenAI) -> None:
    made = [client.files.create(file=(f"o{n}.jsonl", io.BytesIO(LINE)), purpose="batch").id for n in range(3)]

    newest_first = [stored.id for stored in client.files.list(purpose="batch") if stored.id in made]
    oldest_first = [stored.id for stored in client.files.list(order="asc", purpose="batch") if stored.id in made]
    paged = client.files.list(order="asc", limit=1, after=made[0])

    assert newest_first == made[::-1] and oldest_first == made
    assert paged.data[0].id == made[1]
    assert [stored for stored in client.files.list(purpose="batch_output") if stored.id in made] == []
