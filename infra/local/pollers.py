"""SQS event source mappings, polled as Lambda polls them.

Each mapping has its own poller thread and its own pool of environments, so a busy bulk lane
never holds up the high lane. A poller receives a batch only when one of its environments is
free (receiving earlier would start the messages' visibility clock for nothing), invokes the
function, then deletes what succeeded:

- no error, no partial-failure reporting: the whole batch is deleted;
- ``ReportBatchItemFailures``: everything but the reported ``itemIdentifier``s is deleted; an
  answer that names an unknown id or is malformed fails the whole batch, as Lambda does;
- the function raised or timed out: nothing is deleted.

What is not deleted becomes visible again after the queue's visibility timeout, and moto's
SQS moves a message to the dead-letter queue once its receive count passes the redrive
policy's ``maxReceiveCount``.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from infra.local import logs
from infra.local.lambdas import InvocationError
from infra.template_model import QueueSource

WAIT_SECONDS = 1  # long polling, short enough for Ctrl-C to stop the poller quickly


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the Lambda SQS event from a ReceiveMessage answer."""
    attributes = {
        key: value
        for key, value in message.get("Attributes", {}).items()
        if key
        in {
            "ApproximateReceiveCount",
            "SentTimestamp",
            "SenderId",
            "ApproximateFirstReceiveTimestamp",
            "MessageGroupId",
            "MessageDeduplicationId",
            "SequenceNumber",
            "AWSTraceHeader",
        }
    }
    message_attributes = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value["DataType"],
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def settled_ids(records: list[dict[str, Any]], result: Any, report_item_failures: bool) -> set[str]:
    """The message ids to delete after a successful invocation."""
    ids = {record["messageId"] for record in records}
    if not report_item_failures:
        return ids
    if result is None:
        return ids  # no answer: every item succeeded
    if not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures")
    if failures is None:
        return ids
    if not isinstance(failures, list):
        return set()
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in ids:
            return set()  # Lambda treats a malformed answer as the whole batch failing
        failed.add(identifier)
    return ids - failed


class Poller:
    """One event source mapping: a receiving thread and ``concurrency`` invocations at most."""

    def __init__(
        self, source: QueueSource, queue_url: str, queue_arn: str, pool: Any, sqs: Any, region: str, concurrency: int
    ) -> None:
        self.source = source
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.pool = pool
        self.sqs = sqs
        self.region = region
        self.concurrency = concurrency
        self._slots = threading.Semaphore(concurrency)
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix=f"poll-{source.logical_id}")
        self._thread = threading.Thread(target=self._run, name=f"poller-{source.logical_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            try:
                messages = self._receive()
            except Exception as error:  # moto going away at stop, or a transient fault
                self._slots.release()
                if not self._stop.is_set():
                    logs.emit("poll_error", "WARNING", mapping=self.source.logical_id, error=type(error).__name__)
                    self._stop.wait(1)
                continue
            if not messages:
                self._slots.release()
                continue
            self._executor.submit(self._deliver, messages)

    def _receive(self) -> list[dict[str, Any]]:
        """Up to the mapping's batch size, waiting at most its batching window for more."""
        wanted = self.source.batch_size
        window_ends = time.monotonic() + self.source.batching_window
        messages: list[dict[str, Any]] = []
        while len(messages) < wanted and not self._stop.is_set():
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, wanted - len(messages)),
                WaitTimeSeconds=0 if messages else WAIT_SECONDS,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = answer.get("Messages", [])
            messages.extend(received)
            if not messages or time.monotonic() >= window_ends:
                break
            if not received:
                self._stop.wait(0.2)
        return messages

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        try:
            records = [sqs_record(message, self.queue_arn, self.region) for message in messages]
            handles = {record["messageId"]: record["receiptHandle"] for record in records}
            try:
                invocation = self.pool.invoke({"Records": records})
            except InvocationError as error:
                logs.emit(
                    "batch_failed",
                    "ERROR",
                    mapping=self.source.logical_id,
                    messages=len(records),
                    error=error.error_type,
                    message=error.message,
                )
                return
            done = settled_ids(records, invocation.result, self.source.report_item_failures)
            self._delete([handles[message_id] for message_id in done])
            logs.emit(
                "batch",
                mapping=self.source.logical_id,
                messages=len(records),
                deleted=len(done),
                failed=len(records) - len(done),
                duration_ms=invocation.duration_ms,
            )
        except Exception as error:  # never let a worker thread die silently
            logs.emit("batch_error", "ERROR", mapping=self.source.logical_id, error=type(error).__name__)
        finally:
            self._slots.release()

    def _delete(self, handles: list[str]) -> None:
        for start in range(0, len(handles), 10):
            chunk = handles[start : start + 10]
            entries = [{"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(chunk)]
            answer = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in answer.get("Failed", []):
                logs.emit("delete_failed", "WARNING", mapping=self.source.logical_id, code=failure.get("Code"))
