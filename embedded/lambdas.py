"""The one seam: moto's Lambda backend runs the real handlers in-process instead of in Docker
(`moto_invoke`, applied with the other moto patches by `embedded.moto_patches`)."""

import functools
import importlib.util
import json
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from embedded.template import FunctionSpec, Stack

if TYPE_CHECKING:
    from embedded.function_processes import FunctionProcesses

# One function loads at a time: loading forgets and re-imports its sibling modules, which a concurrent
# load of the same function would be importing.
_LOADING = threading.Lock()
_METRICS = threading.RLock()


@dataclass
class LocalContext:
    """The parts of Lambda's context object that Powertools reads."""

    function_name: str
    invoked_function_arn: str
    timeout_seconds: float
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        """The function's template Timeout counts down from the invocation's start, as in Lambda."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class HandlerError(Exception):
    """A handler raised; carries Lambda's error payload."""

    def __init__(self, payload: dict[str, Any]):
        super().__init__(payload["errorMessage"])
        self.payload = payload


class LocalLambdas:
    """Each thread is its own execution environment, with its own copy of every handler module,
    as concurrent Lambda invocations never share module state (e.g. a BatchProcessor's records)."""

    def __init__(self, stack: Stack, processes: "FunctionProcesses | None" = None):
        self.stack = stack
        self.processes = processes
        self._environments = threading.local()

    def invoke(self, function: str, event: Any) -> Any:
        """Calls the function's handler like Lambda would; raises HandlerError with Lambda's error payload."""
        name = function.rsplit(":", 1)[-1] if function.startswith("arn:") else function
        spec = self.stack.functions[name]
        if self.processes is not None and self.processes.runs(spec.logical_id):
            return self.processes.invoke(name, event)
        handler = getattr(self._module(name), spec.handler.rsplit(".", 1)[1])
        context = LocalContext(
            function_name=name,
            invoked_function_arn=self.stack.function_arn(spec.logical_id),
            timeout_seconds=spec.timeout_seconds,
        )
        try:
            return handler(event, context)
        except Exception as exc:
            raise HandlerError(
                {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            ) from exc

    def _module(self, name: str) -> ModuleType:
        modules: dict[str, ModuleType] = self._environments.__dict__.setdefault("modules", {})
        if name not in modules:
            with _LOADING:
                modules[name] = _load(self.stack.functions[name])
        return modules[name]

    def moto_invoke(self, method: Any) -> Any:
        """The Lambda seam, given `LambdaSimpleBackend.invoke`: with `lambda: use_docker False`, moto's
        Lambda backend runs no code and answers every `lambda:Invoke` (as its Step Functions interpreter
        sends them) with the request body or a canned text. The replacement runs the function's real
        handler in-process and answers its result, or Lambda's error payload flagged as a function error."""
        lambdas = self

        def invoke(
            backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
        ) -> bytes:
            event = json.loads(body) if body else {}
            try:
                result = lambdas.invoke(function_name, event)
            except HandlerError as failure:
                response_headers["x-amz-function-error"] = "Unhandled"
                return json.dumps(failure.payload).encode()
            return json.dumps(result).encode()

        return invoke


def _load(spec: FunctionSpec) -> ModuleType:
    if str(spec.code_uri) not in sys.path:
        sys.path.append(str(spec.code_uri))  # Lambda puts the function's own folder on the path
    _forget_modules_of(spec.code_uri)
    module_file = spec.code_uri / (spec.handler.rsplit(".", 1)[0] + ".py")
    loader_spec = importlib.util.spec_from_file_location(f"lambda_{spec.logical_id}", module_file)
    assert loader_spec and loader_spec.loader
    module = importlib.util.module_from_spec(loader_spec)
    loader_spec.loader.exec_module(module)
    return module


def _forget_modules_of(folder: Path) -> None:
    """A function's sibling modules (the api's `runtime`, its routers) build stores at import from the
    environment: each local system imports them afresh, as each Lambda container would."""
    for name, module in list(sys.modules.items()):
        source = getattr(module, "__file__", None)
        if source and Path(source).parent == folder:
            del sys.modules[name]


def metrics_one_handler_at_a_time(method: Any) -> Any:
    """`AmazonCloudWatchEMFProvider.add_metric` and `.flush_metrics`: Powertools keeps one metric set a process (a
    class attribute of `Metrics`), which in Lambda serves one invocation at a time. Here handlers run side by side
    in threads, and one's flush could empty the set between another's check that it holds metrics and its writing
    them, failing that handler ("Must contain at least one metric"). Adding and flushing take turns."""

    @functools.wraps(method)
    def one_at_a_time(*args: Any, **kwargs: Any) -> Any:
        with _METRICS:
            return method(*args, **kwargs)

    return one_at_a_time
