from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode

from batch_core.models.quota import MAX_BATCHES_IN_PROGRESS


class Settings(BaseSettings):
    """Everything a function reads from its environment, in one place."""

    table_name: str = "batch-table"
    bucket_name: str = "batch-bucket"
    work_queue_url: str = ""
    state_machine_arn: str = ""
    upstream_base_url: str = "https://api.openai.com/v1"
    upstream_api_key_secret: str = ""
    # The routing table of upstreams per model (see batch_core/routing.py): JSON or a file path, or in AWS
    # the name of the SSM parameter holding it.
    upstreams: str = ""
    upstreams_parameter: str = ""
    upstream_timeout_seconds: float = 60.0
    min_completion_window_seconds: int = Field(default=60, ge=1)
    max_lines_per_batch: int = Field(default=100_000, ge=1, le=1_000_000)
    # The largest input a batch made from a bucket object may have: a million lines of 4 KB.
    max_input_bytes: int = Field(default=4 * 1024**3, ge=1, le=8 * 1024**3)
    work_unit_lines: int = Field(default=50, ge=1, le=500)
    line_concurrency: int = Field(default=50, ge=1)
    max_line_attempts: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    lease_seconds: int = Field(default=180, ge=1)
    executor_timeout_seconds: int = Field(default=150, ge=1)
    save_margin_seconds: float = Field(default=10.0, ge=0)
    watchdog_seconds: int = Field(default=60, ge=1)
    retention_days: int = Field(default=30, ge=1)
    event_bus_name: str = "default"
    event_source: str = "batch-api"
    webhook_queue_url: str = ""
    file_check_queue_url: str = ""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # The waits before each retry of a failed delivery: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 6 h (a day in all);
    # in the environment, comma-separated.
    webhook_retry_seconds: Annotated[list[int], NoDecode] = Field(default=[5, 300, 1800, 7200, 18000, 36000, 21600])
    max_webhooks_per_tenant: int = Field(default=20, ge=1)
    # A tenant's quotas unless `batchapi keys quota` sets its own: batches in progress, and the lines and
    # estimated tokens they hold until they end.
    quota_batches_in_progress: int = Field(default=500, ge=0, le=MAX_BATCHES_IN_PROGRESS)
    quota_enqueued_lines: int = Field(default=10_000_000, ge=0)
    quota_enqueued_tokens: int = Field(default=10_000_000_000, ge=0)
    # Only the local stack sets it: in AWS a receiver on loopback would be the function's own host.
    webhook_allow_loopback: bool = False

    @field_validator("webhook_retry_seconds", mode="before")
    @classmethod
    def comma_separated(cls, waits: object) -> object:
        return [wait.strip() for wait in waits.split(",") if wait.strip()] if isinstance(waits, str) else waits

    def batch_ttl(self, expires_at: int) -> int:
        """When a batch's records expire: the retention period after its completion window ends."""
        return expires_at + self.retention_days * 86400

    @model_validator(mode="after")
    def attempts_can_finish(self) -> Self:
        """An attempt must be able to run a line and save it before the executor's timeout, and keep its
        unit meanwhile; otherwise every attempt would be lost."""
        if self.upstream_timeout_seconds + self.save_margin_seconds > self.executor_timeout_seconds:
            raise ValueError(
                f"UPSTREAM_TIMEOUT_SECONDS ({self.upstream_timeout_seconds:g}) plus SAVE_MARGIN_SECONDS "
                f"({self.save_margin_seconds:g}) must fit in EXECUTOR_TIMEOUT_SECONDS ({self.executor_timeout_seconds})"
            )
        if self.lease_seconds <= self.executor_timeout_seconds:
            raise ValueError(
                f"LEASE_SECONDS ({self.lease_seconds}) must outlast EXECUTOR_TIMEOUT_SECONDS "
                f"({self.executor_timeout_seconds}), or a running attempt would lose its unit"
            )
        return self
