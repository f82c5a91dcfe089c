"""Cells a spreadsheet would run as formulas are written as text (CSV injection)."""

import csv
import io

import pytest
from sms_platform.foundation.spreadsheets import csv_text, safe_cell


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ('=HYPERLINK("http://x.cn","点击")', '\'=HYPERLINK("http://x.cn","点击")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+9)*cmd|' /C calc'!A0", "'@SUM(1+9)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-5", "'-5"),  # a negative number too: see FORMULA_STARTS
        ("=cm*************A0", "'=cm*************A0"),  # a masked refused number keeps its first characters
        ("'=1+1", "'=1+1"),  # already text to a spreadsheet
        ("person", "person"),
        ("139****0005", "139****0005"),
        ("证件号码：公民身份号码无效", "证件号码：公民身份号码无效"),
        ("a=1+1", "a=1+1"),  # a formula only at the start of a cell
        (" =1+1", " =1+1"),
        ("12", "12"),
        ("", ""),
        (None, ""),
        (6, "6"),
    ],
)
def test_a_cell_that_would_start_a_formula_is_written_as_text(cell, written):
    assert safe_cell(cell) == written


def test_csv_text_neutralises_every_cell_and_reads_back_as_written():
    rows = [["行号", "类型", "原因"], [6, "=cmd|' /C calc'!A0", "类型：应为 person 或 unit"], [8, "-5", 'a,"b"\nc']]
    text = csv_text(rows)
    assert list(csv.reader(io.StringIO(text))) == [
        ["行号", "类型", "原因"],
        ["6", "'=cmd|' /C calc'!A0", "类型：应为 person 或 unit"],
        ["8", "'-5", 'a,"b"\nc'],
    ]
