import re

from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput

# No '#' (the key schema's separator, so `x#FILES` cannot reach tenant x's records) and no '/' (S3 key prefixes).
TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# One token of visible ASCII: what can travel after `Bearer ` in a header.
API_KEY = re.compile(r"[!-~]{1,256}")
# Exactly as clients send it: one form per key, so API Gateway caches one authorization per key.
BEARER = re.compile(f"Bearer ({API_KEY.pattern})")


def authenticate(stores: Stores, authorization: str | None) -> str | None:
    """The tenant of an exact `Bearer <api key>` header, or None for any other form or an unknown key."""
    match = BEARER.fullmatch(authorization or "")
    tenant_id = stores.api_keys.find_tenant(match.group(1)) if match else None
    # A key stored by hand around the rule still cannot reach another tenant's records.
    return tenant_id if tenant_id is not None and TENANT_ID.fullmatch(tenant_id) else None


def check_tenant_id(tenant_id: str) -> str:
    if not TENANT_ID.fullmatch(tenant_id):
        raise InvalidInput(
            f"tenant id {tenant_id!r} is not valid: use 1 to 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            param="tenant_id",
        )
    return tenant_id


def check_api_key(api_key: str) -> str:
    if not API_KEY.fullmatch(api_key):
        raise InvalidInput("an API key must be 1 to 256 visible ASCII characters, without spaces", param="api_key")
    return api_key


def add_api_key(stores: Stores, api_key: str, tenant_id: str) -> str:
    """Stores a key for a tenant once both are valid; returns the key's id (its hash)."""
    return stores.api_keys.put(check_api_key(api_key), check_tenant_id(tenant_id))
