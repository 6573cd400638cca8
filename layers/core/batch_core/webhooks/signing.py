"""Standard Webhooks signatures (https://www.standardwebhooks.com), the scheme OpenAI's webhooks use, so
`openai`'s `client.webhooks.unwrap` and any Standard Webhooks library verify a delivery."""

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(secret: str, message_id: str, body: str, now: float) -> dict[str, str]:
    """The headers of a delivery: its id (the same on every retry, for the receiver to drop repeats), when it
    was sent, and the signature of both with the body."""
    sent_at = datetime.fromtimestamp(int(now), tz=UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": Webhook(secret).sign(message_id, sent_at, body),
    }
