"""The rules of a personalised list's rows, pure: no AWS, no files.

- ``columns``: which column holds the identifier, the optional phone and each template variable
  (a variable's column is headed by its name, ``${name}``, or its type's Chinese label when no
  other variable of the template has that type, e.g. 金额).
- ``cell_text``: a cell as the text a person sees in Excel (numbers without a trailing ``.0``,
  dates as ``2025-03-31``). A cell that begins with ``=`` is text like any other: nothing here
  evaluates it, and every file the platform writes neutralises it (``foundation.spreadsheets``).
- ``RowChecker``: one row checked against the identifier's check digit, the phone's form and the
  template's typed variables and lengths (``text.templating``), rendered and measured
  (``text.sms``). A second row with an identifier already seen is refused, naming the first.
- ``Tally``: what staff see of a whole sheet without it being held in memory: counts, the
  first rows, the longest message and the parts per message.

Reasons are Chinese and never repeat a value: a report shows values masked only.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, NamedTuple

from sms_platform.contacts.validation import mask_unchecked
from sms_platform.foundation import identifiers
from sms_platform.foundation.errors import ContentRejected, ValidationFailed
from sms_platform.sources.value_sheet_models import MAX_ROWS, PREVIEW_ROWS, REJECT_SAMPLE, MessagePreview, PartsCount
from sms_platform.text import sms, templating
from sms_platform.text.templating import VARIABLE_TYPE_LABELS, VariableSpec

ID_HEADERS: dict[str, tuple[str, ...]] = {
    "person": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "证件号", "id", "id_number"),
    "unit": ("统一社会信用代码", "社会信用代码", "信用代码", "证件号码", "证件号", "id", "credit_code"),
}
ID_NAMES = {"person": "身份证号", "unit": "统一社会信用代码"}
PHONE_HEADERS = ("手机号", "手机号码", "手机", "联系电话", "phone", "mobile")
_SPACES = re.compile(r"[\s\u3000\ufeff]+")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _header_key(cell: object) -> str:
    text = _SPACES.sub("", cell_text(cell))
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text.casefold()


# ---------------------------------------------------------------------------- cells


def cell_text(value: object) -> str:
    """A cell's value as text, as the spreadsheet shows it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # Excel keeps 15 significant digits: 0.1 + 0.2 is 0.3 there, and 100.0 is 100.
        return f"{value:.15g}"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


# ---------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Columns:
    identifier: int
    phone: int | None
    variables: tuple[int, ...]  # the column of each declared variable, in declaration order
    used: tuple[str, ...]  # the headers used, as written
    unused: tuple[str, ...]  # headers of columns nothing reads


def _variable_keys(specs: Sequence[VariableSpec]) -> dict[str, int]:
    """Header keys naming each variable: its name and, when unambiguous, its type's label."""
    keys = {spec.name.casefold(): index for index, spec in enumerate(specs)}
    for index, spec in enumerate(specs):
        label = VARIABLE_TYPE_LABELS[spec.type]
        if sum(1 for other in specs if other.type == spec.type) == 1:
            keys.setdefault(label.casefold(), index)
    return keys


def _first(header_keys: list[str], wanted: Sequence[str]) -> int | None:
    for name in wanted:
        if name.casefold() in header_keys:
            return header_keys.index(name.casefold())
    return None


def columns(header: Sequence[object], specs: Sequence[VariableSpec], kind: str) -> Columns:
    """The columns of a header row; ``ValidationFailed`` naming what is missing or doubled."""
    keys = [_header_key(cell) for cell in header]
    identifier = _first(keys, ID_HEADERS[kind])
    if identifier is None:
        other = "unit" if kind == "person" else "person"
        if _first(keys, ID_HEADERS[other][:3]) is not None:
            raise ValidationFailed(
                f"表头是{ID_NAMES[other]}，但所选对象为{'参保人员' if kind == 'person' else '参保单位'}，"
                "请重新选择对象类型或更换文件",
                field="file",
            )
        raise ValidationFailed(f"第 1 行（表头）缺少“{ID_NAMES[kind]}”列", field="file")
    phone = _first(keys, PHONE_HEADERS)
    by_key = _variable_keys(specs)
    found: dict[int, int] = {}
    for position, key in enumerate(keys):
        index = by_key.get(key)
        if index is None or position in (identifier, phone):
            continue
        if index in found:
            raise ValidationFailed(f"变量 ${{{specs[index].name}}} 有两列，请只保留一列", field="file")
        found[index] = position
    missing = [f"${{{s.name}}}（{VARIABLE_TYPE_LABELS[s.type]}）" for i, s in enumerate(specs) if i not in found]
    if missing:
        raise ValidationFailed(f"第 1 行（表头）缺少变量列：{'、'.join(missing)}", field="file")
    used = {identifier, *found.values(), *([phone] if phone is not None else [])}
    written = [cell_text(cell).strip() for cell in header]
    return Columns(
        identifier=identifier,
        phone=phone,
        variables=tuple(found[i] for i in range(len(specs))),
        used=tuple(written[i] for i in sorted(used)),
        unused=tuple(text for i, text in enumerate(written) if i not in used and text),
    )


