"""Functions that run in processes of their own. In Lambda every invocation has its own CPU; here every other
handler shares the stack's one interpreter, with moto's server and the pollers. Prepare spends seconds of CPU
validating a whole input while the first units wait for it (or checking an uploaded file), and finalize joins a
whole output while the client waits for the batch to end, so they get interpreters of their own, as on Lambda."""

import importlib
import multiprocessing
import os
import sys
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from embedded.lambdas import HandlerError, LocalLambdas
from embedded.request_counts import RequestCounts
from embedded.template import Stack

OWN_PROCESS_FUNCTIONS = ("PrepareFunction", "FinalizeFunction", "CheckFileFunction")
# Lambda runs invocations side by side; two processes serve two batches prepared or finalized at once.
_PROCESSES = 2
# Beyond the function's own Timeout, which the handler's context already counts down.
_TIMEOUT_MARGIN_SECONDS = 30.0
_PRELOADED = {"aws_lambda_powertools", "batch_core", "boto3", "botocore", "pydantic"}


class FunctionProcesses:
    """Spawned interpreters, started with the stack, each invoking the functions one at a time like LocalLambdas
    does in the stack's process. As Lambda reuses a warm environment, the one that served last serves next."""

    def __init__(self, stack: Stack, logical_ids: tuple[str, ...]):
        self.logical_ids = logical_ids
        self._stack = stack
        self._timeouts = {name: spec.timeout_seconds for name, spec in stack.functions.items()}
        # A process starts with the libraries the stack's process has loaded, as the in-process handlers do.
        self._loaded = sorted(name for name in sys.modules if name.split(".", 1)[0] in _PRELOADED)
        self._processes: list[BaseProcess] = []
        self._idle = [self._spawn() for _ in range(_PROCESSES)]
        self._turn = threading.Condition()

    def runs(self, logical_id: str) -> bool:
        return logical_id in self.logical_ids

    def invoke(self, name: str, event: Any) -> Any:
        """The function's answer; raises HandlerError as LocalLambdas.invoke does."""
        with self._turn:
            self._turn.wait_for(lambda: self._idle)
            process, connection = self._idle.pop()
        timeout = self._timeouts[name] + _TIMEOUT_MARGIN_SECONDS
        try:
            connection.send((name, event))
            answered = connection.poll(timeout)
            result, error = connection.recv() if answered else (None, _timed_out(name, timeout))
        except (EOFError, OSError):
            answered, result, error = False, None, _exited(name, process)
        if not answered:
            process, connection = self._replace(process)
        with self._turn:
            self._idle.append((process, connection))
            self._turn.notify()
        if error is not None:
            raise HandlerError({"stackTrace": [], **error})
        return result

    def close(self) -> None:
        for process in self._processes:
            process.kill()
            process.join()

    def _replace(self, process: BaseProcess) -> tuple[BaseProcess, Connection]:
        process.kill()
        process.join()
        self._processes.remove(process)
        return self._spawn()

    def _spawn(self) -> tuple[BaseProcess, Connection]:
        ours, theirs = multiprocessing.Pipe()
        context = multiprocessing.get_context("spawn")
        process = context.Process(target=_serve, args=(theirs, self._stack, self._loaded), daemon=True)
        process.start()
        self._processes.append(process)
        return process, ours


def _timed_out(name: str, timeout: float) -> dict[str, str]:
    return {"errorType": "TimeoutError", "errorMessage": f"{name} did not answer in {timeout:.0f} s"}


def _exited(name: str, process: BaseProcess) -> dict[str, str]:
    # Lambda's payload when the runtime exits in the middle of an invocation.
    process.join(timeout=1)
    return {"errorType": "Runtime.ExitError", "errorMessage": f"{name}: runtime exited with code {process.exitcode}"}


def _serve(connection: Connection, stack: Stack, loaded: list[str]) -> None:
    for name in loaded:
        importlib.import_module(name)
    lambdas = LocalLambdas(stack)
    counts = None
    if os.environ.get("AWS_REQUEST_COUNTS"):
        import boto3

        counts = RequestCounts()
        counts.register(boto3._get_default_session())
    while True:
        try:
            name, event = connection.recv()
        except EOFError:
            return
        try:
            answer = lambdas.invoke(name, event), None
        except HandlerError as failure:
            answer = None, failure.payload
        if counts is not None:
            counts.write(Path(f"{os.environ['AWS_REQUEST_COUNTS']}.{os.getpid()}"))
        connection.send(answer)
