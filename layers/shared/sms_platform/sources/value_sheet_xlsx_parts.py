"""The parts of an XLSX file that ``value_sheet_xlsx`` reads before and beside its worksheet's
rows: the shapes of SpreadsheetML elements as regular expressions, a part read in pieces of whole
elements, character data as an XML parser reports it, the workbook's relationships, the styles
whose number format is a date, the shared-string table kept on disk, and Excel's serial dates."""

from __future__ import annotations

import codecs
import mmap
import re
import tempfile
import zipfile
from array import array
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime, time, timedelta
from posixpath import dirname, join, normpath
from typing import IO, Any
from xml.etree import ElementTree

BLOCK = 64 * 1024
INDEX_BLOCK = 8192  # shared-string ends held (64 KiB) before they are written to the index file
# Distinct texts of a list of 200,000 rows (``MAX_ROWS``) of up to 25 columns: a part inflating
# past it is a compressed bomb, refused before it fills the worker's disk.
MAX_STRINGS = 5_000_000
MAX_ROW_BYTES = 32 * 1024 * 1024  # one row's XML; past it the file is refused, not held
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
STRICT_REL = "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"
WINDOWS_EPOCH = datetime(1899, 12, 30)
MAC_EPOCH = datetime(1904, 1, 1)

# Built-in number formats that are dates or times: as openpyxl's table (14-22, 45-47), and the
# East Asian ones Excel and WPS write without a format code (27-36, 50-58).
_BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_BUILTIN_TIMEDELTAS = frozenset([46])
# openpyxl's tests of a format code (styles/numbers.py): the first section, without quoted
# literals and bracketed locales or colours, holding a date or time letter not escaped.
_LITERALS = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
_DATE_LETTER = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_TIMEDELTA = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
_ISO = re.compile(
    r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(:(?P<second>\d{2})(?P<microsecond>\.\d{1,3})?)?)?Z?"
)
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")
_SPECIAL = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!\[CDATA\[(.*?)\]\]>", re.S)


class Unreadable(ValueError):
    """The file is not an XLSX workbook this reader can read."""


class NoWorksheet(Unreadable):
    """A workbook of chart sheets only."""


# ---------------------------------------------------------------------------- text


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name[0] != "#":
        return _NAMED[name]
    return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))


def xml_text(raw: bytes) -> str:
    """Character data as an XML parser reports it: line ends as ``\\n``, references resolved."""
    text = raw.decode()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    return text


def _plain(xml: bytes) -> bytes:
    """Comments and processing instructions dropped, CDATA sections written as escaped text."""

    def one(match: re.Match[bytes]) -> bytes:
        data = match.group(1)
        if data is None:
            return b""
        return data.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")

    return _SPECIAL.sub(one, xml)


class Shapes:
    """The regular expressions of one part's elements under its namespace prefix."""

    def __init__(self, prefix: bytes) -> None:
        p = re.escape(prefix)

        def element(name: bytes) -> re.Pattern[bytes]:
            # <name ...>body</name> or <name .../>; group 1 the attributes, group 2 the body
            return re.compile(rb"<%s%s\b([^>]*?)(?:/>|>(.*?)</%s%s\s*>)" % (p, name, p, name), re.S)

        self.prefix = prefix
        self.row, self.cell, self.si = element(b"row"), element(b"c"), element(b"si")
        self.value = re.compile(rb"<%sv(?:\s[^>]*?)?(?<!/)>(.*?)</%sv\s*>" % (p, p), re.S)
        self.inline = re.compile(rb"<%sis(?:\s[^>]*?)?(?<!/)>(.*?)</%sis\s*>" % (p, p), re.S)
        self.text = re.compile(rb"<%st(?:\s[^>]*?)?(?<!/)>(.*?)</%st\s*>" % (p, p), re.S)
        self.phonetic = re.compile(rb"<%srPh\b.*?(?:</%srPh\s*>)" % (p, p), re.S)
        self.has_phonetic = b"<" + prefix + b"rPh"
        # Rows and cells of the usual shapes, as Excel, WPS and openpyxl write them, found in one
        # pass over a piece of rows: (row number, "/" of an empty row) or (column letters, style,
        # type, <v>..</v>, <is><t>..</t></is>). A piece with anything else is read the general way.
        self.fast = None
        if not prefix:
            self.fast = re.compile(
                rb'<row r="([0-9]+)"[^>]*?(/?)>'
                rb'|<c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?\s*'
                rb"(?:/>|>(?:(<v>[^<]*</v>)|(<is><t>[^<]*</t></is>))?</c>)"
            )

    def rich_text(self, body: bytes) -> str:
        """A string item's text (``<t>`` or its runs' ``<t>``), phonetic runs left out."""
        if self.has_phonetic in body:
            body = self.phonetic.sub(b"", body)
        return "".join(xml_text(part) for part in self.text.findall(body))


