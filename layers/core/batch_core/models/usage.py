from pydantic import BaseModel


class Usage(BaseModel):
    """Token usage, of one line or summed over a batch."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
