"""The whole system in one process on moto: resources from the template, handlers in-process,
the HTTP API's gateway, and queue pollers standing in for Lambda's event source mappings."""

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from batch_core.auth import add_api_key
from batch_core.dal.stores import Stores
from batch_core.settings import Settings
from embedded.execution_events import ExecutionEvents
from embedded.function_processes import FunctionProcesses
from embedded.gateway import GatewayResponse, LocalGateway, Route
from embedded.lambdas import LocalLambdas
from embedded.moto_patches import moto_patches
from embedded.pollers import QueuePoller
from embedded.template import Stack, deploy

DEFAULT_POLLERS = 2


class LocalSystem:
    def __init__(
        self,
        stack: Stack,
        lambdas: LocalLambdas,
        gateway: LocalGateway,
        pollers: list[QueuePoller],
        execution_events: ExecutionEvents,
        settings: Settings,
        patched: ExitStack,
    ):
        self.stack = stack
        self.lambdas = lambdas
        self.gateway = gateway
        self.pollers = pollers
        self.execution_events = execution_events
        # What the stack's own code (adding API keys) and tests read and write, as the handlers do.
        self.settings = settings
        self.stores = Stores.from_settings(settings)
        self._patched = patched

    @classmethod
    def start(
        cls,
        parameters: dict[str, str],
        environment: dict[str, str],
        set_env: Callable[[str, str], None],
        own_process: tuple[str, ...] = (),
    ) -> "LocalSystem":
        """Deploys the template into the current (moto) AWS and wires the handlers to it, with moto patched
        until the system is closed (`close()`, or the end of a `with` block).

        The functions' environment is set once, before any handler module is loaded: as in Lambda, each
        handler module builds its settings and stores from it when it is loaded. The functions named in
        `own_process` (logical ids) run in processes of their own, which need moto in server mode."""
        stack = deploy(parameters=parameters)
        # Webhook receivers run on this machine here (the console says so at startup); in AWS loopback is refused.
        variables = {**stack.environment(), "WEBHOOK_ALLOW_LOOPBACK": "true", **environment}
        for name, value in variables.items():
            set_env(name, value)
        lambdas = LocalLambdas(stack, FunctionProcesses(stack, own_process) if own_process else None)
        api = stack.template["Resources"]["ApiFunction"]["Properties"]
        routes = [Route.of(event["Properties"]) for event in api["Events"].values() if event["Type"] == "HttpApi"]
        gateway = LocalGateway(lambdas, stack.ref("ApiFunction"), stack.ref("AuthorizerFunction"), routes)
        events = ExecutionEvents.from_stack(stack, lambdas.invoke)
        patched = ExitStack()
        patched.enter_context(moto_patches(lambdas))
        return cls(stack, lambdas, gateway, _pollers(stack, lambdas), events, _settings(variables), patched)

    def close(self) -> None:
        """Puts moto back as it was before `start`, and stops the function processes."""
        self._patched.close()
        if self.lambdas.processes is not None:
            self.lambdas.processes.close()

    def __enter__(self) -> "LocalSystem":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def add_api_key(self, api_key: str, tenant_id: str) -> None:
        add_api_key(self.stores, api_key, tenant_id)

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None,
        body: bytes = b"",
        query: str = "",
        headers: dict[str, str] | None = None,
    ) -> GatewayResponse:
        headers = dict(headers or {})
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        if body and "content-type" not in {name.lower() for name in headers}:
            headers["content-type"] = "application/json"
        return self.gateway.handle(method, path, query, headers, body)

    def poller(self, function: str) -> QueuePoller:
        """The poller of the function's SQS event (its logical id)."""
        return next(poller for poller in self.pollers if poller.name == function)

    def pump(self) -> int:
        """One delivery round on every queue and for stopped executions; returns how many were handled."""
        return sum(poller.poll_once() for poller in self.pollers) + self.execution_events.poll_once()

    def run_until(self, done: Callable[[], Any], timeout: float = 60.0) -> Any:
        """Delivers queued work until `done()` returns something truthy, or fails at the deadline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = done()
            if result:
                return result
            if not self.pump():
                time.sleep(0.05)
        raise TimeoutError(f"not done after {timeout}s")


def _settings(variables: dict[str, str]) -> Settings:
    """The settings the functions read from `variables`, given explicitly."""
    return Settings(
        **{name.lower(): value for name, value in variables.items() if name.lower() in Settings.model_fields}
    )


def _pollers(stack: Stack, lambdas: LocalLambdas) -> list[QueuePoller]:
    pollers = []
    for logical_id, resource in stack.template["Resources"].items():
        events = (
            resource.get("Properties", {}).get("Events", {}) if resource["Type"] == "AWS::Serverless::Function" else {}
        )
        for event in events.values():
            if event["Type"] != "SQS":
                continue
            properties = event["Properties"]
            queue = stack.physical[properties["Queue"]["Fn::GetAtt"][0]]
            function = stack.ref(logical_id)
            concurrency = properties.get("ScalingConfig", {}).get("MaximumConcurrency", DEFAULT_POLLERS)
            if isinstance(concurrency, dict):
                concurrency = stack.parameters[concurrency["Ref"]]
            pollers.append(
                QueuePoller(
                    logical_id,
                    queue["QueueUrl"],
                    queue["Arn"],
                    lambda records, function=function: lambdas.invoke(function, records),
                    int(properties.get("BatchSize", 10)),
                    int(concurrency),
                    stack.region,
                )
            )
    return pollers