def sample_header(specs: Sequence[VariableSpec], kind: str) -> list[str]:
    """The header a new file can start from."""
    return [ID_NAMES[kind], "手机号", *(spec.name for spec in specs)]


# ---------------------------------------------------------------------------- duplicates


class SeenIdentifiers:
    """The identifiers a sheet has had so far, and the row each was first on.

    A fixed table of 64-bit fingerprints (open addressing, half full at ``capacity``), allocated
    once: its memory does not grow with the rows read. Two different identifiers share a
    fingerprint with a chance of about one in 10^9 at 200,000 rows. The fingerprint is Python's
    own string hash (SipHash keyed afresh as each process starts, unless PYTHONHASHSEED fixes the
    key), a fraction of a digest's cost and all a sheet checked within one process needs.
    """

    def __init__(self, capacity: int = MAX_ROWS) -> None:
        size = 1 << (2 * capacity - 1).bit_length()
        self._prints = array("Q", bytes(8 * size))
        self._rows = array("I", bytes(4 * size))
        self._mask = size - 1

    def first_row(self, identifier: str, row: int) -> int | None:
        """The row ``identifier`` was first seen on, or None (and it is remembered at ``row``)."""
        fingerprint = hash(identifier) & 0xFFFF_FFFF_FFFF_FFFF or 1
        slot = fingerprint & self._mask
        prints = self._prints
        while True:
            found = prints[slot]
            if found == 0:
                prints[slot] = fingerprint
                self._rows[slot] = row
                return None
            if found == fingerprint:
                return self._rows[slot]
            slot = (slot + 1) & self._mask


# ---------------------------------------------------------------------------- rows


class Accepted(NamedTuple):
    """A row to send (a named tuple: made for nearly every row, at a quarter of a frozen
    dataclass's cost)."""

    row: int
    identifier: str
    phone: str | None
    values: tuple[str, ...]  # in declaration order
    text: str  # the message without its signature
    characters: int
    parts: int


@dataclass(frozen=True)
class Rejected:
    row: int
    id_masked: str
    phone_masked: str
    reason: str


def mask_identifier(kind: str, value: str) -> str:
    return identifiers.mask_id_number(value) if kind == "person" else identifiers.mask_credit_code(value)


def _masked_raw(text: str) -> str:
    return mask_unchecked(text) if text.strip() else ""


def renderer(text: str) -> Callable[[Mapping[str, str]], str]:
    """``templating.render`` for many recipients of one text: checked once by the templating
    rules, then cut at its ``${name}`` placeholders (all a checked text can hold) and joined
    with each recipient's checked values."""
    templating.parse_template(text)
    pieces = _PLACEHOLDER.split(text)
    literals, names = pieces[0::2], pieces[1::2]

    def render(values: Mapping[str, str]) -> str:
        out = [literals[0]]
        for name, literal in zip(names, literals[1:], strict=True):
            out.append(values[name])
            out.append(literal)
        return "".join(out)

    return render


def _formatter(text: str, names: Sequence[str]) -> Callable[..., str]:
    """As ``renderer``, taking the values in declaration order: ``text`` as a format string
    (its braces doubled, each placeholder the position of its variable), filled at C speed."""
    templating.parse_template(text)
    pieces = _PLACEHOLDER.split(text)
    literals, used = pieces[0::2], pieces[1::2]
    out = [literals[0].replace("{", "{{").replace("}", "}}")]
    for name, literal in zip(used, literals[1:], strict=True):
        out.append(f"{{{names.index(name)}}}")
        out.append(literal.replace("{", "{{").replace("}", "}}"))
    return "".join(out).format


VALUE_MEMO = 20_000  # checked values remembered per variable; forgotten all at once when full


