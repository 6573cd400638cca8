from batch_core.dal.clients import AwsClients
from batch_core.dal.queue import send_delayed
from batch_core.models.webhook import DeliveryAttempt
from batch_core.settings import Settings


class WebhookQueue:
    """The SQS queue of webhook work: batches' status changes (sent by the bus's rule) and delivery attempts."""

    def __init__(self, settings: Settings, aws: AwsClients):
        self.queue_url = settings.webhook_queue_url
        self._aws = aws

    def send(self, attempt: DeliveryAttempt, delay: float = 0) -> None:
        """Queues the attempt to run after `delay` seconds (hopping when that is past SQS's longest delay)."""
        what = f"queue the delivery of {attempt.event_id} to {attempt.endpoint_id}"
        send_delayed(self._aws.client("sqs"), self.queue_url, attempt, delay, what)
