"""The watch page: a browser view of a tenant's batches, its script calling the console routes with the key
pasted into it. Its three files load without a key (the template opens these routes), as a navigation sends none;
they are not API routes, so the OpenAPI document leaves them out."""

from pathlib import Path
from urllib.parse import urlsplit

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from runtime import STORES

router = APIGatewayHttpRouter()
WATCH = "/watch"
WEB = Path(__file__).resolve().parent / "web"
PAGE = (WEB / "watch.html").read_text()
SCRIPT = (WEB / "app.js").read_text()
STYLES = (WEB / "app.css").read_text()


def _served(body: str, content_type: str) -> Response[str]:
    # Only the page's own files run and load; it calls this API, and follows a results redirect to storage.
    policy = (
        f"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {_storage_origin()}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
    return Response(200, content_type=f"{content_type}; charset=utf-8", body=body, headers=headers)


def _storage_origin() -> str:
    """Where a large answer's link points: signing one is local (no request), and it names the host as S3 will."""
    link = urlsplit(STORES.blobs.download_url("watch-page"))
    return f"{link.scheme}://{link.netloc}"


@router.get(WATCH, include_in_schema=False)
def handle_watch_page() -> Response[str]:
    return _served(PAGE, "text/html")


@router.get(f"{WATCH}/app.js", include_in_schema=False)
def handle_watch_script() -> Response[str]:
    return _served(SCRIPT, "text/javascript")


@router.get(f"{WATCH}/app.css", include_in_schema=False)
def handle_watch_styles() -> Response[str]:
    return _served(STYLES, "text/css")
