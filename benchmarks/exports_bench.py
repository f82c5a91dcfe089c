"""Exports of a send's recipients, per worker, with AWS stubbed: the rows of the recipient index
turned into masked rows with their Chinese reasons and written to a CSV or an XLSX file
(``recipient_exports.write_rows``: ``recipient_rows.to_row``, ``export_cells`` with every cell
neutralised, ``export_files``), for 20,000 and 100,000 recipients, one in ten failed with a
carrier code. The index pages and the address-book lookups of masked IDs are stubbed (every
row carries its masked ID, as a trigger rule's or a subscription's do), so the figures are the
platform's own Python work; in AWS each page of 100 rows adds one query and, for a send
request's rows, one batch read of the address book.

Printed: rows per second, and peak memory (tracemalloc, a separate run), which must stay flat in
the row count: the 100,000-row figure about the 20,000-row one (rows stream to the file; an XLSX
writer in write-only mode keeps no sheet in memory).
"""

from __future__ import annotations

import gc
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

SIZES = (20_000, 100_000)
CODES = ("DB:0101", "UNDELIV", "MI:0024", "MA:0001", "isv.MOBILE_NUMBER_ILLEGAL")
_CREATED = "2025-03-03T01:59:00.000+00:00"


def _items(count: int) -> Any:
    for n in range(count):
        failed = n % 10 == 0
        yield {
            "pk": f"msg#{n:032x}", "message_id": f"{n:032x}", "state": "failed" if failed else "delivered",
            "error_code": CODES[n % len(CODES)] if failed else None, "phone_masked": f"139****{n % 10_000:04d}",
            "rcp_name": f"参保人{n}", "rcp_id": f"371002***********{n % 10}", "rcp_district": "wendeng",
            "created_at": _CREATED, "sent_at": _CREATED, "final_at": "2025-03-03T02:00:05.000+00:00",
        }  # fmt: skip


def _export(fmt: str, count: int) -> tuple[int, float]:
    from sms_platform.reports import export_files, recipient_exports, recipient_rows, recipients
    from sms_platform.sending import message_store

    message_store.group_items = lambda key, prefix, states: _items(count)  # the index, stubbed
    recipients.masked_ids = lambda page: {}  # the rows carry their masked IDs
    item = {"group_key": "rcp#rule#r1#2025-03-03", "district": "", "states": []}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bench.{fmt}"
        started = time.perf_counter()
        out = export_files.open_file(fmt, path, recipient_rows.EXPORT_HEADER)
        rows = recipient_exports.write_rows(item, out, lambda done: None)
        out.close()
        return rows, time.perf_counter() - started


def _peak(fmt: str, count: int) -> float:
    gc.collect()
    tracemalloc.start()
    _export(fmt, count)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run() -> None:
    _export("xlsx", 100)  # warm: imports and first-use costs out of the figures
    for fmt in ("csv", "xlsx"):
        peaks = []
        for count in SIZES:
            rows, seconds = _export(fmt, count)
            peaks.append(_peak(fmt, count))
            print(f"{fmt:>4} {rows:>7} rows: {rows / seconds:>9,.0f} rows/s, peak memory {peaks[-1]:.1f} MiB")
        print(f"{fmt:>4} peak memory {SIZES[-1]:,} / {SIZES[0]:,} rows: {peaks[-1] / peaks[0]:.2f} (flat: about 1)")
