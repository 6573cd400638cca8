"""`batchapi keys`: API keys and tenants' quotas in a deployment's table (AWS credentials; BATCH_TABLE_NAME
or --table)."""

import argparse
import os
import secrets
import time
from typing import Any

from pydantic import ValidationError

from batch_core.auth import add_api_key, check_tenant_id
from batch_core.dal.api_keys_db import hash_api_key
from batch_core.dal.stores import Stores
from batch_core.errors import InvalidInput
from batch_core.models.quota import QuotaName, TenantQuota
from batch_core.quotas import limits_of, set_limits
from batch_core.settings import Settings
from batchapi.errors import UsageError


def add_key_commands(commands: Any) -> None:
    keys = commands.add_parser("keys", help="create, list or revoke API keys in the deployed table")
    keys.add_argument("--table", default=os.environ.get("BATCH_TABLE_NAME"), help="the stack's TableName output")
    actions = keys.add_subparsers(required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a key for a tenant and print it once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--key", dest="new_key", help="use this key instead of a generated one")
    create.set_defaults(run=create_key)
    actions.add_parser("list", help="list keys (their hash prefixes) by tenant").set_defaults(run=list_keys)
    revoke = actions.add_parser("revoke", help="revoke a key, given the key or its listed id")
    revoke.add_argument("key_or_id")
    revoke.set_defaults(run=revoke_key)
    quota = actions.add_parser(
        "quota", help="show a tenant's quotas and what is in use; set them with the options ('default' resets one)"
    )
    quota.add_argument("--tenant", required=True)
    for option, name in QUOTA_OPTIONS.items():
        quota.add_argument(option, dest=name, type=_quota_value, metavar="N|default")
    quota.set_defaults(run=quota_command)


QUOTA_OPTIONS = {"--batches": QuotaName.BATCHES, "--lines": QuotaName.LINES, "--tokens": QuotaName.TOKENS}
_DEFAULT = "default"


def _quota_value(text: str) -> int | str:
    if text == _DEFAULT:
        return text
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number nor 'default'")
    return int(text)


def _stores(arguments: argparse.Namespace) -> Stores:
    """The stores of the deployment's table, with AWS credentials and region from boto3's usual sources."""
    if not arguments.table:
        raise UsageError("no table: pass --table or set BATCH_TABLE_NAME (the stack's TableName output)")
    return Stores.from_settings(Settings(table_name=arguments.table))


def create_key(arguments: argparse.Namespace) -> int:
    stores = _stores(arguments)
    api_key = arguments.new_key or "sk-batch-" + secrets.token_urlsafe(24)
    try:
        key_hash = add_api_key(stores, api_key, arguments.tenant)
    except InvalidInput as problem:
        raise UsageError(problem.message) from problem
    print(api_key)
    print(f"id {key_hash[:12]} for tenant {arguments.tenant}; the key is not stored and is shown only now")
    return 0


def list_keys(arguments: argparse.Namespace) -> int:
    for key in _stores(arguments).api_keys.list():
        state = "active" if key["active"] else "revoked"
        print(f"{key['key_hash'][:12]}  {key['tenant_id']:<20} {state}")
    return 0


def revoke_key(arguments: argparse.Namespace) -> int:
    api_keys = _stores(arguments).api_keys
    if api_keys.revoke(hash_api_key(arguments.key_or_id)):
        print("revoked")
        return 0
    matches = [key["key_hash"] for key in api_keys.list() if key["key_hash"].startswith(arguments.key_or_id)]
    if len(matches) != 1:
        raise UsageError(f"no single key matches '{arguments.key_or_id}' ({len(matches)} found)")
    api_keys.revoke(matches[0])
    print("revoked")
    return 0


def quota_command(arguments: argparse.Namespace) -> int:
    """Sets what the options name, then prints each quota: its limit, whose it is, and what is in use."""
    stores, settings = _stores(arguments), Settings()
    try:
        tenant_id = check_tenant_id(arguments.tenant)
        changes = {name: getattr(arguments, name) for name in QuotaName if getattr(arguments, name) is not None}
        if changes:
            current = stores.quotas.get(tenant_id).limits.model_dump()
            wanted = {name: None if amount == _DEFAULT else amount for name, amount in changes.items()}
            set_limits(stores, tenant_id, TenantQuota.model_validate({**current, **wanted}))
    except InvalidInput as problem:
        raise UsageError(problem.message) from problem
    except ValidationError as problem:
        raise UsageError("; ".join(f"{error['loc'][0]}: {error['msg']}" for error in problem.errors())) from problem
    state = stores.quotas.get(tenant_id)
    limits, use = limits_of(settings, state), state.use(time.time())
    for name in QuotaName:
        whose = "default" if getattr(state.limits, name) is None else "set"
        print(f"{name:<20} {getattr(use, name):>16,} in use of {getattr(limits, name):>16,} ({whose})")
    return 0
