"""EventBridge's Step Functions rules in miniature: an execution that stops with a status a function's
EventBridgeRule matches is delivered to that function, once, as an "Execution Status Change" event."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3

from embedded.lambdas import HandlerError
from embedded.template import ACCOUNT_ID, Stack

DETAIL_TYPE = "Step Functions Execution Status Change"


@dataclass
class Rule:
    function: str
    state_machine_arn: str
    statuses: list[str]


class ExecutionEvents:
    def __init__(self, rules: list[Rule], invoke: Callable[[str, dict[str, Any]], Any], region: str):
        self.rules = rules
        self.invoke = invoke
        self.region = region
        self.sfn = boto3.client("stepfunctions", region_name=region)
        self._delivered: set[tuple[str, str]] = set()

    @classmethod
    def from_stack(cls, stack: Stack, invoke: Callable[[str, dict[str, Any]], Any]) -> "ExecutionEvents":
        rules = []
        for logical_id, resource in stack.template["Resources"].items():
            events = resource["Properties"].get("Events", {}) if resource["Type"] == "AWS::Serverless::Function" else {}
            for event in events.values():
                pattern = event["Properties"].get("Pattern", {}) if event["Type"] == "EventBridgeRule" else {}
                if DETAIL_TYPE in pattern.get("detail-type", []):
                    [machine] = pattern["detail"]["stateMachineArn"]
                    rules.append(Rule(stack.ref(logical_id), stack.ref(machine["Ref"]), pattern["detail"]["status"]))
        return cls(rules, invoke, stack.region)

    def poll_once(self) -> int:
        """Delivers the events of executions that stopped since the last poll; returns how many."""
        delivered = 0
        for rule in self.rules:
            for status in rule.statuses:
                listed = self.sfn.list_executions(stateMachineArn=rule.state_machine_arn, statusFilter=status)
                for execution in listed["executions"]:
                    if (rule.function, execution["executionArn"]) not in self._delivered:
                        delivered += self._deliver(rule, execution["executionArn"])
        return delivered

    def _deliver(self, rule: Rule, execution_arn: str) -> int:
        described = self.sfn.describe_execution(executionArn=execution_arn)
        detail = {
            "executionArn": execution_arn,
            "stateMachineArn": rule.state_machine_arn,
            **{name: described.get(name) for name in ("name", "status", "input", "output", "error", "cause")},
            "startDate": _millis(described.get("startDate")),
            "stopDate": _millis(described.get("stopDate")),
        }
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": DETAIL_TYPE,
            "source": "aws.states",
            "account": ACCOUNT_ID,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [execution_arn],
            "detail": detail,
        }
        try:
            self.invoke(rule.function, event)
        except HandlerError:
            return 0  # EventBridge retries a failed delivery; so does the next poll
        self._delivered.add((rule.function, execution_arn))
        return 1


def _millis(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None
