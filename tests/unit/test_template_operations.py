"""What an operator is promised in template.yaml: the alarms, where they go, and what the dashboard shows."""

import json
from typing import Any

from batch_core.dal.events import STATUS_CHANGE
from batch_core.models.status import TERMINAL
from embedded.template import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in RESOURCES.items() if resource["Type"] == kind}


def _watched(alarm: dict[str, Any]) -> str | list[str]:
    """The metric an alarm reads, or the metrics its expression combines."""
    properties = alarm["Properties"]
    if "MetricName" in properties:
        return str(properties["MetricName"])
    return sorted(
        query["MetricStat"]["Metric"]["MetricName"] for query in properties["Metrics"] if "MetricStat" in query
    )


def test_each_alarm_watches_its_signal_and_notifies_the_topic() -> None:
    alarms = _of_type("AWS::CloudWatch::Alarm")

    watched = {
        name: alarm["Properties"].get("MetricName")
        or sorted(
            query["MetricStat"]["Metric"]["MetricName"]
            for query in alarm["Properties"]["Metrics"]
            if "MetricStat" in query
        )
        for name, alarm in alarms.items()
    }

    assert watched == {
        "DeadLettersAlarm": "ApproximateNumberOfMessagesVisible",
        "ExecutorErrorsAlarm": "Errors",
        "Api5xxAlarm": ["5xx", "Count"],
        "OldestWorkAlarm": "ApproximateAgeOfOldestMessage",
        "WorkflowFailedAlarm": ["ExecutionsFailed", "ExecutionsTimedOut"],
    }
    assert all(alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for alarm in alarms.values())
    assert all(alarm["Properties"]["AlarmDescription"] for alarm in alarms.values())
    assert RESOURCES["AlarmEmailSubscription"]["Condition"] == "HasAlarmEmail"


def test_the_dashboard_shows_lines_failures_throttles_latency_queues_executor_and_api() -> None:
    body = json.loads(RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])

    shown = {
        part
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
        for part in metric
        if (isinstance(part, str) and not part.startswith("${") and part[0].isupper()) or part in ("4xx", "5xx")
    }

    assert {
        "LinesSucceeded",
        "LinesFailed",
        "LinesThrottled",
        "UpstreamLatency",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "Errors",
        "Duration",
        "4xx",
        "5xx",
        "Latency",
        "WebhooksDelivered",
        "WebhooksFailed",
    } <= shown


def test_every_log_group_keeps_the_retention_and_the_state_machine_logs_its_errors_there() -> None:
    groups = _of_type("AWS::Logs::LogGroup")
    logging = RESOURCES["BatchStateMachine"]["Properties"]["Logging"]

    assert all(group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for group in groups.values())
    assert {f"{name}Logs" for name in _of_type("AWS::Serverless::Function")} <= set(groups)
    assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False
    [destination] = logging["Destinations"]
    assert destination["CloudWatchLogsLogGroup"]["LogGroupArn"] == {"Fn::GetAtt": ["StateMachineLogs", "Arn"]}


def test_batch_endings_reach_the_webhook_queue_by_a_rule_that_alone_may_send_to_it() -> None:
    rule = RESOURCES["BatchEndedRule"]["Properties"]
    [statement] = RESOURCES["WebhookQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    mapping = RESOURCES["WebhookFunction"]["Properties"]["Events"]["Webhooks"]["Properties"]

    assert set(rule["EventPattern"]["detail"]["status"]) == {status.value for status in TERMINAL}
    assert rule["EventPattern"]["detail-type"] == [STATUS_CHANGE]
    assert rule["Targets"] == [{"Id": "webhooks", "Arn": {"Fn::GetAtt": ["WebhookQueue", "Arn"]}}]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["BatchEndedRule", "Arn"]}}}
    assert mapping["Queue"] == {"Fn::GetAtt": ["WebhookQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
