"""In-memory stores with the real stores' methods and answers, so the unit tier runs the rules without AWS.

tests/integration/test_fake_stores.py runs the same scenarios against these and the real stores on moto."""

from typing import Any

from batch_core.dal.stores import Stores
from batch_core.settings import Settings
from tests.unit.fakes.assembly import FakeAssemblyStore
from tests.unit.fakes.batches import FakeBatchStore
from tests.unit.fakes.blobs import FakeBlobStore, NoAws
from tests.unit.fakes.files import FakeFileCheckQueue, FakeFileStore, FakeUploadStore
from tests.unit.fakes.keys import FakeApiKeyStore, FakeSecretStore
from tests.unit.fakes.limits import FakeLimitStore, FakeParameterStore
from tests.unit.fakes.objects import FakeObjectStore
from tests.unit.fakes.queue import FakeBatchEvents, FakeWorkflow, FakeWorkQueue
from tests.unit.fakes.quotas import FakeQuotaStore
from tests.unit.fakes.units import FakeUnitStore
from tests.unit.fakes.webhooks import FakeWebhookQueue, FakeWebhookStore


def fake_stores(settings: Settings | None = None, secrets: dict[str, str] | None = None) -> Stores:
    """A fresh set of in-memory stores; their fake-only records (`queue.sent`, `workflow.signals`, …) are
    reached through the same attributes the rules use."""
    batches = FakeBatchStore()
    assembly = FakeAssemblyStore(batches)
    files = FakeFileStore()
    fakes: dict[str, Any] = {
        "batches": batches,
        "units": FakeUnitStore(batches, assembly),
        "assembly": assembly,
        "files": files,
        "file_checks": FakeFileCheckQueue(),
        "objects": FakeObjectStore(),
        "uploads": FakeUploadStore(files),
        "api_keys": FakeApiKeyStore(),
        "blobs": FakeBlobStore(settings or Settings()),
        "queue": FakeWorkQueue(),
        "workflow": FakeWorkflow(),
        "events": FakeBatchEvents(),
        "secrets": FakeSecretStore(secrets),
        "parameters": FakeParameterStore(),
        "limits": FakeLimitStore(),
        "quotas": FakeQuotaStore(),
        "webhooks": FakeWebhookStore(),
        "webhook_queue": FakeWebhookQueue(),
        "clients": NoAws(),
    }
    return Stores(**fakes)
