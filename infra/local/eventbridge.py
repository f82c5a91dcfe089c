"""EventBridge rules of the template, served by moto's EventBridge.

Business systems publish with ``PutEvents`` to the default bus, as they would in AWS, at the
platform's moto endpoint. Each rule of the template is created in moto with its event
pattern (moto does the matching) and a private SQS queue as its target; a thread per rule
takes the matched events from that queue and invokes the rule's function with each, as an
asynchronous invocation: a failure is retried twice (the message becomes visible again),
then the event is dropped and logged, which is Lambda's default for asynchronous calls.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from infra.local import logs
from infra.local.lambdas import InvocationError
from infra.template_model import EventRule

ATTEMPTS = 3  # the first call and Lambda's two retries of an asynchronous invocation
RETRY_AFTER = 5  # seconds before a failed event is tried again


class EventRoute:
    def __init__(self, rule: EventRule, events: Any, sqs: Any, pool: Any, stage: str) -> None:
        self.rule = rule
        self.sqs = sqs
        self.pool = pool
        name = f"weihai-sms-{stage}-{rule.logical_id}"
        attributes = {"VisibilityTimeout": str(RETRY_AFTER)}
        self.queue_url = sqs.create_queue(QueueName=f"{name}-target", Attributes=attributes)["QueueUrl"]
        found = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        queue_arn = found["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventPattern=json.dumps(rule.pattern), State="ENABLED")
        events.put_targets(Rule=name, Targets=[{"Id": "function", "Arn": queue_arn}])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"events-{rule.logical_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                answer = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=1,
                    WaitTimeSeconds=1,
                    MessageSystemAttributeNames=["ApproximateReceiveCount"],
                )
            except Exception as error:  # moto going away at stop, or a transient fault
                if not self._stop.is_set():
                    logs.emit("poll_error", "WARNING", rule=self.rule.logical_id, error=type(error).__name__)
                    self._stop.wait(1)
                continue
            for message in answer.get("Messages", []):
                self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        event = json.loads(message["Body"])
        try:
            invocation = self.pool.invoke(event)
        except InvocationError as error:
            dropped = attempt >= ATTEMPTS
            logs.emit(
                "event_failed",
                "ERROR",
                rule=self.rule.logical_id,
                attempt=attempt,
                error=error.error_type,
                dropped=dropped,
            )
            if not dropped:
                return
        else:
            logs.emit("event", rule=self.rule.logical_id, duration_ms=invocation.duration_ms)
        self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
