"""Fan-out: a released send expanded into queued batches, in parallel chunks.

``plan`` cuts the audience into chunks (``contacts.audiences.plan_chunks``), stores one chunk
item per chunk and puts one job per chunk on ``FANOUT_QUEUE_URL``; each job is taken by its own
invocation, so the chunks expand side by side.

``run_chunk`` expands one chunk a page at a time from its saved cursor. For each page it
records one message per number (``message_store.record_many``, keyed by the send and the
number's hash, conditional puts in transactions) and sends batches of 100 to the lane; then it
saves the cursor and the page's counts in one conditional write. A crash before that write
redoes the page: messages already recorded are found, not duplicated, and a message left
``queued`` is queued again, which the dispatcher's conditional ``queued → sending`` makes
harmless. Two copies of one job cannot
both advance a chunk: the cursor write is conditional on the version read.

Waiting is always a new job message, never a failed receive:

- back-pressure: while the lane holds more than ``FANOUT_MAX_LANE_DEPTH`` messages, the job
  comes back ``BACKPRESSURE_DELAY`` seconds later instead of adding more;
- publicity outside 08:00-21:00: the chunk pauses (``paused_until``) and the job comes back at
  the next 08:00 (a chain of delayed messages, at most 15 minutes each);
- an invocation that used its page budget hands the rest to a fresh job.

A stopped send keeps expanding, but records each remaining recipient ``suppressed`` (reason
``stopped_send``) instead of queuing it, so every recipient of the send ends in a final state.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from sms_platform import aws
from sms_platform.audit import trail
from sms_platform.aws import queries
from sms_platform.contacts.audiences import Segment, iter_pages, plan_chunks
from sms_platform.contacts.chunks import ChunkSpec, Page
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.settings import settings
from sms_platform.sending import message_store, outbox, recipient_groups
from sms_platform.sending.lanes import lane_for, queue_url
from sms_platform.sending.message_items import MessageGroup, iso
from sms_platform.sending.messages import (
    BATCH_SIZE,
    MessageState,
    QueuedBatch,
    delay_seconds,
    in_publicity_window,
    is_due,
    message_id,
    next_publicity_opening,
)
from sms_platform.sources import follow_up_fanout, reminders, send_request_store, value_sheet_fanout
from sms_platform.sources.send_request_models import SendRequest, chunk_count

BACKPRESSURE_DELAY = 30
PAGES_PER_RUN = 200
TIME_MARGIN = 20  # seconds of the invocation left when a chunk hands over to a fresh job


class ChunkJob(BaseModel):
    """One SQS message of the fan-out queue."""

    model_config = ConfigDict(extra="forbid")

    request_id: str
    chunk: int
    not_before: datetime | None = None


@dataclass
class PageCounts:
    expanded: int = 0  # recipients read from the address book (one per number)
    queued: int = 0  # messages queued on the lane by this page
    duplicates: int = 0  # numbers this send already had a message for (another chunk, a redo)
    stopped: int = 0  # recorded suppressed because the send was stopped
    skipped: int = 0  # list entries not in the address book or without a number
    done: int = 0  # a reminder's later wave: recipients left out, their done-event arrived


def max_lane_depth() -> int:
    return settings().fanout_max_lane_depth  # FANOUT_MAX_LANE_DEPTH


def _table() -> Any:
    return aws.table(settings().sends_table)


def _chunk_key(request_id: str, chunk: int) -> dict[str, str]:
    return {"pk": f"send#{request_id}", "sk": f"chunk#{chunk:04d}"}


# ---------------------------------------------------------------------------- queue


def send_jobs(jobs: Iterable[ChunkJob], now: datetime | None = None) -> None:
    now = now or get_clock().now()
    entries = [
        {"Id": str(i), "MessageBody": job.model_dump_json(exclude_none=True),
         "DelaySeconds": delay_seconds(now, job.not_before)}
        for i, job in enumerate(jobs)
    ]  # fmt: skip
    sqs, url = aws.client("sqs"), settings().value("FANOUT_QUEUE_URL")
    for start in range(0, len(entries), 10):
        group = entries[start : start + 10]
        for _ in range(3):
            failed = {f["Id"] for f in sqs.send_message_batch(QueueUrl=url, Entries=group).get("Failed", [])}
            group = [e for e in group if e["Id"] in failed]
            if not group:
                break
        if group:
            raise RuntimeError(f"SQS refused {len(group)} fan-out jobs")


def lane_depth(lane: str) -> int:
    """Messages waiting on a lane (visible and delayed): what back-pressure watches."""
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=queue_url(lane), AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
    )["Attributes"]
    return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
        attributes.get("ApproximateNumberOfMessagesDelayed", 0)
    )


# ---------------------------------------------------------------------------- planning


def _segment(request: SendRequest) -> Segment:
    return Segment.model_validate(request.audience.model_dump(exclude_none=True))


def plan(request: SendRequest) -> int:
    """Create the chunks of a released send and queue one job per chunk; safe to repeat."""
    per_chunk = settings().fanout_chunk_recipients  # audience size per parallel chunk
    if request.sheet is not None:  # a personalised list: chunks of its stored rows
        specs = value_sheet_fanout.plan_chunks(request, per_chunk)
    elif request.follow_up is not None:  # a follow-up: chunks of its recipients' stored pages
        specs = follow_up_fanout.plan_chunks(request, per_chunk)
    else:
        specs = plan_chunks(_segment(request), chunk_count(request.audience_size, per_chunk))
    table = _table()
    for index, spec in enumerate(specs):
        try:
            table.put_item(
                Item={**_chunk_key(request.request_id, index), "spec": json.dumps(spec.to_dict()), "version": 0,
                      "done": False, "expanded": 0, "queued": 0, "duplicates": 0, "stopped": 0, "skipped": 0},
                ConditionExpression="attribute_not_exists(pk)",
            )  # fmt: skip
        except Exception as error:
            if not aws.condition_failed(error):
                raise
    send_jobs(ChunkJob(request_id=request.request_id, chunk=i) for i in range(len(specs)))
    released = request.released_at or get_clock().now()
    send_request_store.record_day(request, released.astimezone(BEIJING).date())
    send_request_store.mark_planned(request.request_id, len(specs), released.astimezone(BEIJING).date())
    return len(specs)


def chunks(request_id: str) -> list[dict[str, Any]]:
    return list(
        queries.items(
            _table().query,
            KeyConditionExpression="pk = :p AND begins_with(sk, :c)",
            ExpressionAttributeValues={":p": f"send#{request_id}", ":c": "chunk#"},
            ConsistentRead=True,
        )
    )


# ---------------------------------------------------------------------------- expanding


def _messages_for(
    request: SendRequest,
    recipients: list[Any],
    now: datetime,
    stopped: bool,
    params: list[dict[str, str]] | None = None,
    parts: int | None = None,
) -> PageCounts:
    """Record the page's messages and queue the new ones in batches of 100 (or suppress them).

    Each batch's records go in transactions of conditional puts (``message_store.record_many``):
    a message that already exists is found, not written again. Its numbers are sealed together
    (one token per batch), and the batch is validated once, not recipient by recipient.
    ``params`` (one per recipient) and ``parts`` are a personalised page's own values and length.
    """
    counts = PageCounts(expanded=len(recipients))
    source, office = request.source_id, request.office.value
    target = MessageState.SUPPRESSED if stopped else MessageState.QUEUED
    extra = {"suppress_reason": "stopped_send", "final_at": now.isoformat(timespec="milliseconds")} if stopped else {}
    shared = {
        "kind": request.kind, "source_id": source, "office": office, "sign_name": request.sign_name,
        "template_code": request.carrier_code, "template_id": request.template_id,
        "template_version": request.template_version, "parts": parts or request.parts,
    }  # fmt: skip
    batches = []
    group, created = recipient_groups.send_group(request.request_id), iso(now)
    for start in range(0, len(recipients), BATCH_SIZE):
        page = recipients[start : start + BATCH_SIZE]
        batch_id = uuid.uuid4().hex
        mids = [message_id(source, r.phone_hash) for r in page]
        existing = message_store.record_many(
            MessageGroup(**shared, batch_id=batch_id),
            [
                (mid, r.phone_hash, r.phone_masked, _listed(group, r, created, mid))
                for mid, r in zip(mids, page, strict=True)
            ],
            target,
            now,
            source_index=True,
            **extra,
        )
        if stopped:
            created = sum(1 for state in existing if state is None)
            counts.stopped += created
            counts.duplicates += len(page) - created
            continue
        # A message left queued by an earlier try is queued again: the dispatcher sends it once.
        ready = [i for i, state in enumerate(existing) if state is None or state is MessageState.QUEUED]
        counts.duplicates += len(page) - len(ready)
        if not ready:
            continue
        batch = QueuedBatch.model_validate(
            {
                **shared, "batch_id": batch_id, "shared_params": dict(request.values) or None,
                "message_ids": [mids[i] for i in ready], "phone_hashes": [page[i].phone_hash for i in ready],
                "phones": crypto.seal_many([crypto.decrypt(page[i].phone_token) for i in ready]),
                "params": [params[start + i] for i in ready] if params is not None else None,
            }
        )  # fmt: skip
        batches.append((batch, [r.phone_masked for r in page]))
        counts.queued += len(ready)
    if batches:
        outbox.send_batches([b for b, _ in batches], now=now)
        for batch, masked in batches:
            trail.record_send(
                batch_id=batch.batch_id, source=source, office=office,
                template_id=request.template_id, template_version=request.template_version,
                lane=str(lane_for(request.kind)), signature=request.sign_name, recipients=masked,
                recipient_count=len(batch.message_ids),
            )  # fmt: skip
    return counts


def _listed(group: str, recipient: Any, created: str, mid: str) -> dict[str, str]:
    """What lists a recipient's message among the send's recipients (``recipient_groups``)."""
    who = recipient_groups.Who(name=recipient.name, district=recipient.district, ref=recipient.ref)
    return recipient_groups.index_fields(group, who, created, mid)


def _save_page(request_id: str, chunk: int, version: int, cursor: dict | None, counts: PageCounts) -> bool:
    """Advance the chunk's cursor with the page's counts, if no one else advanced it first."""
    sets = "SET version = :next, paused_until = :none"
    values: dict[str, Any] = {":v": version, ":next": version + 1, ":none": None}
    if cursor is None:
        sets += ", done = :t REMOVE #c"
        values[":t"] = True
    else:
        sets += ", #c = :c"
        values[":c"] = json.dumps(cursor, default=str)
    adds = " ADD expanded :e, queued :q, duplicates :d, stopped :s, skipped :k, done_subjects :o"
    values.update({":e": counts.expanded, ":q": counts.queued, ":d": counts.duplicates, ":s": counts.stopped,
                   ":k": counts.skipped, ":o": counts.done})  # fmt: skip
    expression = sets + adds
    try:
        _table().update_item(
            Key=_chunk_key(request_id, chunk),
            UpdateExpression=expression,
            ConditionExpression="version = :v",
            ExpressionAttributeNames={"#c": "cursor"},
            ExpressionAttributeValues=values,
        )
    except Exception as error:
        if aws.condition_failed(error):
            return False
        raise
    return True


def _pause(request_id: str, chunk: int, until: datetime) -> None:
    _table().update_item(
        Key=_chunk_key(request_id, chunk),
        UpdateExpression="SET paused_until = :u",
        ExpressionAttributeValues={":u": until.isoformat()},
    )


def _must_wait(
    job: ChunkJob, request: SendRequest, lane: str, now: datetime, depth: Callable[[str], int]
) -> str | None:
    """Why the chunk waits before its next page, with the job that resumes it queued: ``paused``
    (publicity outside 08:00-21:00) or ``backpressure`` (the lane is full); None to go on. A
    stopped send never waits: it only records its remaining recipients suppressed."""
    if request.status == "stopped":
        return None
    if request.kind == "publicity" and not in_publicity_window(now):
        opening = next_publicity_opening(now)
        _pause(job.request_id, job.chunk, opening)
        send_jobs([ChunkJob(request_id=job.request_id, chunk=job.chunk, not_before=opening)], now)
        return "paused"
    if depth(lane) > max_lane_depth():
        later = now + timedelta(seconds=BACKPRESSURE_DELAY)
        send_jobs([ChunkJob(request_id=job.request_id, chunk=job.chunk, not_before=later)], now)
        return "backpressure"
    return None


def _finish_chunk(request_id: str) -> str:
    _finish_if_all_done(request_id)
    return "done"


def _reading(request: SendRequest, spec: ChunkSpec, cursor: dict[str, Any] | None) -> Iterator[Page]:
    """The pages of one chunk of a send's audience, from ``cursor``."""
    if request.sheet is not None:  # a personalised list: its stored rows, each with its own values
        return value_sheet_fanout.pages(request, spec, cursor)
    if request.follow_up is not None:  # a follow-up: the records an earlier send did not reach
        return follow_up_fanout.pages(request, spec, cursor)
    return iter_pages(_segment(request), spec, cursor)


