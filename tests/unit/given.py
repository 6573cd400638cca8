"""Batches set up through the rules themselves, on in-memory stores: what a unit test starts from."""

import json
import time
from typing import Any

from batch_core.batches import create_batch, create_batch_from_file
from batch_core.dal.stores import Stores
from batch_core.executor import run_work_unit
from batch_core.file_checks import check_file
from batch_core.files import upload_file
from batch_core.line_views import iter_lines
from batch_core.models.batch import Batch, CreateBatchRequest, OpenAICreateBatch
from batch_core.models.file import StoredFile
from batch_core.models.route import Route, RouteLimits, RouteTable
from batch_core.models.work_unit import WorkUnit
from batch_core.prepare import prepare_batch
from batch_core.settings import Settings
from batch_core.upstream import Upstreams
from tests.unit.fakes import fake_stores
from tests.unit.fakes.upstream import TableUpstream, answered

TENANT = "tenant-a"
CHAT = "/v1/chat/completions"
# One unit is three lines; an invocation has 150 s, a line 60 s and saving 10 s of them.
SETTINGS = Settings(work_unit_lines=3, max_line_attempts=3, retry_base_seconds=2, min_completion_window_seconds=1)
INVOCATION_SECONDS = 150.0


def new_stores() -> Stores:
    return fake_stores(SETTINGS)


def chat(custom_id: str, prompt: str) -> dict[str, Any]:
    return {"custom_id": custom_id, "body": {"model": "gpt-test", "messages": [{"role": "user", "content": prompt}]}}


def created(stores: Stores, prompts: list[str], **options: Any) -> Batch:
    """A console batch created inline, one line per prompt (custom ids c0, c1, …), not yet prepared."""
    requests = [chat(f"c{n}", prompt) for n, prompt in enumerate(prompts)]
    return create_batch(stores, SETTINGS, TENANT, CreateBatchRequest(endpoint=CHAT, requests=requests, **options))


def prepared(stores: Stores, prompts: list[str], **options: Any) -> Batch:
    """A batch created and prepared: its units stored and queued (`stores.queue.sent`)."""
    batch = created(stores, prompts, **options)
    prepare_batch(stores, SETTINGS, batch.id)
    return current(stores, batch)


def current(stores: Stores, batch: Batch) -> Batch:
    """The batch as stored now."""
    found = stores.batches.get(batch.id)
    assert found is not None
    return found


def run(
    stores: Stores,
    message: WorkUnit,
    upstream: TableUpstream | Upstreams | None = None,
    delivery: str = "m1",
    seconds: float = INVOCATION_SECONDS,
) -> float | None:
    """One delivery of `message` to the executor, in an invocation with `seconds` left."""
    deadline = time.monotonic() + seconds
    upstreams = upstream if isinstance(upstream, Upstreams) else routed(upstream or TableUpstream())
    return run_work_unit(stores, SETTINGS, message, upstreams, delivery=delivery, deadline=deadline)


def run_first_then_prepare_again(stores: Stores, batch: Batch, prompts: list[str]) -> list[WorkUnit]:
    """After a prepare of the batch that crashed: runs the first unit it queued, each line answered "A", prepares
    again and runs every unit queued, answered "B"; returns the units the crashed run queued."""
    sent_before = list(stores.queue.sent)
    run(stores, sent_before[0], TableUpstream({prompt: [answered("A")] for prompt in prompts}))
    prepare_batch(stores, SETTINGS, batch.id)
    run_all(stores, TableUpstream({prompt: [answered("B")] for prompt in prompts}))
    return sent_before


def answer_contents(stores: Stores, batch: Batch) -> list[str]:
    """What each line's answer says, in input order."""
    views = iter_lines(stores, current(stores, batch))
    return [json.loads(view.line)["response"]["body"]["choices"][0]["message"]["content"] for view in views]


def routed(upstream: TableUpstream, limits: RouteLimits | None = None) -> Upstreams:
    """Every model routed to `upstream`, with `limits` if given."""
    route = Route(name="default", base_url="http://upstream.test/v1", limits=limits or RouteLimits())
    return Upstreams(RouteTable(routes=[route]), lambda _: upstream)


def run_all(stores: Stores, upstream: TableUpstream | Upstreams | None = None) -> None:
    """Every unit queued so far runs once."""
    for message in list(stores.queue.sent):  # type: ignore[attr-defined]
        run(stores, message, upstream)


def file_line(custom_id: str, prompt: str, **changes: Any) -> dict[str, Any]:
    """A line of an OpenAI batch input file."""
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": chat("", prompt)["body"], **changes}


def uploaded(stores: Stores, lines: list[dict[str, Any]]) -> StoredFile:
    """An input file uploaded on the OpenAI surface."""
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    return upload_file(stores, SETTINGS, TENANT, "input.jsonl", "batch", data)


def created_from_file(stores: Stores, stored: StoredFile) -> Batch:
    """An OpenAI batch of an uploaded file, not yet prepared."""
    return create_batch_from_file(stores, SETTINGS, TENANT, OpenAICreateBatch(input_file_id=stored.id, endpoint=CHAT))


def created_from_checked_file(stores: Stores, prompts: list[str]) -> Batch:
    """An OpenAI batch of an uploaded file its check proved valid, one line per prompt (custom ids c0, c1, …), not
    yet prepared."""
    stored = uploaded(stores, [file_line(f"c{n}", prompt) for n, prompt in enumerate(prompts)])
    check_file(stores, SETTINGS, stored.id)
    return created_from_file(stores, stored)
