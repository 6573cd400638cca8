import json
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[1] / "events" / "executor_work_unit.json"


def sqs_record(body: str, *, message_id: str = "m", receives: int = 1) -> dict[str, Any]:
    """An SQS record as Lambda's event source mapping hands it over (the sample in events/), carrying `body`."""
    record = json.loads(SAMPLE.read_text())["Records"][0]
    record.update(messageId=message_id, receiptHandle=f"receipt-{message_id}", body=body)
    record["attributes"]["ApproximateReceiveCount"] = str(receives)
    return record