class RowChecker:
    """Checks the rows of one sheet, in file order (duplicates are told by what came before).

    A variable's value is checked once however many rows repeat it (a deadline, a name, an
    amount): each variable remembers up to ``VALUE_MEMO`` checked values, so memory stays flat.
    """

    def __init__(
        self, specs: Sequence[VariableSpec], text: str, sign_name: str, kind: str, found: Columns, today: date
    ) -> None:
        self.specs = list(specs)
        self.names = [spec.name for spec in self.specs]
        self.sign_name = sign_name
        self.kind = kind
        self.found = found
        self.today = today
        self.render = _formatter(text, self.names)
        self.seen = SeenIdentifiers()
        self._memo: list[dict[str, tuple[str, str | None]]] = [{} for _ in self.specs]
        self._width = 1 + max(found.identifier, found.phone or 0, *found.variables, 0)

    def _identifier(self, raw: object, text: str) -> str:
        """``text`` is ``raw`` as a cell's text, stripped."""
        if isinstance(raw, float) and raw > 1e15:
            raise ValidationFailed("证件号码被保存成了数字（末几位已丢失），请把该列设为文本格式后重新填写")
        if not text:
            raise ValidationFailed(f"缺少{ID_NAMES[self.kind]}")
        if self.kind == "person":
            return identifiers.validate_id_number(text, today=self.today)
        return identifiers.validate_credit_code(text)

    def _value(self, index: int, spec: VariableSpec, raw: str) -> tuple[str, str | None]:
        """One variable's value as sent, or why it is refused (``templating.validate_values``)."""
        memo = self._memo[index]
        found = memo.get(raw)
        if found is None:
            value, reason = templating.checked_value(spec, raw)
            found = (value, None) if reason is None else ("", reason)
            if len(memo) >= VALUE_MEMO:
                memo.clear()
            memo[raw] = found
        return found

    def check(self, row: int, cells: Sequence[Any]) -> Accepted | Rejected | None:
        """One data row (``row`` counts the header as 1); None for a row with nothing in it."""
        if len(cells) < self._width:
            cells = [*cells, *([None] * (self._width - len(cells)))]
        raw_id = cells[self.found.identifier]
        id_text = cell_text(raw_id)
        id_stripped = id_text.strip()
        raw_phone = cell_text(cells[self.found.phone]).strip() if self.found.phone is not None else ""
        values = [cell_text(cells[column]) for column in self.found.variables]
        if not (id_stripped or raw_phone or any(v.strip() for v in values)):
            return None
        try:
            identifier = self._identifier(raw_id, id_stripped)
        except ValidationFailed as error:
            return Rejected(row, _masked_raw(id_text), _masked_raw(raw_phone), error.message)
        first = self.seen.first_row(identifier, row)
        if first is not None:
            return Rejected(row, self._mask(identifier), _masked_raw(raw_phone), f"证件号码与第 {first} 行重复")
        return self._message(row, identifier, raw_phone, values)

    def _mask(self, identifier: str) -> str:
        return mask_identifier(self.kind, identifier)

    def _message(self, row: int, identifier: str, raw_phone: str, values: list[str]) -> Any:
        problems: list[str] = []
        phone = None
        if raw_phone:
            try:
                phone = identifiers.normalize_mobile(raw_phone)
            except ValidationFailed as error:
                problems.append(error.message)
        checked = []
        for index, (memo, raw) in enumerate(zip(self._memo, values, strict=True)):
            value, problem = memo.get(raw) or self._value(index, self.specs[index], raw)
            if problem:
                problems.append(problem)
            else:
                checked.append(value)
        if problems:
            phone_masked = identifiers.mask_mobile(phone) if phone else _masked_raw(raw_phone)
            return Rejected(row, self._mask(identifier), phone_masked, "；".join(problems))
        text = self.render(*checked)
        try:
            length = sms.measure(text, self.sign_name)
        except ContentRejected as error:
            phone_masked = identifiers.mask_mobile(phone) if phone else _masked_raw(raw_phone)
            return Rejected(row, self._mask(identifier), phone_masked, error.message)
        return Accepted(row, identifier, phone, tuple(checked), text, length.characters, length.parts)


# ---------------------------------------------------------------------------- the whole sheet


@dataclass
class Tally:
    """Counts and samples of a sheet being checked; its size does not grow with the rows."""

    kind: str
    sign_name: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    total_parts: int = 0
    parts: dict[int, int] = field(default_factory=dict)
    preview: list[MessagePreview] = field(default_factory=list)
    longest: MessagePreview | None = None
    rejected_rows: list[Rejected] = field(default_factory=list)

    def _preview(self, row: Accepted) -> MessagePreview:
        return MessagePreview(
            row=row.row,
            id_masked=mask_identifier(self.kind, row.identifier),
            phone_masked=identifiers.mask_mobile(row.phone) if row.phone else None,
            text=sms.full_text(row.text, self.sign_name),
            characters=row.characters,
            parts=row.parts,
        )

    def add(self, outcome: Accepted | Rejected) -> None:
        self.rows += 1
        if isinstance(outcome, Rejected):
            self.rejected += 1
            if len(self.rejected_rows) < REJECT_SAMPLE:
                self.rejected_rows.append(outcome)
            return
        self.accepted += 1
        self.total_parts += outcome.parts
        self.parts[outcome.parts] = self.parts.get(outcome.parts, 0) + 1
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.append(self._preview(outcome))
        if self.longest is None or outcome.characters > self.longest.characters:
            self.longest = self._preview(outcome)

    def parts_counts(self) -> list[PartsCount]:
        return [PartsCount(parts=p, messages=n) for p, n in sorted(self.parts.items())]

    @property
    def max_parts(self) -> int:
        return max(self.parts, default=0)
