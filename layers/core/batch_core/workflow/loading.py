from batch_core.dal.stores import Stores
from batch_core.errors import BatchNotFound
from batch_core.models.batch import Batch


def load_batch(stores: Stores, batch_id: str) -> Batch:
    """The batch as last written (a strongly consistent read): the workflow decides on no stale copy."""
    batch = stores.batches.get(batch_id, consistent=True)
    if batch is None:
        raise BatchNotFound(batch_id)
    return batch