def _prefix(head: bytes, root: bytes) -> bytes | None:
    """The namespace prefix of the part's root element (``b""`` for none), None while ``head``
    does not reach it yet."""
    match = re.search(rb"<([A-Za-z_][\w.-]*:)?%s[\s/>]" % root, head)
    if match is None:
        return None
    if b"<!DOCTYPE" in head[: match.start()]:
        raise Unreadable("document type declarations are not read")
    return match.group(1) or b""


def _utf8_blocks(stream: IO[bytes]) -> Iterator[bytes]:
    """A part's bytes in blocks, as UTF-8 (a part may be saved in UTF-16)."""
    first = stream.read(BLOCK)
    encoding = "utf-16" if first[:2] in (b"\xff\xfe", b"\xfe\xff") else None
    if encoding is None:
        yield first.removeprefix(codecs.BOM_UTF8)
        while block := stream.read(BLOCK):
            yield block
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    block = first
    while block:
        yield decoder.decode(block).encode()
        block = stream.read(BLOCK)


_SPECIAL_ENDS = ((b"<?", b"?>"), (b"<![CDATA[", b"]]>"), (b"<!--", b"-->"))


def _closed(data: bytes, start: int, cut: int) -> bool:
    """Whether the comment, CDATA section or processing instruction at ``start`` ends before ``cut``."""
    for opening, end in _SPECIAL_ENDS:
        if data.startswith(opening, start):
            return data.find(end, start + len(opening), cut) >= 0
    return True


def _cut(data: bytes, cut_at: bytes) -> int:
    """The last ``cut_at`` outside a comment, CDATA section or processing instruction."""
    cut = data.rfind(cut_at)
    while cut > 0:
        special = max(data.rfind(b"<!", 0, cut), data.rfind(b"<?", 0, cut))
        if special < 0 or _closed(data, special, cut):
            return cut
        cut = data.rfind(cut_at, 0, special)
    return cut


def pieces(stream: IO[bytes], root: bytes, item: bytes) -> Iterator[tuple[Shapes, bytes]]:
    """(shapes, piece) of a part, each piece cut before the last ``<item`` start of what has been
    inflated so far: only whole items are read, and one is carried to the next block."""
    carry, shapes, cut_at = b"", None, b""
    for block in _utf8_blocks(stream):
        data = carry + block
        if shapes is None and (prefix := _prefix(data, root)) is not None:
            shapes = Shapes(prefix)
            cut_at = b"<" + prefix + item
        cut = _cut(data, cut_at) if shapes is not None else -1
        if cut <= 0:
            if len(data) > MAX_ROW_BYTES:
                raise Unreadable("an element too large to read")
            carry = data
            continue
        carry = data[cut:]
        yield shapes, data[:cut]
    if shapes is None:
        raise Unreadable("an empty part")
    yield shapes, carry


def clean(piece: bytes) -> bytes:
    """``piece`` as plain XML (``_plain``); an XML declaration at its very start is left there."""
    return _plain(piece) if b"<!" in piece or piece.find(b"<?", 1) >= 0 else piece


# ---------------------------------------------------------------------------- the workbook's parts


def small_part(xml: bytes) -> ElementTree.Element:
    """A small part (relationships, workbook, styles) as a tree. A document type declaration,
    the only way to entity expansion or an external entity, is refused before parsing."""
    if b"<!DOCTYPE" in xml:
        raise Unreadable("document type declarations are not read")
    return ElementTree.fromstring(xml)  # noqa: S314 - no document type declaration, checked above


def rels(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """A part's relationships: id -> (type's last word, target part)."""
    path = join(dirname(part), "_rels", part.rsplit("/", 1)[-1] + ".rels")
    if path not in archive.NameToInfo:
        return {}
    found = {}
    for rel in small_part(archive.read(path)).iter():
        target = rel.get("Target")
        if target is None or rel.get("TargetMode") == "External":
            continue
        full = target[1:] if target.startswith("/") else normpath(join(dirname(part), target))
        found[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], full)
    return found


def workbook_part(archive: zipfile.ZipFile) -> str:
    for kind, target in rels(archive, "").values():
        if kind == "officeDocument":
            return target
    return "xl/workbook.xml"


