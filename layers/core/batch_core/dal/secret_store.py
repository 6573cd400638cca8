from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from batch_core.dal.clients import AwsClients
from batch_core.errors import StorageError


class SecretStore:
    """Secrets Manager, read through Powertools Parameters (which caches what it read for a while)."""

    def __init__(self, aws: AwsClients):
        self._aws = aws

    def get(self, secret_id: str) -> str:
        # Our shared client, not the provider's own session: one less set of service models to load cold.
        provider = SecretsProvider(boto3_client=self._aws.client("secretsmanager"))
        try:
            return str(provider.get(secret_id))
        except GetParameterError as exc:
            raise StorageError(f"could not read the secret {secret_id}") from exc
