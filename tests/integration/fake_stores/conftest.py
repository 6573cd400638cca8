"""The unit tier's in-memory stores answer as the real stores do on moto (tables, queues and bucket from
template.yaml): each scenario here runs against both and asserts the same exact answers, so the fakes cannot drift.
Moto runs with the local stack's patches, without which its conditional writes are not atomic across threads."""

from collections.abc import Iterator

import pytest
from moto import mock_aws

from batch_core.dal.stores import Stores
from batch_core.settings import Settings
from embedded.lambdas import LocalLambdas
from embedded.moto_patches import moto_patches
from embedded.template import Stack, deploy
from tests.unit.fakes import fake_stores


@pytest.fixture(params=["fake", "moto"])
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    if request.param == "fake":
        yield fake_stores()
        return
    no_functions = LocalLambdas(Stack(name="fake-stores", region="us-east-1", template={}, parameters={}))
    with moto_patches(no_functions), mock_aws():
        stack = deploy()
        settings = Settings(
            table_name=stack.ref("BatchTable"),
            bucket_name=stack.ref("BatchBucket"),
            work_queue_url=stack.ref("WorkQueue"),
            state_machine_arn=stack.ref("BatchStateMachine"),
            webhook_queue_url=stack.ref("WebhookQueue"),
            file_check_queue_url=stack.ref("FileCheckQueue"),
        )
        yield Stores.from_settings(settings)