def date_styles(xml: bytes) -> tuple[frozenset[int], frozenset[int]]:
    """The cell styles (``s``) whose number format shows a date or time, and those of them that
    show a duration (``[h]:mm``)."""
    root = small_part(xml)
    codes = {int(f.get("numFmtId", "-1")): f.get("formatCode", "") for f in root.iterfind("{*}numFmts/{*}numFmt")}
    dates, durations = set(), set()
    for index, xf in enumerate(root.iterfind("{*}cellXfs/{*}xf")):
        number = int(xf.get("numFmtId", "0"))
        if number in codes:
            first = codes[number].split(";")[0]
            is_date = _DATE_LETTER.search(_LITERALS.sub("", first)) is not None
            is_duration = _TIMEDELTA.search(first) is not None
        else:
            is_date, is_duration = number in _BUILTIN_DATES, number in _BUILTIN_TIMEDELTAS
        if is_date:
            dates.add(index)
        if is_duration:
            durations.add(index)
    return frozenset(dates), frozenset(durations)


class SharedStrings:
    """The shared-string table in a temporary file (UTF-8 texts end to end, and an index of where
    each ends), opened as a memory map: looked up by number, never held in the Python heap."""

    def __init__(self, stack: ExitStack) -> None:
        # closed (and so deleted) by the caller's stack, with the memory maps made of them
        self._data = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self._ends = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        self._stack = stack
        self._pending = array("Q")
        self._size = 0
        self._count = 0
        self._text: Any = b""
        self._index: Any = ()

    def _flush(self) -> None:
        self._ends.write(self._pending.tobytes())
        self._pending = array("Q")

    def add(self, text: str) -> None:
        data = text.encode()
        self._data.write(data)
        self._size += len(data)
        self._pending.append(self._size)
        self._count += 1
        if self._count > MAX_STRINGS:
            raise Unreadable("more shared strings than a list can use")
        if len(self._pending) >= INDEX_BLOCK:
            self._flush()

    def close_writing(self) -> None:
        self._flush()
        if self._count:
            self._data.flush()
            self._ends.flush()
            self._text = self._map(self._data) if self._size else b""
            ends = memoryview(self._map(self._ends)).cast("Q")
            self._stack.callback(ends.release)
            self._index = ends

    def _map(self, file: IO[bytes]) -> mmap.mmap:
        mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self._stack.callback(mapped.close)
        return mapped

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, number: int) -> str:
        if not 0 <= number < self._count:
            raise Unreadable("a shared string that is not there")
        start = self._index[number - 1] if number else 0
        return self._text[start : self._index[number]].decode()


def read_strings(archive: zipfile.ZipFile, part: str | None, strings: SharedStrings) -> None:
    if part is not None and part in archive.NameToInfo:
        with archive.open(part) as stream:
            for shapes, piece in pieces(stream, b"sst", b"si"):
                for match in shapes.si.finditer(clean(piece)):
                    body = match.group(2)
                    text = shapes.rich_text(body) if body else ""
                    strings.add(text.replace("x005F_", "") if "x005F_" in text else text)
    strings.close_writing()


# ---------------------------------------------------------------------------- cell values


def from_excel(value: float, epoch: datetime, duration: bool) -> Any:
    """openpyxl's ``from_excel``: a serial number as a datetime, a time of day below 1, or a duration."""
    if duration:
        span = timedelta(days=value)
        if span.microseconds:
            span = timedelta(seconds=span.total_seconds() // 1, microseconds=round(span.microseconds, -3))
        return span
    day, fraction = divmod(value, 1)
    diff = timedelta(milliseconds=round(fraction * 86_400_000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return time(hours, minutes, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_EPOCH:
        day += 1  # Excel's 29 February 1900
    return epoch + timedelta(days=day) + diff


def from_iso(text: str) -> Any:
    """openpyxl's ``from_ISO8601`` for a ``t="d"`` cell (its durations aside)."""
    match = _ISO.match(text)
    if not (match and any(match.groups())):
        raise Unreadable("a date cell that is not an ISO 8601 date")
    whole = ("year", "month", "day", "hour", "minute", "second")
    parts = {key: int(found) for key, found in match.groupdict().items() if found and key in whole}
    micro = match.group("microsecond")
    parts["microsecond"] = int(float(micro) * 1_000_000) if micro else 0
    if not match.group("date"):
        return time(parts.get("hour", 0), parts.get("minute", 0), parts.get("second", 0), parts["microsecond"])
    if not match.group("time"):
        return date(parts["year"], parts["month"], parts["day"])
    return datetime(**parts)


COLUMNS: dict[bytes, int] = {}  # column letters met so far, at most the 16,384 Excel has


def column(letters: bytes) -> int:
    column = COLUMNS.get(letters)
    if column is None:
        column = 0
        for letter in letters.upper():
            column = column * 26 + letter - 64
        COLUMNS[letters] = column
    return column
