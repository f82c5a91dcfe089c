"""Address book: importing 200,000 rows and expanding a one-million-contact audience.

AWS calls are stubbed so that the figures measure the project's own work: CSV parsing,
validation with check characters, keyed hashing and AES-GCM encryption, merging and building
the transactions for imports; reading index pages into recipients for expansion.
"""

from __future__ import annotations

import csv
import io
import os
import time
import tracemalloc
from datetime import UTC, datetime
from typing import Any

IMPORT_ROWS = 200_000
AUDIENCE = 1_000_000
SMALL_AUDIENCE = 100_000
PAGE = 1_000  # about what one 1 MB DynamoDB page holds of the projected recipient fields


def _gb11643(first17: str) -> str:
    total = sum(int(digit) * pow(2, 17 - index, 11) for index, digit in enumerate(first17))
    check = (12 - total % 11) % 11
    return first17 + ("X" if check == 10 else str(check))


class _StubDynamo:
    """Answers the repository's calls at once: no record exists yet, every write succeeds."""

    def __init__(self) -> None:
        self.transactions = 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"Responses": {name: [] for name in RequestItems}}

    def transact_write_items(self, TransactItems: list[Any]) -> dict[str, Any]:  # noqa: N803
        self.transactions += 1
        return {}

    # The number-health table, which an import asks which of its numbers are held for verification.
    name = "contacts"

    @property
    def meta(self) -> Any:
        return self

    @property
    def client(self) -> Any:
        return self


class _StubIndex:
    """Serves ``per_range`` index items for every key range queried, a page at a time, from one
    prepared page (so the stub itself holds no audience in memory)."""

    def __init__(self, per_range: int) -> None:
        self.per_range = per_range
        self.page = [
            {
                "ref": {"S": f"person-{i:064x}"},
                "kind": {"S": "person"},
                "name": {"S": f"参保人{i}"},
                "district": {"S": "wendeng"},
                "cur_h": {"S": f"{i:064x}"},
                "cur_t": {"S": f"v1.key.{i:040x}"},
                "cur_m": {"S": f"139****{i % 10_000:04d}"},
            }
            for i in range(PAGE)
        ]

    def query(self, **args: Any) -> dict[str, Any]:
        served = int(args.get("ExclusiveStartKey", {}).get("n", 0))
        size = min(PAGE, self.per_range - served)
        answer: dict[str, Any] = {"Items": self.page[:size]}
        if served + size < self.per_range:
            answer["LastEvaluatedKey"] = {"n": served + size}
        return answer


def _environment() -> None:
    os.environ.setdefault("CONTACTS_TABLE", "contacts")
    os.environ.setdefault("UPLOADS_BUCKET", "uploads")


def _csv_chunks(rows: int, chunk: int) -> list[tuple[int, str]]:
    """The synthetic file in the worker's pieces: (first line number, text)."""
    districts = ["环翠区", "文登区", "荣成市", "乳山市", "高区", "经区", "临港区", "南海新区"]
    pieces = []
    for start in range(0, rows, chunk):
        out = io.StringIO()
        writer = csv.writer(out)
        for n in range(start, min(rows, start + chunk)):
            birth = f"19{50 + n % 50:02d}0{1 + n % 9}1{n % 10}"
            writer.writerow(
                [
                    "person",
                    _gb11643(f"371002{birth}{n % 1000:03d}"),
                    f"参保人{n}",
                    districts[n % 8],
                    f"139{n:08d}",
                    "service_hall",
                    "是",
                    "养老保险;医疗保险",
                    "退休" if n % 3 == 0 else "",
                ]
            )
        pieces.append((start + 2, out.getvalue()))
    return pieces


def bench_import() -> None:
    from sms_platform.contacts import imports, repository, upserts
    from sms_platform.foundation import crypto
    from sms_platform.foundation.clock import FixedClock, set_clock
    from sms_platform.sending import number_health

    header = ["kind", "id", "name", "district", "phone", "source", "verified", "insurance_types", "tags"]
    stub = _StubDynamo()
    originals = (repository._client, crypto._current_key, crypto._hash_key, number_health._table)
    key = os.urandom(32)
    repository._client = lambda: stub  # type: ignore[assignment]
    number_health._table = lambda: stub  # type: ignore[assignment]
    crypto._current_key = lambda: ("benchkey", key)  # type: ignore[assignment]
    crypto._hash_key = lambda: b"bench-hash-key"  # type: ignore[assignment]
    set_clock(FixedClock(datetime(2024, 5, 6, 2, 0, tzinfo=UTC)))
    try:
        pieces = _csv_chunks(IMPORT_ROWS, imports.CHUNK_ROWS)
        started = time.perf_counter()
        accepted = rejected = 0
        for first_line, text in pieces:
            lines = imports.parse_lines(text, first_line)
            good, bad = imports.check_rows(header, lines)
            results = upserts.upsert_many(good, at=datetime(2024, 5, 6, 2, 0, tzinfo=UTC))
            accepted += sum(1 for r in results if r.status != "rejected")
            rejected += len(bad)
        elapsed = time.perf_counter() - started
    finally:
        repository._client, crypto._current_key, crypto._hash_key, number_health._table = originals  # type: ignore[assignment]
        set_clock(None)
    print(
        f"import: {IMPORT_ROWS:,} rows in {elapsed:.1f} s = {IMPORT_ROWS / elapsed:,.0f} rows/s per worker "
        f"({accepted:,} accepted, {rejected:,} rejected, {stub.transactions:,} transactions; "
        f"{len(pieces)} chunks of {imports.CHUNK_ROWS:,} rows, parallel across workers)"
    )


def _expand(audience: int) -> tuple[int, float]:
    from sms_platform.contacts import audiences, records

    segment = audiences.Segment(kind="person")
    (chunk,) = audiences.plan_chunks(segment, 1)  # one worker takes the whole audience
    per_range = audience // len(chunk.ranges)
    stub = _StubIndex(per_range)
    original = audiences.aws.client
    audiences.aws.client = lambda service: stub  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        count = 0
        for _ in audiences.iter_chunk(segment, chunk):
            count += 1
        elapsed = time.perf_counter() - started
    finally:
        audiences.aws.client = original  # type: ignore[assignment]
    assert count == per_range * len(chunk.ranges) == per_range * 8 * records.AUDIENCE_SHARDS
    return count, elapsed


def bench_expansion() -> None:
    count, elapsed = _expand(AUDIENCE)
    rate = count / elapsed
    verdict = "meets" if rate >= 50_000 else "BELOW"
    print(
        f"expansion: {count:,} recipients in {elapsed:.2f} s = {rate:,.0f} recipients/s per worker "
        f"({verdict} the 50,000/s target)"
    )
    for size in (SMALL_AUDIENCE, AUDIENCE):
        tracemalloc.start()
        served, _ = _expand(size)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"expansion peak memory: {peak / 1024:,.0f} KiB for {served:,} recipients")


def run() -> None:
    _environment()
    bench_expansion()
    bench_import()


if __name__ == "__main__":
    run()
