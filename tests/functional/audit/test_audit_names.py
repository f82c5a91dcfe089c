"""Auditors search the trail by people's names and read it in Chinese: an operator found by full
name, part of a name or username (a name shared by several accounts is refused, naming each
with its username); each entry's action and object in Chinese with the template's name."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sms_platform.audit import trail
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.staff.context import Office, Role

from tests.staff_calls import call, member

START = datetime(2024, 5, 10, 9, 0, tzinfo=BEIJING)
AUDITOR = member("aud-names", Office.city, Role.auditor, real_name="审计员")
PEOPLE = [
    ("wangfang", "王芳", Office.city, Role.city_operator),
    ("lifang", "李芳", Office.huancui, Role.district_operator),
    ("zhangwei1", "张伟", Office.city, Role.city_reviewer),
    ("zhangwei2", "张伟", Office.wendeng, Role.district_operator),
]


@pytest.fixture
def trail_of_people(aws):
    from sms_platform.staff import accounts

    clock = FixedClock(START)
    set_clock(clock)
    for username, real_name, office, role in PEOPLE:
        accounts.create_account(None, username=username, real_name=real_name, staff_number=f"N-{username}",
                                office=office, roles=[role], now=clock.now())  # fmt: skip
    for username, real_name, office, role in PEOPLE:
        clock.advance(minutes=1)
        actor = member(username, office, role, real_name=real_name)
        trail.record(actor, "office.suspend" if role is Role.city_reviewer else "forbidden_word.add",
                     f"office:{office.value}" if role is Role.city_reviewer else f"forbidden_word:{username}",
                     office=office.value, at=clock.now())  # fmt: skip
    yield clock
    set_clock(None)


def _search(**query):
    window = {"start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat()}
    return call(AUDITOR, "GET", "/v1/staff/audit/entries", query={**window, **query})


@pytest.mark.parametrize(
    ("operator", "usernames"),
    [
        ("王芳", ["wangfang"]),  # a full name
        ("李", ["lifang"]),  # part of one name
        ("zhangwei2", ["zhangwei2"]),  # a username, where the name is shared
        ("  王芳 ", ["wangfang"]),
        ("removed-account", []),  # an account id no account has now: searched as it always was
    ],
)
def test_an_operator_is_found_by_name_or_username(trail_of_people, operator, usernames):
    answer = _search(operator=operator)
    assert answer.status == 200, answer.body
    assert [e["actor"]["account_id"] for e in answer.body["entries"]] == usernames


@pytest.mark.parametrize(
    ("operator", "message"),
    [
        (
            "张伟",
            "“张伟”对应多个账号：张伟（zhangwei1，市社保中心）、张伟（zhangwei2，文登区），请输入其中一个的用户名",
        ),
        ("芳", "“芳”对应多个账号：李芳（lifang，环翠区）、王芳（wangfang，市社保中心），请输入其中一个的用户名"),
        ("赵六", "没有姓名或用户名为“赵六”的账号"),
        ("王 芳", "没有姓名或用户名为“王 芳”的账号"),
    ],
)
def test_a_name_of_several_accounts_or_none_is_refused_naming_them(trail_of_people, operator, message):
    answer = _search(operator=operator)
    assert answer.status == 422
    assert answer.error["message"] == message and answer.error["field"] == "operator"


def test_entries_read_in_chinese_with_the_operators_real_name(trail_of_people):
    entries = _search().body["entries"]
    ours = [e for e in entries if e["actor"]["account_id"] in {p[0] for p in PEOPLE}]
    assert [(e["actor"]["real_name"], e["action_name"], e["target_name"]) for e in ours] == [
        ("王芳", "禁用词：添加", "禁用词 “wangfang”"),
        ("李芳", "禁用词：添加", "禁用词 “lifang”"),
        ("张伟", "单位：暂停", "单位 市社保中心"),
        ("张伟", "禁用词：添加", "禁用词 “zhangwei2”"),
    ]
    created = [e for e in entries if e["action"] == "account.create"]
    assert {e["action_name"] for e in created} == {"账号：新建"}
    assert {e["target_name"] for e in created} == {f"账号 {p[0]}" for p in PEOPLE}


def test_an_entry_about_a_template_names_it(aws, carrier_simulator):
    from tests.template_support import active_template

    clock = FixedClock(START)
    set_clock(clock)
    try:
        template_id = active_template(clock, category="targeted", office="city", text="请按时缴费。", name="缴费提醒")
        answer = _search(template_id=template_id, end=(START + timedelta(hours=1)).isoformat())
    finally:
        set_clock(None)
    assert answer.status == 200
    named = {(e["action_name"], e["target_name"], e["template_name"]) for e in answer.body["entries"]}
    assert ("模板：审核通过", f"模板 {template_id} 第 1 版", "缴费提醒") in named
    assert ("模板：新建", f"模板 {template_id} 第 1 版", "缴费提醒") in named


def test_auditors_choose_operators_from_every_account_by_name(trail_of_people):
    answer = call(AUDITOR, "GET", "/v1/staff/audit/operators")
    assert answer.status == 200
    ours = [o for o in answer.body["operators"] if o["username"] in {p[0] for p in PEOPLE}]
    assert [(o["real_name"], o["username"], o["office_name"]) for o in ours] == [
        ("张伟", "zhangwei1", "市社保中心"),
        ("张伟", "zhangwei2", "文登区"),
        ("李芳", "lifang", "环翠区"),
        ("王芳", "wangfang", "市社保中心"),
    ]
    operator = member("op-names", Office.city, Role.city_operator)
    assert call(operator, "GET", "/v1/staff/audit/operators").status == 403
