"""The request bodies each endpoint accepts, typed as OpenAI documents them.

They only validate: the client's own body is what goes upstream, so no default is ever added to it.
Strict, so `"stream": "true"` is a string and not a boolean; an unknown key is refused rather than
forwarded to an upstream that would fail the line for it.
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Number = float
OpenObject = dict[str, Any]


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    model: str
    user: str | None = None

    @field_validator("model")
    @classmethod
    def _named_model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is required and must be a non-empty string")
        return value


class ChatMessage(BaseModel):
    """A message's content takes many shapes (text, parts, tool calls); its role is what every shape has."""

    model_config = ConfigDict(strict=True, extra="allow")

    role: str


class ChatCompletionBody(_Body):
    stream: bool | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    audio: OpenObject | None = None
    frequency_penalty: Number | None = None
    function_call: str | OpenObject | None = None
    functions: list[OpenObject] | None = None
    logit_bias: dict[str, Number] | None = None
    logprobs: bool | None = None
    max_completion_tokens: int | None = None
    max_tokens: int | None = None
    metadata: dict[str, str] | None = None
    modalities: list[str] | None = None
    n: int | None = None
    parallel_tool_calls: bool | None = None
    prediction: OpenObject | None = None
    presence_penalty: Number | None = None
    prompt_cache_key: str | None = None
    reasoning_effort: str | None = None
    response_format: OpenObject | None = None
    safety_identifier: str | None = None
    seed: int | None = None
    service_tier: str | None = None
    stop: str | list[str] | None = None
    store: bool | None = None
    stream_options: OpenObject | None = None
    temperature: Number | None = None
    tool_choice: str | OpenObject | None = None
    tools: list[OpenObject] | None = None
    top_logprobs: int | None = None
    top_p: Number | None = None
    verbosity: str | None = None
    web_search_options: OpenObject | None = None

    @field_validator("stream")
    @classmethod
    def _not_streamed(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError("must not be true: batch lines cannot stream")
        return value


class EmbeddingBody(_Body):
    input: str | list[Any]
    dimensions: int | None = None
    encoding_format: Literal["float", "base64"] | None = None

    @field_validator("input")
    @classmethod
    def _some_input(cls, value: str | list[Any]) -> str | list[Any]:
        if not value:
            raise ValueError("is required and must be a non-empty string or array")
        return value


BODIES: dict[str, type[_Body]] = {"/v1/chat/completions": ChatCompletionBody, "/v1/embeddings": EmbeddingBody}
