"""`make run`: moto in server mode as the embedded AWS, the system wired to it, an HTTP front,
queue pollers on threads, and an upstream (the simulator unless UPSTREAM_BASE_URL is set)."""

import json
import logging
import os
import secrets
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from moto.server import ThreadedMotoServer

from embedded.front import HttpFront
from embedded.function_processes import OWN_PROCESS_FUNCTIONS
from embedded.pollers import QueuePoller
from embedded.ports import free_port
from embedded.rate_limits import ModelLimit
from embedded.sam_local import write_env_file
from embedded.simulator import Simulator
from embedded.system import LocalSystem
from embedded.template import ROOT

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@dataclass
class StackOptions:
    port: int = 3000
    host: str = "127.0.0.1"
    api_keys: dict[str, str] = field(default_factory=dict)
    upstream_base_url: str | None = None
    upstream_api_key: str = ""
    simulator_latency_seconds: float = 0.0
    simulator_fault_rate: float = 0.0
    simulator_rate_limits: dict[str, ModelLimit] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


class LocalStack:
    def __init__(self, options: StackOptions):
        self.options = options
        self.simulator: Simulator | None = None
        self._moto: ThreadedMotoServer | None = None
        self._front: HttpFront | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.system: LocalSystem | None = None
        self.sam_env_file: Path | None = None

    def start(self) -> None:
        aws_port = free_port()
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{aws_port}",
                "MOTO_PORT": str(aws_port),
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": "us-east-1",
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
            }
        )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # MOTO_HOST=0.0.0.0 lets `sam local` containers reach it (embedded/sam_local.py).
        self._moto = ThreadedMotoServer(
            ip_address=os.environ.get("MOTO_HOST", "127.0.0.1"), port=aws_port, verbose=False
        )
        self._moto.start()
        _configure_moto(aws_port)
        upstream_url, upstream_key = self._upstream()
        parameters = {
            "UpstreamBaseUrl": upstream_url,
            "UpstreamApiKey": upstream_key or "none",
            **self.options.parameters,
        }
        self.system = LocalSystem.start(
            parameters, self.options.environment, os.environ.__setitem__, own_process=OWN_PROCESS_FUNCTIONS
        )
        for api_key, tenant_id in self.options.api_keys.items():
            self.system.add_api_key(api_key, tenant_id)
        self.sam_env_file = write_env_file(self.system.stack, self.aws_endpoint, _sam_env_file())
        self._front = HttpFront(self.system.gateway, self.options.host, self.options.port)
        self._front.start()
        for poller in self.system.pollers:
            self._start_pollers(poller)
        watcher = threading.Thread(target=self._watch_executions, name="execution-events", daemon=True)
        watcher.start()
        self._threads.append(watcher)

    @property
    def base_url(self) -> str:
        assert self._front is not None
        return self._front.base_url

    @property
    def aws_endpoint(self) -> str:
        return os.environ["AWS_ENDPOINT_URL"]

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._front:
            self._front.stop()
        if self.system:
            self.system.close()
        if self.simulator:
            self.simulator.stop()
        if self._moto:
            self._moto.stop()

    def _upstream(self) -> tuple[str, str]:
        if self.options.upstream_base_url:
            return self.options.upstream_base_url, self.options.upstream_api_key
        key = "sk-simulator-" + secrets.token_hex(8)
        self.simulator = Simulator(
            latency_seconds=self.options.simulator_latency_seconds,
            fault_rate=self.options.simulator_fault_rate,
            api_key=key,
            rate_limits=self.options.simulator_rate_limits,
        ).start()
        return self.simulator.base_url, key

    def _start_pollers(self, poller: QueuePoller) -> None:
        """As many pollers as the event source mapping's maximum concurrency, each long-polling."""
        assert self.system is not None
        concurrency = poller.concurrency
        for n in range(concurrency):
            thread = threading.Thread(target=self._poll, args=(poller,), name=f"poller-{poller.name}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _poll(self, poller: QueuePoller) -> None:
        while not self._stop.is_set():
            poller.poll_once(wait_seconds=1)

    def _watch_executions(self) -> None:
        assert self.system is not None
        while not self._stop.wait(1):
            self.system.execution_events.poll_once()


def _configure_moto(port: int) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/moto-api/config", data=json.dumps(MOTO_CONFIG).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback moto server
        answer.read()


def _sam_env_file() -> Path:
    """Where `sam local` finds the functions' environment: SAM_ENV_FILE, else .aws-sam/local-env.json."""
    return Path(os.environ.get("SAM_ENV_FILE") or ROOT / ".aws-sam" / "local-env.json")
