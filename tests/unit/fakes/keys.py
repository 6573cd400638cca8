"""API keys and secrets in memory."""

import time
from typing import Any

from batch_core.dal.api_keys_db import hash_api_key
from batch_core.errors import StorageError


class FakeApiKeyStore:
    """Same methods and answers as ApiKeyStore: keys are kept by their hash, a revoked key names no tenant."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Any]] = {}

    def put(self, api_key: str, tenant_id: str) -> str:
        key_hash = hash_api_key(api_key)
        self.records[key_hash] = {
            "key_hash": key_hash,
            "tenant_id": tenant_id,
            "active": True,
            "created_at": int(time.time()),
        }
        return key_hash

    def find_tenant(self, api_key: str) -> str | None:
        found = self.records.get(hash_api_key(api_key))
        return found["tenant_id"] if found and found["active"] else None

    def list(self) -> list[dict[str, Any]]:
        return [dict(record) for record in sorted(self.records.values(), key=lambda r: (r["tenant_id"], r["key_hash"]))]

    def revoke(self, key_hash: str) -> bool:
        if key_hash not in self.records:
            return False
        self.records[key_hash]["active"] = False
        return True


class FakeSecretStore:
    def __init__(self, secrets: dict[str, str] | None = None):
        self.secrets = dict(secrets or {})

    def get(self, secret_id: str) -> str:
        if secret_id not in self.secrets:
            raise StorageError(f"could not read the secret {secret_id}")
        return self.secrets[secret_id]
