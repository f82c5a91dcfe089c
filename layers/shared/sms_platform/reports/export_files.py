"""Writing an export file row by row, so memory stays flat whatever the number of rows: CSV
(UTF-8 with a byte-order mark, which Excel and WPS need to read Chinese) or XLSX (openpyxl's
write-only mode, which streams rows to a temporary file instead of keeping a sheet in memory).

Rows arrive already safe (``recipient_rows.export_cells``: a value that would start a formula is
neutralised); an XLSX cell is still written as text explicitly, so that no value is ever read as
a formula or a number, and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SHEET_TITLE = "收件人明细"


class CsvFile:
    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self._file = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(header)

    def write(self, cells: Sequence[str]) -> None:
        self._writer.writerow(cells)

    def close(self) -> None:
        self._file.close()


class XlsxFile:
    def __init__(self, path: Path, header: Sequence[str]) -> None:
        # Where used: openpyxl is a large import that only the export worker needs.
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell

        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(SHEET_TITLE)
        self._cell = WriteOnlyCell
        self._illegal = ILLEGAL_CHARACTERS_RE
        self.write(header)

    def _text(self, value: str) -> Any:
        cell = self._cell(self._sheet, value=self._illegal.sub("", value))
        cell.data_type = "s"  # text, whatever it looks like
        return cell

    def write(self, cells: Sequence[str]) -> None:
        self._sheet.append([self._text(value) for value in cells])

    def close(self) -> None:
        self._book.save(self._path)


def open_file(fmt: str, path: Path, header: Sequence[str]) -> CsvFile | XlsxFile:
    if fmt == "csv":
        return CsvFile(path, header)
    if fmt == "xlsx":
        return XlsxFile(path, header)
    raise ValueError(f"unknown export format {fmt!r}")
