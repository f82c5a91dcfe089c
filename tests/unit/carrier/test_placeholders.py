"""The platform's named variables and Tencent's positional placeholders, both ways."""

from __future__ import annotations

import pytest
from sms_platform.carrier import placeholders


@pytest.mark.parametrize(
    ("named", "positional", "names"),
    [
        ("您好，您的业务已办结。", "您好，您的业务已办结。", ()),
        ("${name}您好，养老金${amount}元已发放。", "{1}您好，养老金{2}元已发放。", ("name", "amount")),
        # a repeated variable fills a position at each use
        ("${name}您好，${name}的待遇${amount}元", "{1}您好，{2}的待遇{3}元", ("name", "name", "amount")),
        # declared as (name, amount) but written the other way round: the text's order counts
        ("${amount}元已发给${name}", "{1}元已发给{2}", ("amount", "name")),
        ("${a}${b}${a}${c}", "{1}{2}{3}{4}", ("a", "b", "a", "c")),
        ("缴费基数${base_2024}，截至${end_date}。", "缴费基数{1}，截至{2}。", ("base_2024", "end_date")),
        ("请于{月底}前缴费", "请于{月底}前缴费", ()),  # braces without a number are text
    ],
)
def test_named_to_positional_and_back(named, positional, names):
    mapped = placeholders.to_positional(named)
    assert (mapped.text, mapped.names) == (positional, names)
    assert placeholders.to_named(mapped.text, mapped.names) == named


@pytest.mark.parametrize("text", ["第{1}期", "请回复{2}确认", "${name}，第{12}号窗口"])
def test_a_text_holding_a_numbered_brace_of_its_own_is_refused(text):
    with pytest.raises(ValueError, match="placeholder"):
        placeholders.to_positional(text)


@pytest.mark.parametrize(
    ("names", "values", "expected"),
    [
        ((), None, []),
        (("name", "amount"), {"name": "张三", "amount": 1234.5}, ["张三", "1234.5"]),
        (("amount", "name"), {"name": "张三", "amount": 12}, ["12", "张三"]),
        (("name", "name", "amount"), {"name": "李四", "amount": "8"}, ["李四", "李四", "8"]),
        (("a",), {"a": "x", "unused": "y"}, ["x"]),
    ],
)
def test_values_go_to_their_positions(names, values, expected):
    assert placeholders.positional_values(names, values) == expected


def test_a_missing_value_is_named():
    with pytest.raises(ValueError, match="no value for amount"):
        placeholders.positional_values(("name", "amount"), {"name": "张三"})


def test_a_positional_text_with_an_unnamed_position_is_refused():
    with pytest.raises(ValueError, match=r"\{3\} has no name"):
        placeholders.to_named("{1}{3}", ("a", "b"))
