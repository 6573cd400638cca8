"""The in-memory stores offer every method of the real stores, with the same signature, so a rule that runs on
them runs on AWS too (tests/integration/fake_stores holds them to the same answers)."""

import inspect

import pytest

from batch_core.dal.stores import Stores
from tests.unit.fakes import fake_stores

# Transaction items one real store builds for another's write; the fakes make those writes under one lock instead.
STORE_TO_STORE = {("batches", "counters_update"), ("assembly", "block_update"), ("files", "put_item")}


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(method)
        for name, method in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("store", [name for name in Stores.__dataclass_fields__ if name != "clients"])
def test_each_fake_store_has_the_real_stores_methods_and_signatures(store: str) -> None:
    real = Stores.__dataclass_fields__[store].type
    fake = type(getattr(fake_stores(), store))

    expected = {
        name: signature for name, signature in public_methods(real).items() if (store, name) not in STORE_TO_STORE
    }
    offered = public_methods(fake)

    assert {name: str(offered.get(name)) for name in expected} == {name: str(sig) for name, sig in expected.items()}
