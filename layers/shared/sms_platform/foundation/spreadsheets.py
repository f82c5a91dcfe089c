"""Files staff open in a spreadsheet program, written so that no cell runs as a formula.

A CSV cell holding ``=cmd|' /C calc'!A0`` or ``=HYPERLINK(...)`` is a formula to Excel and
WPS: opening the file would run it (CSV injection, OWASP). Cells come from uploaded files and
other people's input, so every CSV the platform writes goes through ``csv_text``, which
neutralises each cell as OWASP advises: a cell that begins with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a single quote in front, and the spreadsheet shows it as text.
An XLSX writer, should one be added, must pass its cells through ``safe_cell`` too.

Pure: no AWS, no I/O beyond the string it returns.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# Characters a spreadsheet reads as the start of a formula (OWASP's list). A legitimate
# negative number such as ``-5`` is neutralised too and shows as the text '-5: telling a
# number from ``-1+cmd|...`` by parsing is where filters have been slipped past, and the
# reports that use this hold codes and reasons, not sums to add up.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell as text, with a leading ``'`` when it would otherwise begin a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(cells: Iterable[object]) -> list[str]:
    return [safe_cell(cell) for cell in cells]


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """Rows as CSV text (``\\r\\n`` line ends, quoted where needed), every cell neutralised."""
    out = io.StringIO()
    csv.writer(out).writerows(safe_row(row) for row in rows)
    return out.getvalue()
