"""The watch page (GET /watch) in a real headless Chromium against the local stack over HTTP: a key pasted in,
a batch listed and followed to its end, its items filtered, its results downloaded, and a cancel clicked.

It drives the distribution's Chromium (`make test` installs it with apt-get where it can); Playwright never
downloads a browser of its own. WATCH_PAGE_SCREENSHOT=<path> saves the finished batch's picture (`make
screenshot` retakes the README's)."""

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, Page, Request, expect, sync_playwright

from tests.e2e.conftest import CONSOLE, KEY_A, RunningStack, chat_line

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's services, which a closed
# network turns into stalls.
ARGUMENTS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECONDS = 1000  # Playwright counts milliseconds
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: make test installs Debian's chromium when root with apt-get"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGUMENTS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, stack: RunningStack) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.base_url, viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on("console", lambda message: "Content Security Policy" in message.text and problems.append(message.text))
    opened.on("dialog", lambda dialog: dialog.accept())  # Cancel asks to confirm
    opened.goto("/watch")
    yield opened
    context.close()
    assert problems == []


def use_key(page: Page, key: str) -> None:
    page.fill("#key", key)
    page.click("#key-form button[type=submit]")


def create(stack: RunningStack, lines: list[dict[str, Any]], **fields: Any) -> str:
    created = stack.call("POST", CONSOLE, body={"endpoint": "/v1/chat/completions", "requests": lines, **fields})
    assert created.status == 201, created.body
    return created.json()["id"]


def open_batch(page: Page, batch_id: str) -> None:
    """Asks the list for the newest batches now, rather than at its next poll, and opens the one named."""
    page.click("#refresh")
    page.locator(f"#batches tr[data-id='{batch_id}'] a").click(timeout=15 * SECONDS)
    expect(page.locator("#batch-id")).to_have_text(batch_id, timeout=15 * SECONDS)


def shown(page: Page, list_id: str) -> dict[str, str]:
    """A definition list of the detail panel, term to value."""
    terms = page.locator(f"#{list_id} dt").all_inner_texts()
    return dict(zip(terms, page.locator(f"#{list_id} dd").all_inner_texts(), strict=True))


def test_a_key_the_api_refuses_is_shown_plainly(page: Page) -> None:
    use_key(page, "not-a-key")

    expect(page.locator("#notice")).to_have_text("401 Unauthorized (check the API key)")
    expect(page.locator("#watch")).to_be_hidden()


def test_a_batch_is_listed_followed_to_completed_filtered_by_status_and_its_results_downloaded(
    page: Page, stack: RunningStack, tmp_path: Path
) -> None:
    lines = [chat_line(f"q{n}", f"question {n} [slow:1]") for n in range(1, 12)]
    lines.insert(6, chat_line("q-refused", "a line the upstream refuses [fault:400]"))
    use_key(page, KEY_A)
    batch_id = create(stack, lines, metadata={"project": "watch page"})

    open_batch(page, batch_id)
    expect(page.locator("#batch-status")).not_to_have_text("")
    first_seen = page.locator("#batch-status").inner_text()
    expect(page.locator("#batch-status")).to_have_text("completed", timeout=60 * SECONDS)

    assert first_seen in ("validating", "in progress")
    assert shown(page, "counts") == {"Completed": "11", "Failed": "1", "Cancelled": "0", "Expired": "0", "Total": "12"}
    usage = {name: int(value) for name, value in shown(page, "usage").items()}
    batch = stack.call("GET", f"{CONSOLE}/{batch_id}").json()
    assert usage["Total tokens"] == batch["usage"]["total_tokens"] > 0
    assert usage["Input tokens"] + usage["Output tokens"] == usage["Total tokens"]
    assert shown(page, "about")["Metadata"] == '{"project":"watch page"}'
    assert page.locator("#progress").evaluate("bar => bar.value") == 1
    expect(page.locator("#progress-text")).to_have_text("12 / 12 (100%)")
    expect(page.locator("#cancel")).to_be_disabled()
    expect(page.locator(f"#batches tr[data-id='{batch_id}'] .status")).to_have_text("completed")
    expect(page.locator("#items tbody tr")).to_have_count(12)
    if os.environ.get("WATCH_PAGE_SCREENSHOT"):
        page.screenshot(path=os.environ["WATCH_PAGE_SCREENSHOT"])

    page.select_option("#item-status", "failed")
    expect(page.locator("#items tbody tr")).to_have_count(1)
    refused = page.locator("#items tbody tr td")
    assert refused.nth(1).inner_text() == "q-refused" and refused.nth(3).inner_text() == "400"
    page.select_option("#item-status", "succeeded")
    expect(page.locator("#items tbody tr")).to_have_count(11)

    with page.expect_download() as download:
        page.click("#download")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    results = [json.loads(line) for line in saved.read_text().splitlines()]
    assert saved.name == f"{batch_id}-results.jsonl"
    assert [line["custom_id"] for line in results] == [line["custom_id"] for line in lines]
    assert results[6]["error"] is not None and results[0]["response"]["status_code"] == 200


