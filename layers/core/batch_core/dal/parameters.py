from typing import Any

from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from batch_core.dal.clients import AwsClients
from batch_core.errors import StorageError

_MAX_AGE_SECONDS = 300


class ParameterStore:
    """SSM parameters holding JSON, read through Powertools Parameters, cached for five minutes: a changed
    parameter reaches every container within that time, without a deploy."""

    def __init__(self, aws: AwsClients):
        self._aws = aws
        self._provider: SSMProvider | None = None

    def json(self, name: str) -> Any:
        if self._provider is None:
            self._provider = SSMProvider(boto3_client=self._aws.client("ssm"))
        try:
            return self._provider.get(name, transform="json", max_age=_MAX_AGE_SECONDS)
        except TransformParameterError as exc:
            raise ValueError(f"the parameter {name} is not JSON: {exc}") from exc
        except GetParameterError as exc:
            raise StorageError(f"could not read the parameter {name}") from exc
