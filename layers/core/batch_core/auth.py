from batch_core.dal.api_keys_db import find_tenant_in_db


def authenticate(authorization: str | None) -> str | None:
    """The tenant of a `Bearer <api key>` header, or None for a missing, malformed or unknown key."""
    scheme, _, api_key = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not api_key.strip():
        return None
    return find_tenant_in_db(api_key.strip())
