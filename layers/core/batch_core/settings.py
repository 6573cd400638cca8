from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    """Everything a function reads from its environment, in one place."""

    table_name: str = "batch-table"
    bucket_name: str = "batch-bucket"
    work_queue_url: str = ""
    state_machine_arn: str = ""
    upstream_base_url: str = "https://api.openai.com/v1"
    upstream_api_key_secret: str = ""
    upstream_timeout_seconds: float = 60.0
    min_completion_window_seconds: int = Field(default=60, ge=1)
    max_lines_per_batch: int = Field(default=50_000, ge=1)
    work_unit_lines: int = Field(default=50, ge=1, le=500)
    line_concurrency: int = Field(default=50, ge=1)
    max_line_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    lease_seconds: int = Field(default=180, ge=1)
    watchdog_seconds: int = Field(default=60, ge=1)
    retention_days: int = Field(default=30, ge=1)


@lru_cache
def get_settings() -> Settings:
    return Settings()
