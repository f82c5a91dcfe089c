"""Personalised lists: checking and storing a spreadsheet per worker, and dispatching batches
whose recipients each have their own values, with AWS and the carrier stubbed.

(a) Validation and storage per worker (``value_sheet_checks.check_file``: reading the file a row
    at a time, each row's check digit, phone, typed values and lengths, rendering and measuring
    its message, duplicates, storing the accepted rows encrypted in chunks, the rejected ones in
    the report) for a CSV and an XLSX file of 10,000 and 100,000 rows; one row in fifty is bad.
    Target: at least 20,000 rows/s (wall clock; the rate per CPU second of the same run is
    printed beside it, the worker's own figure when other work shares the machine). Peak memory
    (tracemalloc, a separate run) must stay flat in the row count: the 100,000-row figure about
    the 10,000-row one. The XLSX reader (``value_sheet_xlsx``, which says why it is not openpyxl
    or python-calamine) inflates the sheet 64 KiB at a time and keeps an XLSX file's shared
    strings in a memory-mapped temporary file, so neither the rows nor the distinct texts grow
    the heap.
(b) Dispatch per recipient of personalised batches (100 recipients, each with its own values, so
    the dispatcher calls ``SendBatchSms``), from the SQS body through ``Dispatcher.process`` and
    the end of each invocation, measured as the dispatch benchmark measures (``dispatch_all``), as
    a ratio to the bare cost of building and signing the same ``SendBatchSms`` requests with the
    same client. Target: at most 2.0, as for shared values (benchmarks/dispatch_bench.py).

The stubs stand in at the boto3 boundary (benchmarks/dispatch_bench.py's): every write
succeeds at once, and the time inside them is left out, so the figures are the platform's own
Python work.
"""

from __future__ import annotations

import csv
import gc
import json
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import dispatch_bench

