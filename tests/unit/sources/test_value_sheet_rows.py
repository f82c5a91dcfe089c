"""Rows of a personalised list, checked one by one: good rows, every kind of bad row,
duplicates, formula-looking cells, headers, and what a whole sheet's tally keeps."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.sources.value_sheet_rows import (
    Accepted,
    Rejected,
    RowChecker,
    SeenIdentifiers,
    Tally,
    cell_text,
    columns,
    renderer,
)
from sms_platform.text.templating import VariableSpec

from tests.contacts_support import credit_code, id_number

TODAY = date(2025, 3, 3)
SIGN = "文登区社会保险事业中心"
TEXT = "${name}您好，您应缴社保费${amount}元，请于${date}前缴纳。${note}"
SPECS = [
    VariableSpec(name="name", type="name", max_length=10),
    VariableSpec(name="amount", type="money", max_length=12),
    VariableSpec(name="date", type="date", max_length=11),
    VariableSpec(name="note", type="text", max_length=40),
]
HEADER = ["身份证号", "手机号", "name", "amount", "date", "note"]
GOOD_ID = id_number(1)
FORMULA = "=cmd|' /C calc'!A0"


def _checker(header=HEADER, specs=SPECS, kind="person", text=TEXT) -> RowChecker:
    return RowChecker(specs, text, SIGN, kind, columns(header, specs, kind), TODAY)


def _row(**changes):
    cells = {"id": GOOD_ID, "phone": "", "name": "张三", "amount": "1234.50", "date": "2025-03-31", "note": "谢谢"}
    cells.update(changes)
    return [cells["id"], cells["phone"], cells["name"], cells["amount"], cells["date"], cells["note"]]


# ---------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("header", "identifier", "phone", "variables", "unused"),
    [
        (HEADER, 0, 1, (2, 3, 4, 5), ()),
        (["\ufeff身份证号码", "${name}", "金额", "日期", "note", "序号"], 0, None, (1, 2, 3, 4), ("序号",)),
        (["备注列", "NOTE", " 公民身份号码 ", "DATE", "amount", "name", "手机号码"], 2, 6, (5, 4, 3, 1), ("备注列",)),
    ],
)
def test_columns_are_found_by_name_placeholder_or_type_label(header, identifier, phone, variables, unused):
    found = columns(header, SPECS, "person")
    assert (found.identifier, found.phone, found.variables, found.unused) == (identifier, phone, variables, unused)


@pytest.mark.parametrize(
    ("header", "kind", "message"),
    [
        (["手机号", "name", "amount", "date", "note"], "person", "第 1 行（表头）缺少“身份证号”列"),
        (["统一社会信用代码", "name", "amount", "date", "note"], "person", "表头是统一社会信用代码，但所选对象为参保"),
        (["身份证号", "name", "amount"], "person", "缺少变量列：${date}（日期）、${note}（文本）"),
        (["身份证号", "name", "姓名", "amount", "date", "note"], "person", "变量 ${name} 有两列"),
        (["信用代码", "name", "amount", "date"], "unit", "缺少变量列：${note}（文本）"),
    ],
)
def test_a_header_that_cannot_be_read_is_refused_with_what_to_fix(header, kind, message):
    with pytest.raises(ValidationFailed) as refused:
        columns(header, SPECS, kind)
    assert message in refused.value.message


# ---------------------------------------------------------------------------- cells


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("文字", "文字"),
        (13912345678, "13912345678"),
        (100.0, "100"),
        (0.1 + 0.2, "0.3"),
        (1234.5, "1234.5"),
        (True, "是"),
        (datetime(2025, 3, 31), "2025-03-31"),
        (datetime(2025, 3, 31, 9, 30), "2025-03-31 09:30"),
        (date(2025, 4, 1), "2025-04-01"),
        (FORMULA, FORMULA),
    ],
)
def test_a_cell_reads_as_the_spreadsheet_shows_it(value, text):
    assert cell_text(value) == text


# ---------------------------------------------------------------------------- rows


def test_a_good_row_is_rendered_and_measured_with_its_own_values():
    outcome = _checker().check(2, _row(phone="139 1234 5678"))
    assert isinstance(outcome, Accepted)
    assert outcome.identifier == GOOD_ID and outcome.phone == "13912345678"
    assert outcome.values == ("张三", "1234.50", "2025-03-31", "谢谢")
    assert outcome.text == "张三您好，您应缴社保费1234.50元，请于2025-03-31前缴纳。谢谢"
    assert (outcome.characters, outcome.parts) == (len(SIGN) + 2 + len(outcome.text), 1)


def test_each_message_is_the_templating_rules_rendering_braces_and_a_repeated_variable_included():
    from sms_platform.text import templating

    text = "{0}${note}{}尊敬的${name}：{name}应缴${amount}元（${name}，截止${date}）}{"
    outcome = _checker(text=text).check(2, _row(note="{1}${x}"))
    values = {"name": "张三", "amount": "1234.50", "date": "2025-03-31", "note": "{1}${x}"}
    expected = "{0}{1}${x}{}尊敬的张三：{name}应缴1234.50元（张三，截止2025-03-31）}{"
    assert outcome.text == templating.render(text, values) == expected


def test_a_unit_row_is_checked_against_its_credit_code():
    header = ["统一社会信用代码", "name", "amount", "date", "note"]
    checker = _checker(header=header, kind="unit")
    good = checker.check(2, [credit_code(7), "王五", "10", "2025年3月31日", ""])
    code = credit_code(8)
    wrong = code[:17] + ("1" if code.endswith("0") else "0")
    bad = checker.check(3, [wrong, "王五", "10", "2025-03-31", "x"])
    assert isinstance(good, Rejected) and "${note}" in good.reason  # an empty value is refused
    assert isinstance(bad, Rejected) and bad.reason == "统一社会信用代码校验位不正确"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"id": ""}, "缺少身份证号"),
        ({"id": GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")}, "身份证号码校验位不正确"),
        ({"id": "37100219800101001"}, "身份证号码格式不正确，应为 18 位（末位可为 X）"),
        ({"id": 3.71002198001011e17}, "证件号码被保存成了数字（末几位已丢失），请把该列设为文本格式后重新填写"),
        ({"phone": "1234"}, "手机号码格式不正确，应为 11 位中国大陆手机号"),
        ({"name": "张3"}, "变量 ${name} 应为中文或英文姓名"),
        ({"amount": "12.345"}, "变量 ${amount} 应为金额，如 1234.56（最多两位小数）"),
        ({"date": "2025-02-30"}, "变量 ${date} 应为有效日期，写作 2024-01-31 或 2024年1月31日"),
        ({"note": "详见 www.example.cn"}, "变量 ${note} 的值不能含有网址或链接"),
        ({"note": "长" * 41}, "变量 ${note} 最多 40 个字，当前 41 个字"),
        ({"name": ""}, "变量 ${name} 的值不能为空"),
        ({"name": FORMULA}, "变量 ${name} 应为中文或英文姓名"),
        ({"phone": "1234", "date": "明天"}, "手机号码格式不正确，应为 11 位中国大陆手机号；变量 ${date} 应为有效日期"),
    ],
)
def test_every_kind_of_bad_row_is_refused_with_its_reason_in_chinese(changes, reason):
    outcome = _checker().check(7, _row(**changes))
    assert isinstance(outcome, Rejected)
    assert outcome.row == 7
    assert outcome.reason.startswith(reason)
    # A reason never repeats a value: the report shows them masked only.
    for value in changes.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in outcome.reason


def test_a_rejected_row_shows_its_identifier_and_phone_masked():
    bad_id = _checker().check(3, _row(id=GOOD_ID[:17] + "Y", phone="13912345678", name="张3"))
    bad_value = _checker().check(4, _row(phone="13912345678", name="张3"))
    assert (bad_id.id_masked, bad_id.phone_masked) == (f"{GOOD_ID[:3]}{'*' * 13}1Y", "139******78")
    assert (bad_value.id_masked, bad_value.phone_masked) == (f"{GOOD_ID[:6]}{'*' * 11}{GOOD_ID[-1]}", "139****5678")


def test_a_formula_looking_cell_is_a_plain_text_value():
    outcome = _checker().check(2, _row(note=FORMULA))
    assert isinstance(outcome, Accepted)
    assert outcome.text.endswith(FORMULA)


def test_an_identifier_seen_before_is_refused_naming_the_first_row():
    checker = _checker()
    first = checker.check(2, _row())
    again = checker.check(5, _row(id=GOOD_ID.lower(), amount="1"))
    third = checker.check(9, _row(id=f" {GOOD_ID} "))
    other = checker.check(10, _row(id=id_number(2)))
    assert isinstance(first, Accepted) and isinstance(other, Accepted)
    assert (again.reason, third.reason) == ("证件号码与第 2 行重复", "证件号码与第 2 行重复")


def test_a_blank_row_is_skipped_and_a_short_row_reads_as_empty_cells():
    checker = _checker()
    assert checker.check(2, ["", None, " ", "", "", ""]) is None
    assert checker.check(3, []) is None
    short = checker.check(4, [GOOD_ID, "", "张三"])
    assert isinstance(short, Rejected) and short.reason.startswith("变量 ${amount} 的值不能为空")


def test_a_message_over_500_characters_is_refused():
    specs = [VariableSpec(name="note", type="text", max_length=500)]
    checker = _checker(header=["身份证号", "note"], specs=specs, text="通知：${note}")
    outcome = checker.check(2, [GOOD_ID, "字" * 490])
    assert isinstance(outcome, Rejected)
    assert outcome.reason == f"短信内容（含签名）最多 500 字，当前 {490 + 3 + len(SIGN) + 2} 字"


def test_the_renderer_matches_the_templating_rules():
    from sms_platform.text import templating

    values = {"name": "李四", "amount": "5", "date": "2025-01-01", "note": "${x}不再展开"}
    assert renderer(TEXT)(values) == templating.render(TEXT, values)
    with pytest.raises(ValidationFailed):
        renderer("${a.b}")


# ---------------------------------------------------------------------------- the whole sheet


def test_the_tally_keeps_counts_the_first_messages_the_longest_and_parts_but_not_every_row():
    checker = _checker()
    tally = Tally(kind="person", sign_name=SIGN)
    for n in range(30):
        note = "长" * (n + 1) if n != 17 else "长" * 40
        outcome = checker.check(n + 2, _row(id=id_number(n), note=note, phone="13912345678" if n == 0 else ""))
        tally.add(outcome)
    tally.add(checker.check(40, _row(id=id_number(3))))
    assert (tally.rows, tally.accepted, tally.rejected) == (31, 30, 1)
    assert [p.row for p in tally.preview] == list(range(2, 12))
    assert tally.preview[0].phone_masked == "139****5678" and tally.preview[1].phone_masked is None
    assert tally.preview[0].id_masked == f"{id_number(0)[:6]}{'*' * 11}{id_number(0)[-1]}"
    assert tally.preview[0].text.startswith(f"【{SIGN}】张三您好")
    assert tally.longest.row == 19 and tally.longest.parts == 2
    assert {p.parts: p.messages for p in tally.parts_counts()} == {1: 20, 2: 10}
    assert tally.total_parts == 40 and tally.max_parts == 2
    assert [r.row for r in tally.rejected_rows] == [40]


def test_duplicates_are_told_in_a_table_whose_size_does_not_grow():
    seen = SeenIdentifiers(capacity=1000)
    size = len(seen._prints)
    assert [seen.first_row(f"id{n % 700}", n) for n in range(1000)][699:702] == [None, 0, 1]
    assert len(seen._prints) == size == 2048
