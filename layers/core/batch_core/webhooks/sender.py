"""One webhook request: a POST to the checked address, redirects not followed (they could lead anywhere)."""

from dataclasses import dataclass

import urllib3

from batch_core.webhooks.addresses import Target

USER_AGENT = "batch-api-webhooks/1"
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class Answer:
    """What the receiver answered (`status`), or why no answer came (`error`)."""

    status: int | None = None
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(target: Target, body: str, headers: dict[str, str], timeout_seconds: float) -> Answer:
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    sent = {**headers, "content-type": "application/json", "user-agent": USER_AGENT, "host": host_header}
    timeout = urllib3.Timeout(connect=min(5.0, timeout_seconds), read=timeout_seconds)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            target.address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
            timeout=timeout,
            retries=False,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout, retries=False)
    try:
        with pool:
            answer = pool.urlopen(
                "POST", target.path, body=body.encode(), headers=sent, redirect=False, preload_content=False
            )
            answer.release_conn()
    except urllib3.exceptions.HTTPError as failed:
        return Answer(error=f"{type(failed).__name__}: {failed}"[:MAX_ERROR_CHARS])
    return Answer(status=answer.status)