def run_chunk(
    job: ChunkJob,
    *,
    pages: int = PAGES_PER_RUN,
    time_left: Callable[[], float] | None = None,
    depth: Callable[[str], int] = lane_depth,
) -> str:
    """Expand one chunk from its cursor. Returns what happened: ``done``, ``continued``,
    ``paused``, ``backpressure``, ``waiting`` (not due yet), ``superseded`` or ``gone``."""
    clock = get_clock()
    now = clock.now()
    if not is_due(now, job.not_before):
        send_jobs([job], now)
        return "waiting"
    item = _table().get_item(Key=_chunk_key(job.request_id, job.chunk), ConsistentRead=True).get("Item")
    if not item or item.get("done"):
        return "gone"
    version = int(item["version"])
    cursor = json.loads(item["cursor"]) if item.get("cursor") else None
    spec = ChunkSpec.from_dict(json.loads(item["spec"]))
    lane = str(lane_for(_kind(job.request_id)))
    request = send_request_store.load(job.request_id)
    for used, page in enumerate(_reading(request, spec, cursor), start=1):
        if used > 1:  # a stop between pages takes effect at the next page
            request = send_request_store.load(job.request_id)
        now = clock.now()
        waiting = _must_wait(job, request, lane, now, depth)
        if waiting:
            return waiting
        page, done = reminders.without_done(request, page)
        counts = _messages_for(request, page.recipients, now, request.status == "stopped",
                               page.extra.get("params"), page.extra.get("parts"))  # fmt: skip
        counts.skipped, counts.done = page.skipped, done
        if not _save_page(job.request_id, job.chunk, version, page.cursor, counts):
            return "superseded"  # another copy of this job moved the chunk on
        version += 1
        if page.cursor is None:
            return _finish_chunk(job.request_id)
        if used >= pages or (time_left is not None and time_left() < TIME_MARGIN):
            send_jobs([ChunkJob(request_id=job.request_id, chunk=job.chunk)], now)
            return "continued"
    # The iterator ended without a final page (an empty range): the chunk is done.
    _save_page(job.request_id, job.chunk, version, None, PageCounts())
    return _finish_chunk(job.request_id)


_kinds: dict[str, str] = {}


def _kind(request_id: str) -> str:
    if request_id not in _kinds:
        _kinds[request_id] = send_request_store.load(request_id).kind
    return _kinds[request_id]


def _finish_if_all_done(request_id: str) -> None:
    if all(c.get("done") for c in chunks(request_id)):
        send_request_store.finish_fanout(request_id)


# ---------------------------------------------------------------------------- progress


def fanout_progress(request_id: str) -> dict[str, Any]:
    """The fan-out's own counts, summed over the chunks (each kept by atomic ADDs)."""
    items = chunks(request_id)
    total = {"expanded": 0, "queued": 0, "duplicates": 0, "stopped": 0, "skipped": 0}
    for item in items:
        for name in total:
            total[name] += int(item.get(name, 0))
    total["done"] = sum(int(item.get("done_subjects", 0)) for item in items)
    paused = sorted(str(i["paused_until"]) for i in items if i.get("paused_until") and not i.get("done"))
    return {
        **total,
        "chunks": len(items),
        "chunks_done": sum(1 for i in items if i.get("done")),
        "paused_until": paused[0] if paused else None,
    }
