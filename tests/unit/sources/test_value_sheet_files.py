"""Reading personalised lists as offices save them: CSV in UTF-8 with or without a byte order
mark and in GB 18030 as Excel writes it in China, and XLSX; and a whole file checked into
stored chunks and a rejected-row report whose cells never run as formulas."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.sources import value_sheet_checks, value_sheet_files, value_sheet_store

from tests.contacts_support import id_number

HEADER = ["身份证号", "手机号", "截止日期", "amount"]
ROWS = [[id_number(1), "13912345678", "2025-03-31", "100"], [id_number(2), "", "2025-04-30", "12.5"]]
FORMULA = "=cmd|' /C calc'!A0"


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    """Cells as Excel keeps them: text that begins with ``=`` is a text cell (as typed after a
    quote, or pasted as text), not a formula."""
    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c, value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
    book.save(path)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_excel_writes_reads_the_same(tmp_path, encoding):
    path = _csv(tmp_path / "sheet.csv", [HEADER, *ROWS], encoding)
    assert value_sheet_files.sniff_format(path) == "csv"
    with value_sheet_files.reading(path, "csv") as (rows, total):
        assert (list(rows), total) == ([HEADER, *ROWS], 3)


def test_a_gb18030_file_whose_first_lines_are_ascii_is_still_told_apart(tmp_path):
    rows = [["id", "note"], *[[id_number(n), "x"] for n in range(3000)], [id_number(9), "文登区"]]
    path = _csv(tmp_path / "late.csv", rows, "gb18030")
    assert value_sheet_files.csv_encoding(path) == "gb18030"
    assert list(value_sheet_files.csv_rows(path))[-1] == [id_number(9), "文登区"]


def test_xlsx_reads_the_first_sheet_with_typed_cells(tmp_path):
    path = _xlsx(tmp_path / "sheet.xlsx", [HEADER, [id_number(1), 13912345678, datetime(2025, 3, 31), 100.5],
                                           [id_number(2), None, date(2025, 4, 30), FORMULA]])  # fmt: skip
    assert value_sheet_files.sniff_format(path) == "xlsx"
    with value_sheet_files.reading(path, "xlsx") as (read, total):
        rows = list(read)
    assert rows[0] == tuple(HEADER)
    assert rows[1] == (id_number(1), 13912345678, datetime(2025, 3, 31), 100.5)
    assert rows[2][3] == FORMULA  # a string cell that looks like a formula stays text
    assert total == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old", "不支持旧版 Excel（.xls）文件"),
        (b"PK\x03\x04not really a zip", "XLSX 文件无法读取"),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused_with_what_to_do(tmp_path, content, message):
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(ValidationFailed) as refused:
        _read_all(path)
    assert message in refused.value.message


def _read_all(path: Path) -> list:
    with value_sheet_files.reading(path, value_sheet_files.sniff_format(path)) as (rows, _):
        return list(rows)


# ---------------------------------------------------------------------------- a whole file


META = {
    "sheet_id": "0" * 32, "kind": "person", "sign_name": "文登区社会保险事业中心",
    "text": "您的待遇资格认证请于${deadline}前完成，应缴${amount}元。${note}",
    "variables": [{"name": "deadline", "type": "date", "max_length": 11},
                  {"name": "amount", "type": "money", "max_length": 12},
                  {"name": "note", "type": "text", "max_length": 30}],
}  # fmt: skip


@pytest.fixture
def stored(monkeypatch):
    """The store's writes, kept in memory (the encryption is the identity here)."""
    chunks: dict[int, str] = {}
    monkeypatch.setattr(value_sheet_store, "put_chunk", lambda _s, i, token, _n: chunks.__setitem__(i, token))
    monkeypatch.setattr(value_sheet_store, "progress", lambda *_, **__: None)
    monkeypatch.setattr(value_sheet_checks.crypto, "encrypt", lambda text: text)
    return chunks


def test_a_file_is_checked_into_stored_chunks_and_a_neutralised_masked_report(tmp_path, stored, monkeypatch):
    monkeypatch.setattr(value_sheet_checks, "CHUNK_ROWS", 2)
    rows = [["身份证号", "deadline", "amount", "note"]]
    rows += [[id_number(n), "2025-03-31", f"{n}.5", "请带身份证"] for n in range(5)]
    rows += [[FORMULA, "2025-03-31", "1", "x"], [id_number(1), "2025-03-31", "1", "重复"], ["", "", "", ""],
             [id_number(7), "2025-03-31", "1", FORMULA]]  # fmt: skip
    path = _xlsx(tmp_path / "upload", rows)
    report = tmp_path / "rejected.csv"

    outcome = value_sheet_checks.check_file(META, path, report, today=date(2025, 3, 3))

    assert (outcome.tally.rows, outcome.tally.accepted, outcome.tally.rejected) == (8, 6, 2)
    assert outcome.file_format == "xlsx" and outcome.chunks == 3
    first = json.loads(stored[0])
    assert first[0] == [2, id_number(0), "", ["2025-03-31", "0.5", "请带身份证"], 1]
    assert json.loads(stored[2])[-1][3][2] == FORMULA  # a text value, sent as written
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "行号,证件号码（脱敏）,手机号码（脱敏）,原因"
    assert lines[1].startswith("7,'=cm") and "身份证号码格式不正确" in lines[1]
    assert lines[2] == f"8,{id_number(1)[:6]}{'*' * 11}{id_number(1)[-1]},,证件号码与第 3 行重复"
    assert FORMULA not in report.read_text(encoding="utf-8-sig")


def test_a_file_over_the_row_limit_is_refused_before_its_rows_are_read(tmp_path, stored, monkeypatch):
    monkeypatch.setattr(value_sheet_checks, "MAX_ROWS", 3)
    monkeypatch.setattr(value_sheet_checks, "TOO_MANY", "名单最多 3 行（不含表头），{found}，请拆分成几个文件分别上传")
    rows = [["身份证号", "deadline", "amount", "note"]] + [[id_number(n), "2025-03-31", "1", "x"] for n in range(9)]
    path = _csv(tmp_path / "upload", rows, "utf-8")
    with pytest.raises(ValidationFailed) as refused:
        value_sheet_checks.check_file(META, path, tmp_path / "r.csv", today=date(2025, 3, 3))
    assert refused.value.message == "名单最多 3 行（不含表头），该文件约有 9 行，请拆分成几个文件分别上传"
    assert stored == {}
