from batch_core.models.bounds import echo


class BatchError(Exception):
    """Base of the errors the core raises on purpose; handlers map them to HTTP answers."""


class InvalidInput(BatchError):
    """The request or an input line is wrong; the message names the line and the field."""

    def __init__(self, message: str, *, line: int | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.param = param


class NotFound(BatchError):
    """What the caller named does not exist, or belongs to another tenant."""


class BatchNotFound(NotFound):
    def __init__(self, batch_id: str):
        super().__init__(f"Batch '{echo(batch_id)}' not found")


class FileNotFound(NotFound):
    def __init__(self, file_id: str):
        super().__init__(f"No file found with id '{echo(file_id)}'")


class ObjectNotFound(NotFound):
    def __init__(self, bucket: str, key: str):
        super().__init__(f"Object '{echo(key)}' not found in bucket '{echo(bucket)}'")


class BucketNotFound(NotFound):
    def __init__(self, bucket: str):
        super().__init__(f"Bucket '{echo(bucket)}' not found")


class UploadNotFound(NotFound):
    def __init__(self, upload_id: str):
        super().__init__(f"No upload found with id '{echo(upload_id)}'")


class InvalidTransition(BatchError):
    """The batch is not in a status that allows the requested change."""


class StorageError(BatchError):
    """An AWS call failed in a way the caller cannot fix."""
