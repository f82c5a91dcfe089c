"""Reading an uploaded personalised list from a local file, a row at a time.

- XLSX: openpyxl in read-only mode, which streams the worksheet's XML (memory stays flat
  whatever the rows). A formula cell is read as the value Excel saved with it; nothing evaluates
  it. The first worksheet is read.
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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from sms_platform.foundation.errors import ValidationFailed

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


@contextmanager
def _xlsx(path: Path) -> Iterator[Any]:
    """The workbook, read-only. It is given an open file, not a name: the upload has none of its
    own, and openpyxl would judge a name by its extension."""
    # deferred: openpyxl (~140 ms) loads with the first XLSX sheet, not with whatever imports this module
    from openpyxl import load_workbook

    with path.open("rb") as file:
        try:
            workbook = load_workbook(file, read_only=True, data_only=True)
        except (BadZipFile, KeyError, OSError, ValueError):
            raise ValidationFailed("XLSX 文件无法读取，请在 Excel 中重新保存后上传", field="file") from None
        try:
            yield workbook
        finally:
            workbook.close()


@contextmanager
def reading(path: Path, file_format: str) -> Iterator[tuple[Iterator[Any], int | None]]:
    """The file's rows (header first) and how many it holds, as well as can be told before
    reading them: an XLSX sheet's dimension when it has one, a CSV file's lines."""
    if file_format != "xlsx":
        yield csv_rows(path), count_lines(path)
        return
    with _xlsx(path) as workbook:
        if not workbook.worksheets:
            yield iter(()), 0
            return
        sheet = workbook.worksheets[0]
        yield sheet.iter_rows(values_only=True), sheet.max_row
