"""An upstream that answers from a table, with no HTTP: the executor's rules meet every kind of answer at once."""

import json
import threading
from collections.abc import Callable
from typing import Any

from batch_core.upstream import UpstreamReply, UpstreamUnreachable

Answer = UpstreamReply | Exception | Callable[[], UpstreamReply]


def answered(text: str, prompt_tokens: int = 3, completion_tokens: int = 2) -> UpstreamReply:
    """A chat completion answering `text`, with its token usage."""
    body = {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }
    return UpstreamReply(status=200, body=json.dumps(body).encode(), request_id=f"req-{text}", retry_after=None)


def status(code: int, retry_after: float | None = None) -> UpstreamReply:
    body = json.dumps({"error": {"code": f"code_{code}", "message": f"upstream said {code}"}}).encode()
    return UpstreamReply(status=code, body=body, request_id=f"req-{code}", retry_after=retry_after)


def unreachable() -> UpstreamUnreachable:
    return UpstreamUnreachable("ConnectTimeoutError")


class TableUpstream:
    """Answers each line by its prompt (its last message, or its embeddings input): from `table` in turn (the
    last answer repeats; a callable answers when called, an exception is raised), else `answered(prompt)`.
    `prompts` lists what was posted, in order."""

    def __init__(self, table: dict[str, list[Answer]] | None = None):
        self.table = {prompt: list(answers) for prompt, answers in (table or {}).items()}
        self.prompts: list[str] = []
        self._lock = threading.Lock()

    def post(self, endpoint: str, body: dict[str, Any]) -> UpstreamReply:
        prompt = body["messages"][-1]["content"] if "messages" in body else body["input"]
        with self._lock:
            self.prompts.append(prompt)
            answers = self.table.get(prompt)
            answer = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else answered(prompt)
        if isinstance(answer, Exception):
            raise answer
        return answer() if callable(answer) else answer
