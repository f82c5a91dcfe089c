"""The first worksheet of an XLSX file, a row at a time, over the standard library.

Chosen after measuring the readers alone in one process, turn about, medians of CPU time, on
the benchmark's lists (benchmarks/value_sheets_bench.py, five cells a row):

    reader                                  us a row   memory at 10,000 / 100,000 rows
    openpyxl, read-only                       ~50      Python heap peak 1.7 / 8.2 MiB
    xml.parsers.expat, bare handlers          ~12      (before a value is converted)
    python-calamine 0.9.1                     ~3.8     whole sheet loaded: RSS +5 / +45 MiB
    this reader                               ~6.3     Python heap peak 1.0 / 1.0 MiB, RSS +1 / +1 MiB

python-calamine is the fastest but reads a sheet only whole (its ``iter_rows`` walks a range
already loaded), and an upload must never be whole in memory; openpyxl parses every cell in
Python; expat calls Python for every element. With the row checks, the whole check of the
10,000-row XLSX list went from ~10,000 to ~39,000 rows per CPU second.

How: the worksheet part is inflated in blocks of ``BLOCK`` bytes (64 KiB, for the memory above)
and cut before its last ``<row``, so only whole rows are read and one row at most is carried to
the next block. A piece whose rows and cells all have the usual shapes (as Excel, WPS and openpyxl
write them) is read by one regular expression in one pass; any other piece row by row and cell by
cell (any namespace prefix, attributes in any order, formulas and their cached values, inline
and rich text with its phonetic runs left out, character references, line ends as an XML parser
reports them). The shared-string part is read the same way into a temporary file with an index,
opened as a memory map, so the Python heap stays flat however many distinct texts a file has. A
document type declaration (entity expansion) is refused; comments, processing instructions and
CDATA sections are rewritten to plain XML before a piece is read.

Values are the ones openpyxl's read-only, ``data_only`` reader gives (tests hold the two
together): a formula cell's cached value, numbers as ``int`` or ``float``, ``bool``, texts, errors
as their text (``#N/A``), dates and times by the cell's number format in styles.xml (with the
1904 date system when the workbook says so), ISO dates of ``t="d"`` cells, rows padded to the
sheet's dimension and a missing row as an empty one. On purpose unlike openpyxl: the dimension
only estimates the rows (openpyxl stops there and cuts each row to its width, losing what a
tool wrote beyond a stale ``<dimension ref="A1"/>``), and the built-in number formats 27-36 and
50-58, the dates and times of Excel and WPS in Chinese (``yyyy"年"m"月"d"日"``), are dates
(openpyxl gives their serial number).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import IO, Any

from sms_platform.sources import value_sheet_xlsx_parts as xp
from sms_platform.sources.value_sheet_xlsx_parts import NoWorksheet, Unreadable

__all__ = ["NoWorksheet", "Unreadable", "WorksheetReader", "open_sheet"]


class WorksheetReader:
    """The first worksheet's rows of an open workbook (``open_sheet``)."""

    def __init__(
        self, archive: zipfile.ZipFile, part: str, strings: xp.SharedStrings, styles: Any, epoch: datetime
    ) -> None:
        self.archive, self.part, self.strings, self.epoch = archive, part, strings, epoch
        self.dates, self.durations = styles
        self.max_row, self.max_column = self._dimension()
        # a missing row as openpyxl gives it: as wide as the dimension, or an empty list without one
        self.empty: Any = (None,) * self.max_column if self.max_column else []

    def _dimension(self) -> tuple[int | None, int]:
        """The last row and column of the sheet's ``<dimension>``, as it says (an estimate)."""
        with self.archive.open(self.part) as stream:
            head = stream.read(64 * 1024)
        found = re.search(rb"<(?:[\w.-]+:)?dimension\b[^>]*?\bref\s*=\s*[\"']([^\"']*)[\"']", head)
        corners = [xp.CELL_REF.fullmatch(c) for c in found.group(1).decode().split(":")] if found else [None]
        last = corners[-1]
        if last is None or not all(corners):
            return None, 0
        return int(last.group(2)), xp.column(last.group(1).encode())

    def number(self, text: str, style: int) -> Any:
        value: Any = float(text) if "." in text or "E" in text or "e" in text else int(text)
        if style in self.dates:
            try:
                return xp.from_excel(value, self.epoch, style in self.durations)
            except (OverflowError, ValueError):
                return "#VALUE!"
        return value

    def value(self, kind: bytes | None, style: int, text: bytes | None) -> Any:
        """A cell's value from its type (``t``), style (``s``) and ``<v>`` text."""
        if not text:
            return None
        if kind == b"s":
            return self.strings[int(text)]
        if kind is None or kind == b"n":
            return self.number(text.decode(), style)
        if kind == b"b":
            return bool(int(text))
        if kind == b"d":
            return xp.from_iso(text.decode())
        return xp.xml_text(text)  # str (a formula's text), e (an error such as #N/A), and any other

    def _fast_rows(self, shapes: xp.Shapes, region: bytes) -> list[tuple[int | None, list[Any]]] | None:
        """The rows of a piece whose rows and cells are all of the usual shapes, read in one pass;
        None when one is not (every row start and cell start must have been matched)."""
        if shapes.fast is None:
            return None
        tokens = shapes.fast.findall(region)
        rows: list[tuple[int | None, list[Any]]] = []
        values: list[Any] = []
        strings, columns = self.strings, xp.COLUMNS
        for number, _, letters, style, kind, text, inline in tokens:
            if number:
                values = []
                rows.append((int(number), values))
                continue
            if kind == b"s" and len(text) > 7:  # <v>n</v>
                value = strings[int(text[3:-4])]
            elif kind == b"inlineStr":
                value = _inline(inline[7:-9]) if inline else None  # <is><t>..</t></is>
            else:
                value = self.value(kind or None, int(style or 0), text[3:-4])
            column = columns.get(letters) or xp.column(letters)
            if column == len(values) + 1:
                values.append(value)
            else:
                _place(values, column, value)
        if len(rows) != region.count(b"<row") or len(tokens) - len(rows) != region.count(b"<c"):
            return None
        return rows

    def _cells(self, shapes: xp.Shapes, body: bytes) -> list[Any]:
        """A row's values from column A, its cells of any shape: attributes in any order,
        formulas, rich text."""
        values: list[Any] = []
        column = 0
        for match in shapes.cell.finditer(body):
            attrs = {m[1]: m[2] if m[2] is not None else m[3] for m in xp.ATTR.finditer(match.group(1))}
            ref = xp.CELL_REF.fullmatch(attrs[b"r"].decode()) if b"r" in attrs else None
            column = xp.column(ref.group(1).encode()) if ref else column + 1
            inner, kind = match.group(2), attrs.get(b"t")
            if kind == b"inlineStr":
                inline = shapes.inline.search(inner) if inner else None
                _place(values, column, shapes.rich_text(inline.group(1)) if inline else None)
                continue
            found = shapes.value.search(inner) if inner else None
            _place(values, column, self.value(kind, int(attrs.get(b"s") or 0), found.group(1) if found else None))
        return values

    def _general_rows(self, shapes: xp.Shapes, region: bytes) -> list[tuple[int | None, list[Any]]]:
        return [
            (_row_number(match.group(1)), self._cells(shapes, match.group(2)) if match.group(2) else [])
            for match in shapes.row.finditer(region)
        ]

    def _regions(self) -> Iterator[tuple[xp.Shapes, bytes]]:
        """Pieces of the sheet's ``<sheetData>``, each of whole rows."""
        started = False
        with self.archive.open(self.part) as stream:
            for shapes, piece in xp.pieces(stream, b"worksheet", b"row"):
                region = xp.clean(piece)
                if not started:
                    at = region.find(b"<" + shapes.prefix + b"sheetData")
                    if at < 0:
                        continue
                    region, started = region[at:], True
                end = region.find(b"</" + shapes.prefix + b"sheetData")
                yield shapes, region if end < 0 else region[:end]
                if end >= 0:
                    return

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """Each row from the first, a missing one as empty (a row out of order is skipped, as
        openpyxl does)."""
        expected = 1
        for shapes, region in self._regions():
            found = self._fast_rows(shapes, region)
            for number, values in found if found is not None else self._general_rows(shapes, region):
                number = number or expected
                while expected < number:
                    expected += 1
                    yield self.empty
                if number == expected:
                    expected += 1
                    if len(values) < self.max_column:  # padded to the sheet's dimension
                        values.extend([None] * (self.max_column - len(values)))
                    yield tuple(values)