def test_cancel_clicked_in_the_page_reaches_the_api(page: Page, stack: RunningStack) -> None:
    batch_id = create(stack, [chat_line(f"s{n}", f"slow {n} [slow:2]") for n in range(300)])
    use_key(page, KEY_A)
    open_batch(page, batch_id)
    expect(page.locator("#batch-status")).to_have_text("in progress", timeout=30 * SECONDS)

    page.click("#cancel")

    expect(page.locator("#batch-status")).to_have_text(re.compile("^cancell(ing|ed)$"))
    assert stack.call("GET", f"{CONSOLE}/{batch_id}").json()["status"] in ("cancelling", "cancelled")
    expect(page.locator("#batch-status")).to_have_text("cancelled", timeout=60 * SECONDS)
    counts = stack.call("GET", f"{CONSOLE}/{batch_id}").json()["request_counts"]
    assert shown(page, "counts")["Cancelled"] == str(counts["cancelled"]) and counts["cancelled"] > 0
    expect(page.locator("#cancel")).to_be_disabled()


def test_what_a_batch_author_wrote_is_shown_as_text_never_run_as_markup(page: Page, stack: RunningStack) -> None:
    markup = '<img src=x onerror="window.injected=1">'
    batch_id = create(stack, [chat_line(markup, "hi")], metadata={"note": "<script>window.injected=2</script>"})
    use_key(page, KEY_A)
    open_batch(page, batch_id)
    expect(page.locator("#batch-status")).to_have_text("completed", timeout=60 * SECONDS)

    expect(page.locator("#items tbody tr td").nth(1)).to_have_text(markup)
    assert "<script>window.injected=2</script>" in shown(page, "about")["Metadata"]
    assert page.locator("#watch img, #watch script").count() == 0
    assert page.evaluate("window.injected") is None


def test_large_results_are_read_from_the_storage_link_without_the_key(page: Page, stack: RunningStack) -> None:
    """Past Lambda's answer size the results route redirects to a signed storage link; the page follows it,
    and the key does not go along. The redirect is played here, to a real link into the stack's storage."""
    storage = next(line.split()[-1] for line in stack.output if line.strip().startswith("AWS (moto)"))
    s3 = boto3.client("s3", endpoint_url=storage, region_name="us-east-1")
    bucket = s3.list_buckets()["Buckets"][0]["Name"]
    s3.put_object(Bucket=bucket, Key="spool/watch-test", Body=b'{"custom_id": "far"}\n')
    link = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "spool/watch-test"})
    batch_id = create(stack, [chat_line("near", "hi")])
    results = f"{stack.base_url}{CONSOLE}/{batch_id}/results"
    page.route(results, lambda route: route.fulfill(status=302, headers={"Location": link}))
    sent: list[Request] = []
    page.on("request", lambda request: request.url in (results, link) and sent.append(request))
    use_key(page, KEY_A)
    open_batch(page, batch_id)

    with page.expect_download() as download:
        page.click("#download")

    assert Path(download.value.path()).read_bytes() == b'{"custom_id": "far"}\n'
    asked, followed = sent
    assert asked.all_headers()["authorization"] == f"Bearer {KEY_A}" and followed.url == link
    assert "authorization" not in followed.all_headers()
