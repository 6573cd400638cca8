"""The env-vars file `sam local start-api` and `sam local invoke` read to run the built functions (in Docker)
against the running local stack's AWS: every function's environment as the local stack deployed it, and the
endpoint of its moto server as a container reaches the host."""

import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from embedded.template import Stack

# Docker Desktop names the host so; on Linux, pass `--add-host host.docker.internal:host-gateway` to sam local.
CONTAINER_HOST = "host.docker.internal"


def write_env_file(stack: Stack, aws_endpoint: str, path: Path) -> Path:
    endpoint = _as_seen_from_a_container(aws_endpoint)
    shared = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": stack.region,
    }
    functions = {
        spec.logical_id: {name: _as_seen_from_a_container(value) for name, value in spec.environment.items()}
        for spec in stack.functions.values()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"Parameters": shared, **functions}, indent=2, sort_keys=True) + "\n")
    return path


def _as_seen_from_a_container(value: str) -> str:
    """A loopback URL (the moto server, the simulator) pointed at the host instead."""
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost"):
        netloc = f"{CONTAINER_HOST}:{parts.port}" if parts.port else CONTAINER_HOST
        return urlunsplit(parts._replace(netloc=netloc))
    return value
