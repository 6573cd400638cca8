"""AWS requests and orchestration cost per line, counted over whole batches.

    python -m bench.requests [--lines 1000 5000] [--unit-lines 10 50 200]

Runs each batch on in-process moto through the real handlers and the real state machine, and counts
every AWS API call by service and operation with a botocore event hook: the handlers' calls, the
event source mapping's SQS receives and deletes, and the state machine's Lambda invokes. State
transitions come from the execution history. Lambda GB-seconds are each invocation's measured time
times its function's memory from template.yaml (the simulator answers at once, so this is the
service's own work; the executor's wait on a real upstream is priced apart, per second of latency).
Prices are published us-east-1 list prices (Lambda on arm64, as the template deploys)."""

import argparse
import json
import os
import time
from collections import Counter
from typing import Any

import boto3
from moto import mock_aws

from batch_core.settings import Settings
from embedded.request_counts import RequestCounts
from embedded.template import load_template

PRICES = {  # US dollars per request (or per transition), us-east-1
    "dynamodb:write": 0.625 / 1e6,  # on-demand write request unit
    "dynamodb:read": 0.125 / 1e6,  # on-demand read request unit
    "s3:put": 0.005 / 1e3,
    "s3:get": 0.0004 / 1e3,
    "sqs": 0.40 / 1e6,
    "lambda:request": 0.20 / 1e6,
    "lambda:gb-second": 0.0000133334,  # arm64
    "states:transition": 0.025 / 1e3,
}
DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
S3_PUTS = {
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "CopyObject",
}
BUDGET_REQUESTS_PER_LINE = 2.5
BUDGET_DOLLARS_PER_MILLION = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--unit-lines", type=int, nargs="+", default=[10, 50, 200])
    arguments = parser.parse_args()
    columns = ("requests", "per line", "$/1M requests", "GB-s/line", "$/1M GB-s", "$/1M total")
    print(f"{'lines':>6} {'unit':>5} " + " ".join(f"{column:>13}" for column in columns) + "  top operations")
    targets = ("", f"<= {BUDGET_REQUESTS_PER_LINE}", "", "", "", f"<= {BUDGET_DOLLARS_PER_MILLION}")
    print(f"{'':>6} {'':>5} " + " ".join(f"{target:>13}" for target in targets))
    for unit_lines in arguments.unit_lines:
        for lines in arguments.lines:
            counts, transitions, invokes, gb_seconds = run_batch(lines, unit_lines)
            total = sum(counts.calls.values())
            requests_dollars = cost(counts, transitions, invokes) / lines * 1e6
            compute_dollars = gb_seconds * PRICES["lambda:gb-second"] / lines * 1e6
            top = ", ".join(f"{name} {count}" for name, count in counts.calls.most_common(4))
            print(
                f"{lines:>6} {unit_lines:>5} {total:>13} {total / lines:>13.3f} {requests_dollars:>13.3f} "
                f"{gb_seconds / lines:>13.5f} {compute_dollars:>13.3f} {requests_dollars + compute_dollars:>13.3f}"
                f"  {top}",
                flush=True,
            )
    executor_gb = _memory_gb(load_template())["ExecutorFunction"]
    line_concurrency = Settings.model_fields["line_concurrency"].default
    waiting = executor_gb / line_concurrency
    print(
        f"Waiting on the upstream adds {executor_gb:g} GB x latency / {line_concurrency} lines at once"
        f" = {waiting:.4f} GB-s per line per second of latency"
        f" (${waiting * PRICES['lambda:gb-second'] * 1e6:.3f} per 1M lines per second)."
    )


def run_batch(lines: int, unit_lines: int) -> tuple[RequestCounts, int, int, float]:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    from embedded.simulator import Simulator
    from embedded.system import LocalSystem

    counts = RequestCounts()

    def ended(system: Any, batch_id: str) -> bool:
        """The bench's own polling is not the service's work, so it is not counted."""
        counts.paused = True
        try:
            batch = system.stores.batches.get(batch_id)
            return batch is not None and batch.is_terminal
        finally:
            counts.paused = False

    simulator = Simulator().start()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}):
        session = boto3._get_default_session()
        counts.register(session)
        environment = {
            "WORK_UNIT_LINES": str(unit_lines),
            "MAX_LINES_PER_BATCH": str(lines),
            "LINE_CONCURRENCY": "64",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "UPSTREAM_API_KEY_SECRET": "",
        }
        system = LocalSystem.start({"UpstreamBaseUrl": simulator.base_url}, environment, os.environ.__setitem__)
        system.add_api_key("bench", "bench")
        busy = _time_invocations(system)
        requests = [
            {"custom_id": f"c{n}", "body": {"model": "m", "messages": [{"role": "user", "content": f"q{n}"}]}}
            for n in range(lines)
        ]
        counts.clear()
        busy.clear()
        try:
            created = system.request(
                "POST",
                "/api/client/v1/batches",
                key="bench",
                body=json.dumps({"endpoint": "/v1/chat/completions", "requests": requests}).encode(),
            )
            batch_id = created.json()["id"]
            system.run_until(lambda: ended(system, batch_id), timeout=600)
        finally:
            counts.paused = True
        sfn = boto3.client("stepfunctions")
        execution = sfn.list_executions(stateMachineArn=system.stack.ref("BatchStateMachine"))["executions"][0]
        history = sfn.get_execution_history(executionArn=execution["executionArn"], maxResults=1000)["events"]
        transitions = sum(1 for event in history if event["type"].endswith("StateEntered"))
        invokes = sum(1 for event in history if event["type"] == "TaskScheduled")
        memory = _memory_gb(system.stack.template)
        gb_seconds = sum(
            seconds * memory[system.stack.functions[function].logical_id] for function, seconds in busy.items()
        )
        system.close()
    simulator.stop()
    return counts, transitions, invokes, gb_seconds


def _time_invocations(system: Any) -> Counter[str]:
    """Seconds spent in each function's handler, as Lambda would bill them."""
    busy: Counter[str] = Counter()
    invoke = system.lambdas.invoke

    def timed(function: str, event: Any) -> Any:
        started = time.perf_counter()
        try:
            return invoke(function, event)
        finally:
            busy[function.rsplit(":", 1)[-1]] += time.perf_counter() - started

    system.lambdas.invoke = timed
    return busy


def _memory_gb(template: dict[str, Any]) -> dict[str, float]:
    """Each function's memory by logical id."""
    default = template["Globals"]["Function"]["MemorySize"]
    return {
        logical_id: resource["Properties"].get("MemorySize", default) / 1024
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def cost(counts: RequestCounts, transitions: int, invokes: int) -> float:
    """Requests priced by kind; Lambda invocations are the queue deliveries plus the workflow's tasks. DynamoDB bills
    a write per item written (a BatchWriteItem's every put) and two per item of a transaction."""
    dollars = transitions * PRICES["states:transition"] + invokes * PRICES["lambda:request"]
    for name, count in counts.calls.items():
        service, operation = name.split(":")
        if service == "dynamodb" and operation in DYNAMODB_WRITES:
            units = counts.items[name] * (2 if operation == "TransactWriteItems" else 1)
            dollars += units * PRICES["dynamodb:write"]
        elif service == "dynamodb":
            dollars += count * PRICES["dynamodb:read"]
        elif service == "s3":
            dollars += count * PRICES["s3:put" if operation in S3_PUTS else "s3:get"]
        elif service == "sqs":
            dollars += count * PRICES["sqs"]
            if operation == "ReceiveMessage":
                dollars += count * PRICES["lambda:request"]
        elif service == "lambda":
            continue
    return dollars


if __name__ == "__main__":
    main()