def _inline(raw: bytes) -> str:
    """The text of a plain inline string (the usual shape)."""
    return xp.xml_text(raw) if b"&" in raw or b"\r" in raw else raw.decode()


def _place(values: list[Any], column: int, value: Any) -> None:
    """``value`` at ``column`` (from 1) of a row's values, a later cell of a column over an
    earlier one as openpyxl has it; cells out of order are all kept."""
    if column > len(values):
        values.extend([None] * (column - len(values)))
    values[column - 1] = value


def _row_number(attrs: bytes) -> int | None:
    found = re.search(rb"""\br\s*=\s*["']([^"']*)["']""", attrs)
    if found is None:
        return None
    text = found.group(1).decode()
    number = float(text) if "." in text or "e" in text.lower() else int(text)
    if number != int(number) or number < 1:
        raise Unreadable("a row number that is not whole")
    return int(number)


@contextmanager
def open_sheet(file: IO[bytes]) -> Iterator[WorksheetReader]:
    """The first worksheet of the XLSX file open as ``file``. ``Unreadable`` (``NoWorksheet`` for
    a workbook of chart sheets only), ``zipfile.BadZipFile`` or ``KeyError`` when it is no workbook."""
    with ExitStack() as stack:
        archive = stack.enter_context(zipfile.ZipFile(file))
        book = xp.workbook_part(archive)
        relations = xp.rels(archive, book)
        root = xp.small_part(archive.read(book))
        sheets = [
            relations.get(s.get(xp.REL) or s.get(xp.STRICT_REL) or "") for s in root.iterfind("{*}sheets/{*}sheet")
        ]
        worksheets = [target for kind, target in filter(None, sheets) if kind == "worksheet"]
        if not worksheets:
            raise NoWorksheet("a workbook without a worksheet")
        properties = root.find("{*}workbookPr")
        mac = properties is not None and properties.get("date1904", "").lower() in ("1", "true")
        parts = {kind: target for kind, target in relations.values()}
        styles = xp.date_styles(archive.read(parts["styles"])) if "styles" in parts else (frozenset(), frozenset())
        strings = xp.SharedStrings(stack)
        xp.read_strings(archive, parts.get("sharedStrings"), strings)
        yield WorksheetReader(archive, worksheets[0], strings, styles, xp.MAC_EPOCH if mac else xp.WINDOWS_EPOCH)
