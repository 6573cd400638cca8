from dataclasses import dataclass
from typing import Self

from batch_core.dal.api_keys_db import ApiKeyStore
from batch_core.dal.assembly_db import AssemblyStore
from batch_core.dal.batches_db import BatchStore
from batch_core.dal.clients import AwsClients
from batch_core.dal.events import BatchEvents
from batch_core.dal.file_check_queue import FileCheckQueue
from batch_core.dal.files_db import FileStore
from batch_core.dal.limits_db import LimitStore
from batch_core.dal.objects_db import ObjectStore
from batch_core.dal.parameters import ParameterStore
from batch_core.dal.queue import WorkQueue
from batch_core.dal.quotas_db import QuotaStore
from batch_core.dal.secret_store import SecretStore
from batch_core.dal.storage import BlobStore
from batch_core.dal.units_db import UnitStore
from batch_core.dal.uploads_db import UploadStore
from batch_core.dal.webhook_queue import WebhookQueue
from batch_core.dal.webhooks_db import WebhookStore
from batch_core.dal.workflow import Workflow
from batch_core.settings import Settings


@dataclass(frozen=True)
class Stores:
    """Every store the rules use, built once per container (a handler module's import) and passed in."""

    batches: BatchStore
    units: UnitStore
    assembly: AssemblyStore
    files: FileStore
    file_checks: FileCheckQueue
    objects: ObjectStore
    uploads: UploadStore
    api_keys: ApiKeyStore
    blobs: BlobStore
    queue: WorkQueue
    workflow: Workflow
    events: BatchEvents
    secrets: SecretStore
    parameters: ParameterStore
    limits: LimitStore
    quotas: QuotaStore
    webhooks: WebhookStore
    webhook_queue: WebhookQueue
    # The clients the stores share, for what reads the table through a library of its own (idempotency).
    clients: AwsClients

    @classmethod
    def from_settings(cls, settings: Settings, clients: AwsClients | None = None) -> Self:
        """The stores of the resources `settings` names; their AWS clients are made on first use."""
        aws = clients or AwsClients()
        batches = BatchStore(settings, aws)
        assembly = AssemblyStore(settings, aws)
        files = FileStore(settings, aws)
        return cls(
            batches=batches,
            units=UnitStore(aws, batches, assembly),
            assembly=assembly,
            files=files,
            file_checks=FileCheckQueue(settings, aws),
            objects=ObjectStore(settings, aws),
            uploads=UploadStore(aws, files),
            api_keys=ApiKeyStore(settings, aws),
            blobs=BlobStore(settings, aws),
            queue=WorkQueue(settings, aws),
            workflow=Workflow(settings, aws),
            events=BatchEvents(settings, aws),
            secrets=SecretStore(aws),
            parameters=ParameterStore(aws),
            limits=LimitStore(settings, aws),
            quotas=QuotaStore(settings, aws),
            webhooks=WebhookStore(settings, aws),
            webhook_queue=WebhookQueue(settings, aws),
            clients=aws,
        )
