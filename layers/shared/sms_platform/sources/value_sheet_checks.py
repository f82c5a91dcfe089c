"""The background check of an uploaded personalised list (a work-queue job, never inside an API
request): the file is copied to the worker's disk while its SHA-256 is taken, read a row at a
time, every row checked (``value_sheet_rows``), the accepted rows stored encrypted in chunks of
``CHUNK_ROWS``, the rejected ones written masked to a CSV report (cells neutralised), and the
progress kept on the sheet every ``PROGRESS_ROWS`` rows. Memory stays flat in the row count:
only the current chunk, the counters and a fixed table of fingerprints for duplicates are held.

Values are personal data: they exist in clear only in the worker's memory and its temporary
directory (deleted with it), are stored only encrypted, and are never logged. The audit trail
gets the file's digest and counts.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sms_platform.audit import trail
from sms_platform.foundation import crypto, spreadsheets
from sms_platform.foundation.clock import BEIJING, get_clock
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.observability import logger
from sms_platform.sources import value_sheet_files, value_sheet_store
from sms_platform.sources.value_sheet_models import CHUNK_ROWS, MAX_ROWS
from sms_platform.sources.value_sheet_rows import Accepted, Columns, RowChecker, Tally, columns
from sms_platform.text.templating import as_specs

PROGRESS_ROWS = 5_000
REPORT_HEADER = ["行号", "证件号码（脱敏）", "手机号码（脱敏）", "原因"]
TOO_MANY = f"名单最多 {MAX_ROWS:,} 行（不含表头），{{found}}，请拆分成几个文件分别上传"


@dataclass
class Outcome:
    tally: Tally
    found: Columns
    file_format: str
    chunks: int


class _Rows:
    """Accepted rows, stored a chunk at a time (one encrypted token per chunk)."""

    def __init__(self, sheet_id: str) -> None:
        self.sheet_id = sheet_id
        self.pending: list[list[Any]] = []
        self.chunks = 0

    def add(self, row: Accepted) -> None:
        self.pending.append([row.row, row.identifier, row.phone or "", list(row.values), row.parts])
        if len(self.pending) >= CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        token = crypto.encrypt(json.dumps(self.pending, ensure_ascii=False, separators=(",", ":")))
        value_sheet_store.put_chunk(self.sheet_id, self.chunks, token, len(self.pending))
        self.chunks += 1
        self.pending = []


class _Report:
    """Rejected rows, masked, appended to a CSV file on the worker's disk (UTF-8 with a byte
    order mark for Excel), every cell neutralised."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = path.open("w", encoding="utf-8-sig", newline="")
        self.file.write(spreadsheets.csv_text([REPORT_HEADER]))
        self.pending: list[list[Any]] = []

    def add(self, row: int, id_masked: str, phone_masked: str, reason: str) -> None:
        self.pending.append([row, id_masked, phone_masked, reason])
        if len(self.pending) >= 1000:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.file.write(spreadsheets.csv_text(self.pending))
            self.pending = []

    def close(self) -> None:
        self.flush()
        self.file.close()


def _data_rows(rows: Iterator[Any], total: int | None) -> Iterator[tuple[int, Any]]:
    """(row number, cells) of each data row, the header being row 1; refuses past ``MAX_ROWS``."""
    if total is not None and total - 1 > MAX_ROWS * 1.02:
        raise ValidationFailed(TOO_MANY.format(found=f"该文件约有 {total - 1:,} 行"), field="file")
    for number, cells in enumerate(rows, start=2):
        if number - 1 > MAX_ROWS:
            raise ValidationFailed(TOO_MANY.format(found="该文件超过了这个行数"), field="file")
        yield number, cells


