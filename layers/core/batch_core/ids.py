"""Ids that sort by creation time, so listing newest first is a key order."""

import secrets
import time


def new_id(prefix: str) -> str:
    """`prefix`, then the milliseconds since the epoch in hex, then randomness: e.g. `batch_0190…`."""
    return f"{prefix}{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"
