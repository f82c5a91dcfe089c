"""Pure rules of templates: who writes what, validity periods, the opt-out line, carrier types."""

from __future__ import annotations

from datetime import date

import pytest
from sms_platform.staff.context import Office, Role, StaffContext
from sms_platform.templates import models


def ctx(office: Office, *roles: Role) -> StaffContext:
    return StaffContext("a1", "u1", "张三", "S1", office, frozenset(roles))


CITY_OPERATOR = ctx(Office.city, Role.city_operator)
HUANCUI = ctx(Office.huancui, Role.district_operator)
HOTLINE = ctx(Office.hotline, Role.hotline_manager)
IT = ctx(Office.it, Role.it_ops)
REVIEWER = ctx(Office.city, Role.city_reviewer)


@pytest.mark.parametrize(
    ("who", "category", "office", "allowed"),
    [
        (CITY_OPERATOR, "triggered", Office.city, True),
        (CITY_OPERATOR, "subscription", Office.city, True),
        (CITY_OPERATOR, "targeted", Office.wendeng, True),
        (CITY_OPERATOR, "publicity", Office.city, True),
        (CITY_OPERATOR, "hangup", Office.hotline, True),
        (CITY_OPERATOR, "system", Office.it, False),
        (CITY_OPERATOR, "triggered", Office.huancui, False),
        (HUANCUI, "targeted", Office.huancui, True),
        (HUANCUI, "publicity", Office.huancui, True),
        (HUANCUI, "targeted", Office.wendeng, False),
        (HUANCUI, "targeted", Office.city, False),
        (HUANCUI, "triggered", Office.city, False),
        (HUANCUI, "hangup", Office.hotline, False),
        (HOTLINE, "hangup", Office.hotline, True),
        (HOTLINE, "targeted", Office.city, False),
        (IT, "system", Office.it, True),
        (IT, "targeted", Office.city, False),
        (REVIEWER, "targeted", Office.city, False),
        (ctx(Office.hotline, Role.hotline_agent), "hangup", Office.hotline, False),
    ],
)
def test_who_may_write_which_template(who, category, office, allowed):
    assert models.may_author(who, category, office) is allowed


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (REVIEWER, True),
        (CITY_OPERATOR, False),
        (ctx(Office.it, Role.permission_admin), False),
        (ctx(Office.city, Role.auditor), False),
    ],
)
def test_only_city_reviewers_review(who, allowed):
    assert models.may_review(who) is allowed


@pytest.mark.parametrize(
    ("category", "owners"),
    [
        ("system", {Office.it}),
        ("hangup", {Office.hotline}),
        ("triggered", {Office.city}),
        ("subscription", {Office.city}),
        (
            "targeted",
            {
                Office.city,
                Office.huancui,
                Office.wendeng,
                Office.rongcheng,
                Office.rushan,
                Office.gaoqu,
                Office.jingqu,
                Office.lingang,
                Office.nanhai,
            },
        ),
    ],
)
def test_owner_offices_per_category(category, owners):
    assert models.owner_offices(category) == owners


ON = date(2025, 3, 3)


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "problems"),
    [
        (date(2025, 3, 1), date(2025, 12, 31), []),
        (date(2025, 3, 3), date(2025, 3, 3), []),
        (date(2025, 4, 1), date(2025, 3, 31), ["有效期结束日期不能早于开始日期"]),
        (date(2025, 1, 1), date(2025, 3, 2), ["有效期已经结束，请设置今天或以后的结束日期"]),
        (date(2025, 1, 1), date(2031, 1, 1), ["有效期最长五年"]),
    ],
)
def test_validity_periods(valid_from, valid_until, problems):
    assert models.validity_problems(valid_from, valid_until, on=ON) == problems


@pytest.mark.parametrize(
    ("day", "valid"),
    [(date(2025, 2, 28), False), (date(2025, 3, 1), True), (date(2025, 3, 31), True), (date(2025, 4, 1), False)],
)
def test_valid_on_includes_both_ends(day, valid):
    assert models.is_valid_on(date(2025, 3, 1), date(2025, 3, 31), day) is valid


@pytest.mark.parametrize(
    ("category", "text", "refused"),
    [
        ("publicity", "社保宣传周欢迎咨询。拒收请回复R", False),
        ("publicity", "社保宣传周欢迎咨询。拒收请回复R。", False),
        ("publicity", "社保宣传周欢迎咨询。拒收请回复R  ", False),
        ("publicity", "社保宣传周欢迎咨询。", True),
        ("publicity", "拒收请回复R，社保宣传周欢迎咨询。", True),
        ("targeted", "您的养老金已发放。", False),
        ("triggered", "您的养老金已发放。", False),
    ],
)
def test_publicity_texts_end_with_the_opt_out_line(category, text, refused):
    assert (models.opt_out_problem(category, text) is not None) is refused


@pytest.mark.parametrize(
    ("category", "template_type"),
    [("system", 0), ("triggered", 1), ("targeted", 1), ("hangup", 1), ("subscription", 1), ("publicity", 2)],
)
def test_carrier_template_types(category, template_type):
    assert models.CARRIER_TEMPLATE_TYPES[category] == template_type


def test_every_status_and_category_has_a_chinese_name():
    from typing import get_args

    assert set(models.STATUS_NAMES) == set(get_args(models.Status))
    assert set(models.CATEGORY_NAMES) == set(get_args(models.Category))
