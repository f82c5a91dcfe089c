"""The streaming XLSX reader (``value_sheet_xlsx``) against openpyxl's read-only, ``data_only``
answers on the same files: files openpyxl writes, and files written by hand in the shapes Excel,
WPS and other tools produce (shared and rich text, phonetic runs, skipped cells and rows, formulas
with cached values, dates by number format, the 1904 date system, namespace prefixes, attributes
in any order, comments and CDATA, absolute part names), read whole and in tiny blocks; and where
it answers differently from openpyxl on purpose."""

from __future__ import annotations

import gc
import io
import tracemalloc
import zipfile
from datetime import date, datetime, time, timedelta
from html import escape
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.sources import value_sheet_files, value_sheet_xlsx
from sms_platform.sources import value_sheet_xlsx_parts as xp

# openpyxl warns of what the hand-written files leave out (a default cell style) and of a date
# past its limits, which these tests write on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:openpyxl")

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"


def ours(path: Path) -> tuple[list[tuple], int | None]:
    with path.open("rb") as file, value_sheet_xlsx.open_sheet(file) as sheet:
        return list(sheet.rows()), sheet.max_row


def openpyxl_rows(path: Path) -> tuple[list[tuple], int | None]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        return list(sheet.iter_rows(values_only=True)), sheet.max_row
    finally:
        book.close()


_OFFICE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
CONTENT_TYPES = (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OFFICE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OFFICE}.worksheet+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{_OFFICE}.worksheet+xml"/>'
    f'<Override PartName="/xl/chartsheets/sheet1.xml" ContentType="{_OFFICE}.chartsheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OFFICE}.styles+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_OFFICE}.sharedStrings+xml"/></Types>'
)


def _styles(formats: dict[int, str], xfs: list[int]) -> str:
    codes = "".join(f'<numFmt numFmtId="{i}" formatCode="{escape(c)}"/>' for i, c in formats.items())
    cells = "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0"/>' for n in xfs)
    return (
        f'<styleSheet xmlns="{MAIN}"><numFmts count="{len(formats)}">{codes}</numFmts>'
        '<fonts count="1"><font/></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        f'<cellXfs count="{len(xfs)}">{cells}</cellXfs></styleSheet>'
    )


