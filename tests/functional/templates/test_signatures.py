"""Office signatures through the staff API on moto."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sms_platform.audit.search import AuditQuery, search
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.staff.context import Office, Role
from sms_platform.templates import signatures

from tests.staff_calls import call, member

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING)
OPERATOR = member("op1", Office.city, Role.city_operator, real_name="李敏")
HUANCUI = member("hc1", Office.huancui, Role.district_operator)
AGENT = member("ag1", Office.hotline, Role.hotline_agent)


@pytest.fixture
def clock(aws):
    fixed = FixedClock(NOW)
    set_clock(fixed)
    yield fixed
    set_clock(None)


def test_every_office_has_a_signature_from_the_start(clock):
    answer = call(AGENT, "GET", "/v1/staff/signatures")
    assert answer.status == 200
    shown = {s["office"]: s for s in answer.body["signatures"]}
    assert set(shown) == {office.value for office in Office}
    assert shown["city"]["display"] == "【威海市社会保险事业中心】"
    assert shown["wendeng"]["name"] == "文登区社会保险事业中心" and shown["wendeng"]["is_default"] is True
    assert all(2 <= len(s["name"]) <= 12 for s in shown.values())
    assert signatures.signature_for("hotline") == "威海市12333服务中心"


def test_a_city_operator_changes_a_signature_and_it_is_audited(clock):
    answer = call(OPERATOR, "PUT", "/v1/staff/signatures/huancui", {"name": "威海市环翠区社保中心", "version": 0})
    assert answer.status == 200, answer.body
    assert answer.body["display"] == "【威海市环翠区社保中心】" and answer.body["updated_by"] == "李敏"
    assert signatures.signature_for(Office.huancui) == "威海市环翠区社保中心"

    entries = search(
        AuditQuery(start=NOW - timedelta(minutes=1), end=NOW + timedelta(minutes=1), office="huancui")
    ).entries
    assert [(e["action"], e["before"]["name"], e["after"]["name"]) for e in entries] == [
        ("signature.update", "环翠区社会保险事业中心", "威海市环翠区社保中心")
    ]
    assert entries[0]["actor"]["real_name"] == "李敏"

    stale = call(OPERATOR, "PUT", "/v1/staff/signatures/huancui", {"name": "环翠区社保中心", "version": 0})
    assert stale.status == 409
    assert signatures.signature_for(Office.huancui) == "威海市环翠区社保中心"


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("张伟", 422, "不能使用个人姓名"),
        ("威海王小明", 422, "不能使用个人姓名"),
        ("【环翠区社保中心】", 422, "不能含空格、标点或【】"),
        ("环翠区社会保险事业管理服务中心", 422, "2 到 12 个字"),
        ("威海市社保中心", 422, "所在地"),
    ],
)
def test_bad_signatures_are_refused_and_nothing_changes(clock, name, status, message):
    answer = call(OPERATOR, "PUT", "/v1/staff/signatures/huancui", {"name": name})
    assert answer.status == status and message in answer.error["message"], answer.body
    assert signatures.signature_for("huancui") == "环翠区社会保险事业中心"


def test_two_offices_never_share_a_signature(clock):
    answer = call(OPERATOR, "PUT", "/v1/staff/signatures/it", {"name": "威海市社会保险事业中心"})
    assert answer.status == 409 and "其他单位使用" in answer.error["message"]
    assert signatures.signature_for("it") == "威海市人社信息中心"


@pytest.mark.parametrize("who", [HUANCUI, AGENT, member("rev", Office.city, Role.city_reviewer)])
def test_only_city_operators_change_signatures(clock, who):
    answer = call(who, "PUT", "/v1/staff/signatures/huancui", {"name": "环翠区社保中心"})
    assert answer.status == 403
    assert signatures.signature_for("huancui") == "环翠区社会保险事业中心"


def test_an_unknown_office_has_no_signature(clock):
    answer = call(OPERATOR, "PUT", "/v1/staff/signatures/beijing", {"name": "北京社保中心"})
    assert answer.status == 422
