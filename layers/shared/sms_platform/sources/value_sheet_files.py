"""Reading an uploaded personalised list from a local file, a row at a time.

- XLSX: the first worksheet, streamed by ``value_sheet_xlsx`` (memory stays flat whatever the
  rows; why not openpyxl or python-calamine is told there). A formula cell is read as the value
  Excel saved with it; nothing evaluates it.
- CSV: UTF-8 (with or without a byte order mark) or, as Excel saves it in China, GB 18030,
  told apart by decoding the whole file as UTF-8 first (a stream, in blocks).
- An old binary ``.xls`` or anything else is refused with what to do instead.

The files are a worker's temporary copies (``value_sheets`` downloads the upload and deletes
it); each reader yields the header first, then each row as its cells.
"""

from __future__ import annotations

import codecs
import csv
import io
import zlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from sms_platform.foundation.errors import ValidationFailed
from sms_platform.sources import value_sheet_xlsx

_BLOCK = 1024 * 1024
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary Excel format (.xls)


def sniff_format(path: Path) -> str:
    """``xlsx`` or ``csv`` by the file's first bytes (the name a browser sends proves nothing)."""
    with path.open("rb") as file:
        head = file.read(8)
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE):
        raise ValidationFailed("不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 或 CSV 后上传", field="file")
    return "csv"


def csv_encoding(path: Path) -> str:
    """``utf-8-sig`` when the whole file decodes as UTF-8, else ``gb18030``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        try:
            while block := file.read(_BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


def count_lines(path: Path) -> int:
    """Lines of a text file (a last line without its line break counts)."""
    lines, last = 0, b"\n"
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


def csv_rows(path: Path) -> Iterator[list[str]]:
    encoding = csv_encoding(path)
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="") as text:
        try:
            yield from csv.reader(text)
        except csv.Error:
            raise ValidationFailed(
                "CSV 文件格式不正确（引号不配对或含有空字符），请在 Excel 中重新另存为 CSV", field="file"
            ) from None


_UNREADABLE = (BadZipFile, KeyError, OSError, ValueError, UnicodeDecodeError, zlib.error, EOFError)


def _unreadable() -> ValidationFailed:
    return ValidationFailed("XLSX 文件无法读取，请在 Excel 中重新保存后上传", field="file")


def _guarded(rows: Iterator[Any]) -> Iterator[Any]:
    """The rows; a fault met only as they are read (a damaged part) refused as the file's."""
    try:
        yield from rows
    except _UNREADABLE:
        raise _unreadable() from None


@contextmanager
def _xlsx(path: Path) -> Iterator[tuple[Iterator[Any], int | None]]:
    """The first worksheet's rows and its dimension's last row; a workbook without a worksheet
    has no rows."""
    with path.open("rb") as file, ExitStack() as stack:
        try:
            sheet = stack.enter_context(value_sheet_xlsx.open_sheet(file))
        except value_sheet_xlsx.NoWorksheet:
            yield iter(()), 0
            return
        except _UNREADABLE:
            raise _unreadable() from None
        yield _guarded(sheet.rows()), sheet.max_row


@contextmanager
def reading(path: Path, file_format: str) -> Iterator[tuple[Iterator[Any], int | None]]:
    """The file's rows (header first) and how many it holds, as well as can be told before
    reading them: an XLSX sheet's dimension when it has one, a CSV file's lines."""
    if file_format != "xlsx":
        yield csv_rows(path), count_lines(path)
        return
    with _xlsx(path) as (rows, total):
        yield rows, total
