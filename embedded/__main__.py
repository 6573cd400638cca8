"""`python -m embedded` (what `make run` starts): the whole system on this machine, in memory."""

import argparse
import os
import secrets
import signal
import sys
import threading
from pathlib import Path

import boto3

from batch_core.auth import check_api_key, check_tenant_id
from batch_core.errors import InvalidInput
from batch_core.settings import Settings
from embedded.rate_limits import parse_limits
from embedded.request_counts import RequestCounts
from embedded.stack import LocalStack, StackOptions


def api_keys_from_environment() -> dict[str, str]:
    """BATCH_API_KEYS="tenant-a=key1,tenant-b=key2", or BATCH_API_KEY for tenant `default`, or a new key."""
    if os.environ.get("BATCH_API_KEYS"):
        pairs = [entry.split("=", 1) for entry in os.environ["BATCH_API_KEYS"].split(",") if entry.strip()]
        if any(len(pair) != 2 for pair in pairs):
            sys.exit("BATCH_API_KEYS must look like 'tenant-a=key1,tenant-b=key2'")
        keys = {key.strip(): tenant.strip() for tenant, key in pairs}
    else:
        keys = {os.environ.get("BATCH_API_KEY") or "sk-local-" + secrets.token_hex(12): "default"}
    try:
        for api_key, tenant_id in keys.items():
            check_api_key(api_key)
            check_tenant_id(tenant_id)
    except InvalidInput as problem:
        sys.exit(f"BATCH_API_KEYS / BATCH_API_KEY: {problem.message}")
    return keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--host", default="127.0.0.1")
    arguments = parser.parse_args()
    settings_names = {name.upper() for name in Settings.model_fields}
    options = StackOptions(
        port=arguments.port,
        host=arguments.host,
        api_keys=api_keys_from_environment(),
        upstream_base_url=os.environ.get("UPSTREAM_BASE_URL") or None,
        upstream_api_key=os.environ.get("UPSTREAM_API_KEY", ""),
        simulator_latency_seconds=float(os.environ.get("SIMULATOR_LATENCY_SECONDS", "0")),
        simulator_fault_rate=float(os.environ.get("SIMULATOR_FAULT_RATE", "0")),
        simulator_rate_limits=parse_limits(os.environ.get("SIMULATOR_RPM"), os.environ.get("SIMULATOR_TPM")),
        environment={name: value for name, value in os.environ.items() if name in settings_names},
        parameters={"ExecutorConcurrency": os.environ["EXECUTOR_CONCURRENCY"]}
        if "EXECUTOR_CONCURRENCY" in os.environ
        else {},
    )
    counts = RequestCounts()
    if os.environ.get("AWS_REQUEST_COUNTS"):
        counts.register(boto3._get_default_session())
    stack = LocalStack(options)
    stack.start()
    announce(stack, options)
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    stopping.wait()
    print("Stopping…", flush=True)
    stack.stop()
    if os.environ.get("AWS_REQUEST_COUNTS"):
        counts.write(Path(os.environ["AWS_REQUEST_COUNTS"]))


def announce(stack: LocalStack, options: StackOptions) -> None:
    print("Serverless Batch API, local stack. State lives in memory and is gone when it stops.")
    print(f"  API        {stack.base_url}  (console: {stack.base_url}/api/client/v1/batches)")
    print(f"  Web page   {stack.base_url}/watch  (paste the API key)")
    for api_key, tenant_id in options.api_keys.items():
        print(f"  API key    {api_key}  (tenant {tenant_id})")
    if stack.simulator:
        print(f"  Upstream   SIMULATOR at {stack.simulator.base_url} (not a model: deterministic replies;")
        print("             inject faults with markers such as [fault:429x2] in a message)")
    else:
        print(f"  Upstream   {options.upstream_base_url}")
    print(f"  AWS (moto) {stack.aws_endpoint}")
    print(f"  sam local  --env-vars {stack.sam_env_file}")
    if stack.system and stack.system.settings.webhook_allow_loopback:
        print("  Webhooks   may call receivers on loopback (127.0.0.1) here; a deployed stack refuses them")
    print(f"Ready on {stack.base_url}", flush=True)


if __name__ == "__main__":
    main()
