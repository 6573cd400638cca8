"""The watch page's three files load without a key, with headers that keep the page to its own script; every API
route still needs the key. The page in a browser: tests/e2e/test_watch_page_in_a_browser.py."""

from urllib.parse import urlsplit

import pytest

from embedded.system import LocalSystem
from tests.integration.conftest import CONSOLE, KEY_A

FILES = {"/watch": "text/html", "/watch/app.js": "text/javascript", "/watch/app.css": "text/css"}


@pytest.mark.parametrize(("path", "content_type"), FILES.items())
def test_the_watch_page_and_its_files_load_without_a_key_with_safe_headers(
    system: LocalSystem, path: str, content_type: str
) -> None:
    answer = system.request("GET", path, key=None)

    policy = answer.headers["content-security-policy"]
    assert answer.status == 200 and answer.headers["content-type"] == f"{content_type}; charset=utf-8"
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-cache"


def test_the_page_may_call_only_this_api_and_the_storage_its_results_links_point_at(system: LocalSystem) -> None:
    policy = system.request("GET", "/watch", key=None).headers["content-security-policy"]

    link = urlsplit(system.stores.blobs.download_url("batches/tenant-a/any"))
    connect = next(part for part in policy.split("; ") if part.startswith("connect-src"))
    assert connect == f"connect-src 'self' {link.scheme}://{link.netloc}"


def test_the_page_runs_only_its_own_script_and_never_writes_api_data_as_html(system: LocalSystem) -> None:
    page = system.request("GET", "/watch", key=None).body.decode()
    script = system.request("GET", "/watch/app.js", key=None).body.decode()

    assert '<script src="watch/app.js" defer></script>' in page and page.count("<script") == 1
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "document.write" not in script
    assert "sessionStorage" in script and "localStorage" not in script


def test_api_routes_without_a_key_are_still_refused_beside_the_open_page(system: LocalSystem) -> None:
    assert system.request("GET", CONSOLE, key=None).status == 401
    assert system.request("GET", "/api/client/v1/docs", key=None).status == 401
    assert system.request("GET", "/v1/batches", key=None).status == 401
    assert system.request("GET", CONSOLE, key=KEY_A).status == 200
    assert system.request("GET", "/watch", key=None).status == 200


def test_only_the_pages_own_paths_and_method_are_open(system: LocalSystem) -> None:
    assert system.request("POST", "/watch", key=None).status == 404
    assert system.request("GET", "/watch/other.js", key=None).status == 404
    assert system.request("GET", "/watchdog", key=None).status == 404