def book(
    path: Path,
    rows: str,
    *,
    strings: list[str] | None = None,
    styles: str | None = None,
    dimension: str | None = None,
    date1904: bool = False,
    prefix: str = "",
    absolute: bool = False,
    head: str = "",
) -> Path:
    """A workbook written by hand: ``rows`` is the XML inside ``<sheetData>``; ``strings`` the
    shared-string items' inner XML."""
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n{head}<{p}worksheet {xmlns} xmlns:r="{RELS}">'
        f'{dim}<{p}sheetViews><{p}sheetView workbookViewId="0"/></{p}sheetViews><{p}cols><{p}col min="1" max="2" '
        f'width="20" customWidth="1"/></{p}cols><{p}sheetData>{rows}</{p}sheetData>'
        f'<{p}rowBreaks count="0"/><{p}conditionalFormatting sqref="A1"/></{p}worksheet>'
    )
    at = "/xl/" if absolute else ""
    parts = {
        "[Content_Types].xml": CONTENT_TYPES,
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
        f'Type="{RELS}/officeDocument" Target="{"/" if absolute else ""}xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><workbookPr date1904="{int(date1904)}"/>'
        '<sheets><sheet name="图表" sheetId="2" r:id="rId9"/><sheet name="名单" sheetId="1" r:id="rId1"/>'
        '<sheet name="其他" sheetId="3" r:id="rId2"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE}">'
        f'<Relationship Id="rId9" Type="{RELS}/chartsheet" Target="{at}chartsheets/sheet1.xml"/>'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="{at}worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELS}/worksheet" Target="{at}worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{RELS}/styles" Target="{at}styles.xml"/>'
        f'<Relationship Id="rId4" Type="{RELS}/sharedStrings" Target="{at}sharedStrings.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": sheet,
        "xl/worksheets/sheet2.xml": f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr">'
        "<is><t>second</t></is></c></row></sheetData></worksheet>",
        "xl/chartsheets/sheet1.xml": f'<chartsheet xmlns="{MAIN}"/>',
        "xl/chartsheets/_rels/sheet1.xml.rels": f'<Relationships xmlns="{PACKAGE}"/>',
        "xl/styles.xml": styles or _styles({}, [0]),
    }
    items = "".join(f"<{p}si>{s}</{p}si>" if s else f"<{p}si/>" for s in strings or [])
    parts["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0"?><{p}sst {xmlns} count="{len(strings or [])}">{items}</{p}sst>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    return path


def the_same(path: Path) -> list[tuple]:
    read, mine = openpyxl_rows(path), ours(path)
    assert mine == read
    return mine[0]


@pytest.fixture(params=[xp.BLOCK, 7], ids=["whole", "in-7-byte-blocks"])
def blocks(request, monkeypatch):
    """Each file read as it comes and again inflated 7 bytes at a time, so every element is cut
    somewhere between two blocks."""
    monkeypatch.setattr(xp, "BLOCK", request.param)


# ---------------------------------------------------------------------------- as openpyxl reads


def test_a_workbook_openpyxl_writes_reads_the_same(tmp_path, blocks):
    workbook = Workbook()
    sheet = workbook.active
    rows = [
        ["身份证号", "手机号", "金额", "日期", "时间", "是否", "备注"],
        ["37100219500101000X", 13912345678, 1234.5, datetime(2025, 3, 31), time(9, 30), True, "A & B <c> \"d\" 'e'"],
        ["371002195001010009", None, -0, date(2025, 4, 30), datetime(2025, 4, 1, 8, 15, 30), False, "第一行\n第二行"],
        [None, None, None, None, None, None, None],
        ["=cmd|' /C calc'!A0", "", 0.1 + 0.2, datetime(1900, 1, 1), None, None, "  前后有空格  "],
        [12345678901234567890, 1e-7, 3, None, None, None, "𠀀😀"],
    ]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                cell = sheet.cell(r, c, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
    sheet.cell(9, 2, "跳过的行之后")
    workbook.save(tmp_path / "o.xlsx")
    read = the_same(tmp_path / "o.xlsx")
    assert read[1][:4] == ("37100219500101000X", 13912345678, 1234.5, datetime(2025, 3, 31))
    assert read[4][0] == "=cmd|' /C calc'!A0" and read[8] == (None, "跳过的行之后", None, None, None, None, None)


def test_shared_rich_and_phonetic_text_skipped_cells_and_rows_formulas_and_errors(tmp_path, blocks):
    strings = [
        "<t>身份证号</t>",
        '<t xml:space="preserve">  张 三  </t>',
        '<r><rPr><b/><color rgb="FFFF0000"/><sz val="11"/><charset val="134"/></rPr><t>王</t></r>'
        '<r><t xml:space="preserve">五 </t></r><rPh sb="0" eb="1"><t>ワン</t></rPh><phoneticPr fontId="1"/>',
        "<t>A&amp;B &lt;x&gt; &#x4E2D;&#25991; &quot;q&quot; &apos;s&apos;</t>",
        "<t>line1\r\nline2\rline3&#13;</t>",
        "",
        "<t/>",
        "<t>x005F_x000D_ kept</t>",
    ]
    rows = (
        '<row r="1" spans="1:6"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="0" t="s"><v>3</v></c><c r="E2" t="s"><v>4</v></c></row>'
        '<row r="3"><c r="A3" t="s"><v>5</v></c><c r="B3" t="s"><v>6</v></c><c r="C3" t="s"><v>7</v></c></row>'
        '<row r="5" ht="20" customHeight="1"><c r="A5"><f>1+1</f><v>2</v></c><c r="B5" t="str"><f>"a"&amp;"b"</f>'
        '<v>ab</v></c><c r="C5" t="b"><f>TRUE()</f><v>1</v></c><c r="D5" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        '<c r="E5" t="e"><v>#N/A</v></c><c r="F5"><f>A1</f></c></row>'
        '<row r="6"><c r="A6"><v>1.5E3</v></c><c r="B6"><v>-12</v></c><c r="C6"><v></v></c><c r="D6" t="s"/>'
        '<c r="E6" t="inlineStr"><is><r><t>富</t></r><r><rPr><i/></rPr><t>文本</t></r></is></c>'
        '<c r="F6" t="inlineStr"/></row>'
        '<row r="7"/><row r="8" spans="1:2"></row><row r="9"><c r="F9" t="inlineStr"><is><t>9</t></is></c></row>'
    )
    path = book(tmp_path / "x.xlsx", rows, strings=strings, dimension="A1:F9")
    read = the_same(path)
    assert read[1] == ("王五 ", "A&B <x> 中文 \"q\" 's'", None, None, "line1\nline2\nline3\r", None)
    assert read[4] == (2, "ab", True, "#DIV/0!", "#N/A", None)
    assert read[3] == (None,) * 6  # row 4 is missing: read as an empty row


def test_dates_and_times_by_number_format_as_openpyxl_reads_them(tmp_path, blocks):
    formats = {164: "yyyy/m/d", 165: '"截止"yyyy-mm-dd', 166: "[h]:mm:ss", 167: "0.00_);[Red]\\(0.00\\)", 168: "#,##0"}
    xfs = [0, 14, 22, 20, 164, 165, 166, 167, 168, 49, 2]
    cells = "".join(f'<c r="{chr(65 + s)}1" s="{s}"><v>45747.5</v></c>' for s in range(len(xfs)))
    small = "".join(f'<c r="{chr(65 + s)}2" s="{s}"><v>0.25</v></c>' for s in range(len(xfs)))
    early = '<c r="A3" s="1"><v>59</v></c><c r="B3" s="1"><v>61</v></c><c r="C3" s="1"><v>1</v></c>'
    early += '<c r="D3" s="6"><v>1.000011574</v></c><c r="E3" s="1"><v>3000000</v></c>'
    path = book(
        tmp_path / "d.xlsx",
        f'<row r="1">{cells}</row><row r="2">{small}</row><row r="3">{early}</row>',
        styles=_styles(formats, xfs),
        dimension="A1:K3",
    )
    read = the_same(path)
    assert read[0][:4] == (45747.5, datetime(2025, 3, 31, 12), datetime(2025, 3, 31, 12), datetime(2025, 3, 31, 12))
    assert read[0][6] == timedelta(days=45747.5) and read[0][7:] == (45747.5,) * 4
    assert read[1][1] == time(6) and read[2][:3] == (datetime(1900, 2, 28), datetime(1900, 3, 1), datetime(1900, 1, 1))
    assert read[2][4] == "#VALUE!"  # past the last date Python holds: an error, as openpyxl has it


def test_the_1904_date_system_iso_date_cells_and_booleans(tmp_path, blocks):
    styles = _styles({}, [0, 14])
    rows = (
        '<row r="1"><c r="A1" s="1"><v>0</v></c><c r="B1" s="1"><v>44286</v></c>'
        '<c r="C1" t="d"><v>2025-03-31</v></c><c r="D1" t="d"><v>2025-03-31T08:30:00</v></c>'
        '<c r="E1" t="d"><v>09:15</v></c><c r="F1" t="b"><v>0</v></c></row>'
    )
    read = the_same(book(tmp_path / "m.xlsx", rows, styles=styles, dimension="A1:F1", date1904=True))
    assert read[0] == (
        time(0),
        datetime(2025, 4, 1),
        date(2025, 3, 31),
        datetime(2025, 3, 31, 8, 30),
        time(9, 15),
        False,
    )


@pytest.mark.parametrize("prefix", ["", "x"])
def test_cells_without_references_attributes_in_any_order_and_a_namespace_prefix(tmp_path, blocks, prefix):
    p = f"{prefix}:" if prefix else ""
    rows = (
        f'<{p}row><{p}c t="inlineStr"><{p}is><{p}t>一</{p}t></{p}is></{p}c><{p}c><{p}v>2</{p}v></{p}c>'
        f'<{p}c r="E1"><{p}v>5</{p}v></{p}c><{p}c><{p}v>6</{p}v></{p}c></{p}row>'
        f"<{p}row r='3' spans='1:3'><{p}c t='s' s='0' r='B3'><{p}v>0</{p}v></{p}c>"
        f'<{p}c   t = "b"   r = "C3" ><{p}v>1</{p}v></{p}c ></{p}row >'
        f'<{p}row><{p}c r="A4" t="s"><{p}v>1</{p}v></{p}c></{p}row>'
    )
    strings = [f"<{p}t>共享</{p}t>", f"<{p}r><{p}t>第</{p}t></{p}r><{p}r><{p}t>二</{p}t></{p}r>"]
    read = the_same(book(tmp_path / "p.xlsx", rows, strings=strings, prefix=prefix))
    assert read == [("一", 2, None, None, 5, 6), [], (None, "共享", True), ("第二",)]


def test_comments_processing_instructions_and_cdata_are_read_as_an_xml_parser_reads_them(tmp_path, blocks):
    rows = (
        '<!-- a comment with <row r="7"> in it --><row r="1"><?pi data?><c r="A1" t="inlineStr"><is><t>'
        '<![CDATA[<b>&amp; 原样</b>]]></t></is></c><c r="B1" t="str"><v>a<![CDATA[]]>b</v></c></row>'
    )
    read = the_same(book(tmp_path / "c.xlsx", rows, dimension="A1:B1"))
    assert read == [("<b>&amp; 原样</b>", "ab")]


def test_absolute_part_names_and_the_first_worksheet_after_a_chart_sheet(tmp_path, blocks):
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>第一个工作表</t></is></c></row>'
    assert the_same(book(tmp_path / "a.xlsx", rows, absolute=True)) == [("第一个工作表",)]


def test_many_shared_strings_are_looked_up_from_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(xp, "INDEX_BLOCK", 3)  # the index written in many pieces
    strings = [f"<t>{n:05d}号{'长' * (n % 7)}</t>" for n in range(200)]
    rows = "".join(f'<row r="{n + 1}"><c r="A{n + 1}" t="s"><v>{199 - n}</v></c></row>' for n in range(200))
    read = the_same(book(tmp_path / "s.xlsx", rows, strings=strings, dimension="A1:A200"))
    assert read[0] == (f"00199号{'长' * (199 % 7)}",) and read[-1] == ("00000号",)


def test_the_heap_stays_flat_however_many_distinct_shared_strings(tmp_path):
    def peak(count: int) -> int:
        strings = [f"<t>{n:08d}{'文' * 8}</t>" for n in range(count)]
        rows = "".join(f'<row r="{n + 1}"><c r="A{n + 1}" t="s"><v>{n}</v></c></row>' for n in range(count))
        path = book(tmp_path / f"{count}.xlsx", rows, strings=strings)
        gc.collect()
        tracemalloc.start()
        try:
            with path.open("rb") as file, value_sheet_xlsx.open_sheet(file) as sheet:
                for last in sheet.rows():  # noqa: B007 - only the last row is kept
                    pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            assert last == (f"{count - 1:08d}{'文' * 8}",)

    small, large = peak(1_000), peak(20_000)
    assert large - small < 1024 * 1024  # 19,000 more texts would take ~2 MiB as Python strings


# ---------------------------------------------------------------------------- on purpose unlike openpyxl


def test_rows_past_a_stale_dimension_are_read(tmp_path):
    """Some tools always write ``<dimension ref="A1"/>``: openpyxl stops after row 1 there."""
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c><c r="B{n}"><v>{n}</v></c></row>' for n in (1, 2, 3))
    path = book(tmp_path / "stale.xlsx", rows, dimension="A1")
    assert openpyxl_rows(path)[0] == [(1,)]
    assert ours(path) == ([(1, 1), (2, 2), (3, 3)], 1)


def test_east_asian_built_in_date_formats_are_dates(tmp_path):
    """Excel and WPS in Chinese write 年月日 formats as built-in ids without a code, which
    openpyxl reads as plain numbers."""
    styles = _styles({}, [0, 31, 57, 58, 32])
    cells = "".join(f'<c r="{chr(65 + s)}1" s="{s}"><v>{45747.75 if s < 4 else 0.75}</v></c>' for s in range(5))
    path = book(tmp_path / "zh.xlsx", f'<row r="1">{cells}</row>', styles=styles, dimension="A1:E1")
    assert openpyxl_rows(path)[0] == [(45747.75, 45747.75, 45747.75, 45747.75, 0.75)]
    at = datetime(2025, 3, 31, 18)
    assert ours(path)[0] == [(45747.75, at, at, at, time(18))]


# ---------------------------------------------------------------------------- refused


def _upload(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "upload"
    path.write_bytes(data)
    return path


def _read(path: Path) -> list:
    with value_sheet_files.reading(path, value_sheet_files.sniff_format(path)) as (rows, _):
        return list(rows)


def _replaced(path: Path, name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            if item.filename != name:
                target.writestr(item, source.read(item))
        if data:
            target.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("xl/worksheets/sheet1.xml", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet><sheetData/></worksheet>'),
        ("xl/styles.xml", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><styleSheet/>'),
        ("xl/worksheets/sheet1.xml", b""),  # the part named by the workbook is missing
        ("xl/worksheets/sheet1.xml", b"<worksheet><sheetData><row><c><v>abc</v></c></row></sheetData></worksheet>"),
        ("xl/sharedStrings.xml", b"<sst><si><t>only one</t></si></sst>"),  # the sheet asks for string 1
    ],
    ids=["entity declarations", "entities in styles", "no worksheet part", "a number that is none", "a string missing"],
)
def test_a_damaged_workbook_is_refused_in_chinese(tmp_path, name, data):
    rows = '<row r="1"><c r="A1" t="s"><v>1</v></c></row>'
    path = book(tmp_path / "ok.xlsx", rows, strings=["<t>a</t>", "<t>b</t>"])
    with pytest.raises(ValidationFailed) as refused:
        _read(_upload(tmp_path, _replaced(path, name, data)))
    assert refused.value.message == "XLSX 文件无法读取，请在 Excel 中重新保存后上传"


def test_a_shared_string_table_past_what_a_list_can_use_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(xp, "MAX_STRINGS", 3)
    path = book(tmp_path / "bomb.xlsx", '<row r="1"><c r="A1" t="s"><v>0</v></c></row>', strings=["<t>x</t>"] * 4)
    with pytest.raises(ValidationFailed) as refused:
        _read(path)
    assert refused.value.message == "XLSX 文件无法读取，请在 Excel 中重新保存后上传"


def test_a_truncated_upload_is_refused_in_chinese(tmp_path):
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 3000))
    data = book(tmp_path / "big.xlsx", rows).read_bytes()
    with pytest.raises(ValidationFailed) as refused:
        _read(_upload(tmp_path, data[: len(data) // 2]))
    assert refused.value.message == "XLSX 文件无法读取，请在 Excel 中重新保存后上传"


def test_a_workbook_of_chart_sheets_only_is_an_empty_file(tmp_path):
    path = book(tmp_path / "charts.xlsx", "")
    data = _replaced(path, "xl/_rels/workbook.xml.rels", (
        f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId9" Type="{RELS}/chartsheet" '
        'Target="chartsheets/sheet1.xml"/></Relationships>'
    ).encode())  # fmt: skip
    assert _read(_upload(tmp_path, data)) == []