SIZES = (10_000, 100_000)
BATCHES = dispatch_bench.BATCHES  # ``dispatch_bench.per_recipient`` divides by its count
ROUNDS = dispatch_bench.ROUNDS
_CREATED = "2025-03-03T01:59:00.000+00:00"
META = {
    "sheet_id": "b" * 32, "kind": "person", "sign_name": "文登区社会保险事业中心",
    "text": "${name}您好，您的养老待遇资格认证请于${deadline}前完成，本月待遇${amount}元。",
    "variables": [{"name": "name", "type": "name", "max_length": 10},
                  {"name": "deadline", "type": "date", "max_length": 11},
                  {"name": "amount", "type": "money", "max_length": 12}],
}  # fmt: skip
HEADER = ["身份证号", "手机号", "name", "deadline", "amount"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(seq: int) -> str:
    """A distinct valid resident ID number per ``seq``: 1,000 a birth date, from 1950-01-01."""
    born = date(1950, 1, 1) + timedelta(days=seq // 1000)
    first = f"371002{born:%Y%m%d}{seq % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(first, _WEIGHTS, strict=True))
    return first + "10X98765432"[total % 11]


def _rows(count: int) -> Any:
    names = "张王李赵刘陈杨黄周吴"
    for n in range(count):
        bad = n % 50 == 49
        yield [
            _id_number(n) if not bad else _id_number(n)[:17] + "Z",
            f"139{n:08d}" if n % 3 == 0 else "",
            names[n % 10] + names[(n // 10) % 10],
            f"2025-{3 + n % 9:02d}-{1 + n % 28:02d}",
            f"{1000 + n % 5000}.{n % 100:02d}",
        ]


def _write_csv(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(_rows(count))
    return path


def _write_xlsx(path: Path, count: int) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for row in _rows(count):
        sheet.append(row)
    book.save(path)
    return path


def _check(path: Path, folder: Path) -> Any:
    from sms_platform.sources import value_sheet_checks

    return value_sheet_checks.check_file(META, path, folder / "rejected.csv", today=date(2025, 3, 3))


def sheet_figures(folder: Path) -> list[tuple[str, int, float, float, float]]:
    """(format, rows, rows/s, rows per CPU second, peak MiB) per file."""
    figures = []
    for file_format, write in (("csv", _write_csv), ("xlsx", _write_xlsx)):
        _check(write(folder / f"warm.{file_format}", 200), folder)  # imports and caches, not timed
        for count in SIZES:
            path = write(folder / f"sheet-{count}.{file_format}", count)
            started, cpu = time.perf_counter(), time.process_time()
            outcome = _check(path, folder)
            rate, cpu_rate = count / (time.perf_counter() - started), count / (time.process_time() - cpu)
            tally = outcome.tally
            assert tally.rows == count and tally.rejected == count // 50, tally.rejected_rows[:3]
            gc.collect()
            tracemalloc.start()
            _check(path, folder)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            figures.append((file_format, count, rate, cpu_rate, peak / 1024 / 1024))
    return figures


def _batches(n: int) -> list[str]:
    """SQS bodies of ``n`` personalised batches of 100, as the fan-out queues a list's rows."""
    from sms_platform.foundation import crypto
    from sms_platform.sending.messages import QueuedBatch

    bodies = []
    for b in range(n):
        numbers = [f"138{b:04d}{i:04d}" for i in range(100)]
        mids = [f"p{b:04d}{i:027d}" for i in range(100)]
        hashes = [crypto.keyed_hash(p) for p in numbers]
        params = [{"name": "张三", "deadline": "2025-03-31", "amount": f"{1000 + i}.50"} for i in range(100)]
        batch = QueuedBatch.model_validate(
            {
                "batch_id": f"p{b}", "kind": "targeted", "source_id": f"send:sheet{b}", "office": "wendeng",
                "sign_name": META["sign_name"], "template_code": "SMS_100002", "template_id": "t2",
                "template_version": 1, "parts": 1, "message_ids": mids, "phone_hashes": hashes,
                "phones": crypto.seal_many(numbers), "params": params,
            }
        )  # fmt: skip
        for mid, phone_hash in zip(mids, hashes, strict=True):
            dispatch_bench._TABLE.items[f"msg#{mid}"] = {
                "pk": f"msg#{mid}", "sk": "msg", "message_id": mid, "state": "queued", "kind": "targeted",
                "source_id": batch.source_id, "office": "wendeng", "batch_id": batch.batch_id,
                "sign_name": batch.sign_name, "template_code": "SMS_100002", "template_id": "t2",
                "template_version": 1, "parts": 1, "phone_hash": phone_hash, "phone_masked": "138****0000",
                "created_at": _CREATED, "updated_at": _CREATED,
            }  # fmt: skip
        bodies.append(batch.body())
    return bodies


def personalised_dispatch_ratio() -> tuple[float, float, float]:
    from sms_platform.foundation import runtime
    from sms_platform.foundation.clock import FixedClock
    from sms_platform.sending.dispatcher import Dispatcher, Tally
    from sms_platform.sending.messages import QueuedBatch

    bodies = _batches(BATCHES)
    client = dispatch_bench._client()
    parsed = [QueuedBatch.from_body(body) for body in bodies]
    numbers = [[f"138{b:04d}{i:04d}" for i in range(100)] for b in range(BATCHES)]
    clock = FixedClock(datetime(2025, 3, 3, 2, 0, tzinfo=UTC))
    runtime.raise_young_threshold()  # as the sender does as its environment starts
    dispatched, stubs, bare = [], [], []
    for _ in range(ROUNDS + 1):  # the first round warms imports and caches; its time is dropped
        own, aws = dispatch_bench.dispatch_all(Dispatcher(carrier=client, clock=clock, tally=Tally()), bodies)
        dispatched.append(own)
        stubs.append(aws)
        started = time.perf_counter()
        for batch, phones in zip(parsed, numbers, strict=True):
            client.send_batch_sms(phones, batch.sign_name, batch.template_code, batch.params, batch.source_id)
        bare.append(time.perf_counter() - started)
    own_us, bare_us, _, ratio = dispatch_bench.per_recipient(dispatched, stubs, bare)
    return own_us, bare_us, ratio


def run() -> None:
    collector = gc.get_threshold()
    with dispatch_bench._stubbed(), tempfile.TemporaryDirectory(prefix="sheet-bench-") as folder:
        figures = sheet_figures(Path(folder))
        per_recipient, bare, ratio = personalised_dispatch_ratio()
        gc.set_threshold(*collector)
    for file_format, count, rate, cpu_rate, peak in figures:
        verdict = "ok" if rate >= 20_000 else "UNDER"
        share = rate / cpu_rate  # the part of a CPU the run had: below 1 when other work shares the machine
        print(f"(a) {file_format:<4} {count:>7,} rows: {rate:>8,.0f} rows/s per worker (target >= 20,000: {verdict}), "
              f"{cpu_rate:,.0f} rows per CPU second (the run had {share:.0%} of a CPU), "
              f"peak memory {peak:.1f} MiB")  # fmt: skip
    for file_format in ("csv", "xlsx"):
        small, large = (peak for f, _, _, _, peak in figures if f == file_format)
        print(f"    {file_format} peak memory at 100,000 rows / at 10,000 rows: {large / small:.2f} (flat: about 1)")
    print(f"(b) personalised dispatch per recipient {per_recipient:.1f} us, "
          f"bare SendBatchSms build+sign {bare:.1f} us: ratio {ratio:.2f} (target <= 2.0)")  # fmt: skip
    sheets = [
        {"format": f, "rows": c, "rows_per_s": round(r), "rows_per_cpu_s": round(u), "peak_mib": round(p, 1)}
        for f, c, r, u, p in figures
    ]
    print(json.dumps({"sheet": sheets, "personalised_dispatch_ratio": round(ratio, 2)}))
