"""The request bodies each endpoint accepts, typed as OpenAI documents them.

They only validate: the client's own body is what goes upstream, so no default is ever added to it.
Strict, so `"stream": "true"` is a string and not a boolean; an unknown key is refused rather than
forwarded to an upstream that would fail the line for it.
"""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

Number = float
OpenObject = dict[str, Any]

# A problem on these fields keeps the message it always had, whatever pydantic calls it.
_FIXED_PROBLEMS = {
    ("model",): "is required and must be a non-empty string",
    ("messages",): "is required and must be a non-empty array",
    ("input",): "is required and must be a non-empty string or array",
    ("prompt",): "is required and must be a non-empty string or array",
}


def _non_empty(value: Any) -> Any:
    if not value:
        raise ValueError("must not be empty")
    return value


def _never_streamed(value: bool | None) -> bool | None:
    if value:
        raise ValueError("must not be true: batch lines cannot stream")
    return value


# A line's text or list of inputs, which may not be empty; and `stream`, which may not be true.
Content = Annotated[str | list[Any], AfterValidator(_non_empty)]
NotStreamed = Annotated[bool | None, AfterValidator(_never_streamed)]


class _Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    model: str
    user: str | None = None

    @field_validator("model")
    @classmethod
    def _named_model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError(_FIXED_PROBLEMS[("model",)])
        return value


class ChatMessage(BaseModel):
    """A message's content takes many shapes (text, parts, tool calls); its role is what every shape has."""

    model_config = ConfigDict(strict=True, extra="allow")

    role: str


class ChatCompletionBody(_Body):
    stream: NotStreamed = None
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


class EmbeddingBody(_Body):
    input: Content
    dimensions: int | None = None
    encoding_format: Literal["float", "base64"] | None = None


class ResponseBody(_Body):
    """`/v1/responses`: `input` is text or a list of input items (messages, tool outputs, …)."""

    input: Annotated[str | list[OpenObject], AfterValidator(_non_empty)]
    background: bool | None = None
    conversation: str | OpenObject | None = None
    include: list[str] | None = None
    instructions: str | None = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    metadata: dict[str, str] | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    prompt: OpenObject | None = None
    prompt_cache_key: str | None = None
    reasoning: OpenObject | None = None
    safety_identifier: str | None = None
    service_tier: str | None = None
    store: bool | None = None
    stream: NotStreamed = None
    stream_options: OpenObject | None = None
    temperature: Number | None = None
    text: OpenObject | None = None
    tool_choice: str | OpenObject | None = None
    tools: list[OpenObject] | None = None
    top_logprobs: int | None = None
    top_p: Number | None = None
    truncation: str | None = None

    @field_validator("background")
    @classmethod
    def _not_background(cls, value: bool | None) -> bool | None:
        if value:
            raise ValueError("must not be true: a batch line already runs in the background")
        return value


class CompletionBody(_Body):
    """`/v1/completions`, the legacy text completions."""

    prompt: Content
    best_of: int | None = None
    echo: bool | None = None
    frequency_penalty: Number | None = None
    logit_bias: dict[str, Number] | None = None
    logprobs: int | None = None
    max_tokens: int | None = None
    n: int | None = None
    presence_penalty: Number | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: NotStreamed = None
    stream_options: OpenObject | None = None
    suffix: str | None = None
    temperature: Number | None = None
    top_p: Number | None = None


class ModerationBody(_Body):
    """`/v1/moderations`: `input` is text, a list of texts, or a list of text and image parts."""

    input: Content


BODIES: dict[str, type[_Body]] = {
    "/v1/chat/completions": ChatCompletionBody,
    "/v1/embeddings": EmbeddingBody,
    "/v1/responses": ResponseBody,
    "/v1/completions": CompletionBody,
    "/v1/moderations": ModerationBody,
}


def body_problem(endpoint: str, body: dict[str, Any]) -> tuple[tuple[Any, ...], str] | None:
    """The first field of the body at fault (its path in the body) and what is wrong with it, or None."""
    try:
        BODIES[endpoint].model_validate(body)
    except ValidationError as invalid:
        return _first_problem(invalid, body, endpoint)
    return None


_TYPE_PROBLEMS = {
    "missing": "is required",
    "string_type": "must be a string",
    "bool_type": "must be a boolean",
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
}


def _first_problem(invalid: ValidationError, body: dict[str, Any], endpoint: str) -> tuple[tuple[Any, ...], str]:
    """The first field at fault and what is wrong with it; a union's alternatives join into one problem."""
    errors = invalid.errors()
    field = _field_of(errors[0], body)
    if errors[0]["type"] == "extra_forbidden":
        return field, f"is not a parameter of {endpoint}"
    if field in _FIXED_PROBLEMS:
        return field, _FIXED_PROBLEMS[field]
    if field[:1] == ("messages",) and len(field) == 2:
        return ("messages",), "must hold only objects"
    problems = list(dict.fromkeys(_problem(error) for error in errors if _field_of(error, body) == field))
    if all(problem.startswith("must be ") for problem in problems):
        return field, "must be " + " or ".join(problem.removeprefix("must be ") for problem in problems)
    return field, problems[0]


def _field_of(error: Any, body: Any) -> tuple[Any, ...]:
    """The part of pydantic's location that is a path in the body (it also names union alternatives)."""
    field: list[Any] = []
    value = body
    for part in error["loc"]:
        if _holds(value, part):
            value = value[part]
        elif error["type"] in ("missing", "extra_forbidden") and part == error["loc"][-1]:
            value = None
        else:
            break
        field.append(part)
    return tuple(field)


def _holds(value: Any, part: Any) -> bool:
    if isinstance(value, dict):
        return part in value
    return isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)


def _problem(error: Any) -> str:
    if error["type"] in _TYPE_PROBLEMS:
        return _TYPE_PROBLEMS[error["type"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be")