def check_file(meta: dict[str, Any], path: Path, report: Path, *, today: Any) -> Outcome:
    """Check the file at ``path`` for the sheet ``meta``: store its accepted rows and write the
    rejected ones to ``report``. ``ValidationFailed`` for a problem of the whole file."""
    file_format = value_sheet_files.sniff_format(path)
    with value_sheet_files.reading(path, file_format) as (rows, total):
        header = next(rows, None)
        if header is None:
            raise ValidationFailed("文件是空的，第 1 行应为表头", field="file")
        specs = as_specs(meta["variables"])
        found = columns(header, specs, meta["kind"])
        checker = RowChecker(specs, meta["text"], meta["sign_name"], meta["kind"], found, today)
        tally = Tally(kind=meta["kind"], sign_name=meta["sign_name"])
        value_sheet_store.progress(meta["sheet_id"], 0, max(0, (total or 1) - 1))
        stored, rejected = _Rows(meta["sheet_id"]), _Report(report)
        try:
            for number, cells in _data_rows(rows, total):
                outcome = checker.check(number, cells)
                if outcome is None:
                    continue
                tally.add(outcome)
                if isinstance(outcome, Accepted):
                    stored.add(outcome)
                else:
                    rejected.add(outcome.row, outcome.id_masked, outcome.phone_masked, outcome.reason)
                if tally.rows % PROGRESS_ROWS == 0:
                    value_sheet_store.progress(meta["sheet_id"], tally.rows)
            stored.flush()
        finally:
            rejected.close()
    return Outcome(tally=tally, found=found, file_format=file_format, chunks=stored.chunks)


def _summary(tally: Tally) -> str:
    """What staff see of the rows, encrypted: the messages hold personal values."""
    data = {
        "preview": [p.model_dump() for p in tally.preview],
        "longest": tally.longest.model_dump() if tally.longest else None,
        "rejected_rows": [vars(r) for r in tally.rejected_rows],
    }
    return crypto.encrypt(json.dumps(data, ensure_ascii=False))


def open_summary(token: str | None) -> dict[str, Any]:
    return json.loads(crypto.decrypt(token)) if token else {}


def _record(meta: dict[str, Any], after: dict[str, Any], now: datetime) -> None:
    trail.record(None, "value_sheet.check", f"value_sheet:{meta['sheet_id']}", None, after,
                 office=meta["office"], template_id=meta["template_id"], at=now)  # fmt: skip


def check(sheet_id: str) -> None:
    """The work-queue job: check one uploaded sheet. Safe to run again after a failure (its
    chunks are written anew); a sheet already checked is left as it is."""
    meta = value_sheet_store.load(sheet_id)
    if meta["status"] not in ("queued", "checking"):
        return
    value_sheet_store.move(sheet_id, ("queued", "checking"), status="checking", rows_done=0)
    clock = get_clock()
    with tempfile.TemporaryDirectory(prefix="sheet-") as folder:
        path, report = Path(folder) / "upload", Path(folder) / "rejected.csv"
        digest, size = value_sheet_store.download_upload(sheet_id, path)
        file_facts = {"sha256": digest, "bytes": size}
        try:
            outcome = check_file(meta, path, report, today=clock.now().astimezone(BEIJING).date())
        except ValidationFailed as error:
            _failed(meta, error.message, file_facts, clock.now())
            return
        if outcome.tally.rejected:
            value_sheet_store.put_report(sheet_id, report)
    tally, now = outcome.tally, clock.now()
    counts = {"rows": tally.rows, "accepted": tally.accepted, "rejected": tally.rejected}
    value_sheet_store.move(
        sheet_id, ("checking",), status="checked", format=outcome.file_format, rows_done=tally.rows,
        total_parts=tally.total_parts, max_parts=tally.max_parts, chunks=outcome.chunks,
        parts={str(p.parts): p.messages for p in tally.parts_counts()}, columns=list(outcome.found.used),
        unused_columns=list(outcome.found.unused), summary=_summary(tally), checked_at=now.isoformat(),
        **counts, **file_facts,
    )  # fmt: skip
    value_sheet_store.delete_upload(sheet_id)
    _record(meta, {**file_facts, "format": outcome.file_format, **counts}, now)
    logger().info("value sheet checked", extra={"sheet_id": sheet_id, **counts})


def _failed(meta: dict[str, Any], message: str, file_facts: dict[str, Any], now: datetime) -> None:
    sheet_id = meta["sheet_id"]
    value_sheet_store.delete_rows(sheet_id, value_sheet_store.chunks_stored(sheet_id))
    value_sheet_store.move(sheet_id, ("checking",), status="failed", error=message, checked_at=now.isoformat(),
                           **file_facts)  # fmt: skip
    _record(meta, {**file_facts, "error": message}, now)
    logger().info("value sheet refused", extra={"sheet_id": sheet_id})
