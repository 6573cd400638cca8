import json
from typing import Any

from batch_core.dal.clients import AWS_ERRORS, AwsClients, storage_error
from batch_core.settings import Settings

STATUS_CHANGE = "Batch Status Change"


class BatchEvents:
    """The EventBridge bus that hears every change of a batch's status (detail-type "Batch Status Change")."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.bus_name = settings.event_bus_name
        self.source = settings.event_source
        self._aws = aws

    def put(self, detail: dict[str, Any]) -> None:
        entry = {
            "Source": self.source,
            "DetailType": STATUS_CHANGE,
            "Detail": json.dumps(detail),
            "EventBusName": self.bus_name,
        }
        try:
            answer = self._aws.client("events").put_events(Entries=[entry])
        except AWS_ERRORS as exc:
            raise storage_error(f"could not put the event of batch {detail.get('id')}", exc) from exc
        if answer.get("FailedEntryCount"):
            failed = answer["Entries"][0]
            raise storage_error(
                f"EventBridge refused the event of batch {detail.get('id')}: {failed.get('ErrorMessage')}",
                RuntimeError(failed.get("ErrorCode")),
            )
