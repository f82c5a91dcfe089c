"""A send's recipients as staff read them: the states they filter by, reasons in Chinese with the
raw code beside, the rows of the table and of the exports, periods, districts and who may look."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.reports import reasons, recipient_rows, recipients
from sms_platform.reports.recipient_models import RowState
from sms_platform.sending import recipient_groups
from sms_platform.sending.recipient_groups import GroupSource, Who
from sms_platform.staff.context import Office, Role

from tests.staff_calls import member

TODAY = date(2025, 3, 3)


@pytest.mark.parametrize(
    ("asked", "states"),
    [
        (None, []),
        ("", []),
        ("failed", [RowState.failed]),
        ("failed,delivered", [RowState.delivered, RowState.failed]),  # in the fixed order
        (" sending , ,undeliverable ", [RowState.undeliverable, RowState.sending]),
        (["suppressed", "failed", "failed"], [RowState.failed, RowState.suppressed]),
    ],
)
def test_states_asked_for(asked, states):
    assert recipient_rows.parse_states(asked) == states


@pytest.mark.parametrize("asked", ["bounced", "failed,FAILED", "已送达"])
def test_an_unknown_state_is_refused_by_name_in_chinese(asked):
    with pytest.raises(ValidationFailed) as refused:
        recipient_rows.parse_states(asked)
    assert refused.value.field == "state"
    assert "没有“" in refused.value.message and "可选：已送达（delivered）" in refused.value.message


@pytest.mark.parametrize(
    ("message_state", "row_state"),
    [
        ("queued", RowState.sending),
        ("sending", RowState.sending),
        ("sent", RowState.sending),
        ("delivered", RowState.delivered),
        ("failed", RowState.failed),
        ("undeliverable", RowState.undeliverable),
        ("expired", RowState.undeliverable),
        ("suppressed", RowState.suppressed),
    ],
)
def test_each_message_state_shows_as_one_of_five(message_state, row_state):
    assert recipient_rows.row_state(message_state) is row_state
    assert message_state in recipient_rows.message_states([row_state])


def test_the_filter_reads_every_message_state_of_the_states_chosen():
    assert recipient_rows.message_states([]) == []
    assert recipient_rows.message_states([RowState.sending, RowState.undeliverable]) == [
        "queued", "sending", "sent", "undeliverable", "expired",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("item", "reason", "code"),
    [
        ({"state": "failed", "error_code": "DB:0101"}, "空号", "DB:0101"),
        ({"state": "failed", "error_code": "UNDELIV"}, "停机", "UNDELIV"),
        ({"state": "failed", "error_code": "MI:0024"}, "关机或不在服务区", "MI:0024"),
        ({"state": "failed", "error_code": "MA:0001"}, "用户拒收/黑名单", "MA:0001"),
        ({"state": "failed", "error_code": "isv.MOBILE_NUMBER_ILLEGAL"}, "号码格式错误", "isv.MOBILE_NUMBER_ILLEGAL"),
        ({"state": "failed", "error_code": "isv.DAY_LIMIT_CONTROL"}, "发送频率超限", "isv.DAY_LIMIT_CONTROL"),
        ({"state": "failed", "error_code": "platform.OUTCOME_UNKNOWN"}, "其他", "platform.OUTCOME_UNKNOWN"),
        ({"state": "failed"}, "其他", None),
        ({"state": "suppressed", "suppress_reason": "opt_out"}, "本人已退订", "opt_out"),
        ({"state": "suppressed", "suppress_reason": "frequency_limit"}, "超过发送频率限制", "frequency_limit"),
        ({"state": "suppressed", "suppress_reason": "stopped_send"}, "发送已被停止", "stopped_send"),
        ({"state": "suppressed", "suppress_reason": "suspended_office"}, "发送单位已被暂停", "suspended_office"),
        ({"state": "suppressed", "suppress_reason": "blocked"}, "号码已列入黑名单", "blocked"),
        ({"state": "undeliverable", "reason": "no_usable_number"}, "无可用号码", "no_usable_number"),
        ({"state": "undeliverable", "reason": "number_unverified"}, "号码待核实", "number_unverified"),
        ({"state": "undeliverable"}, "号码不是有效的手机号码", None),
        ({"state": "expired"}, "超过有效期未发送", None),
        ({"state": "delivered", "error_code": "DELIVERED"}, None, None),
        ({"state": "sent"}, None, None),
        ({"state": "queued"}, None, None),
    ],
)
def test_reasons_in_chinese_with_the_raw_code_beside(item, reason, code):
    assert reasons.reason_of(item) == (reason, code)


def test_a_platform_reason_not_named_yet_is_shown_as_it_is():
    assert reasons.reason_of({"state": "suppressed", "suppress_reason": "some_new_rule"}) == (
        "some_new_rule", "some_new_rule",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("codes", "categories"),
    [
        ({}, {}),
        ({"DB:0101": 2, "MI:0073": 1, "UNDELIV": 3, "UNKNOWN": 1}, {"停机": 3, "空号": 3, "其他": 1}),
        ({"isv.BUSINESS_LIMIT_CONTROL": 1, "IB:0008": 4, "MK:0005": 0}, {"发送频率超限": 5}),
        ([("REJECTD", 2), ("CJ:0001", 1)], {"运营商拦截": 3}),
    ],
)
def test_failures_added_up_by_category_most_first(codes, categories):
    found = reasons.categories(codes)
    assert found == categories
    assert list(found) == list(categories)


SENT = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def test_a_row_shows_masked_values_the_reason_and_beijing_times():
    item = {
        "pk": "msg#m1", "message_id": "m1", "state": "failed", "error_code": "DB:0101", "phone_masked": "138****0001",
        "rcp_name": "张三", "rcp_district": "wendeng", "rcp_ref": "person-abc", "created_at": SENT.isoformat(),
        "sent_at": SENT.isoformat(), "final_at": SENT.replace(minute=5).isoformat(),
    }  # fmt: skip
    row = recipient_rows.to_row(item, {"person-abc": "371002***********X"})
    assert (row.phone_masked, row.name, row.id_masked, row.district_name) == (
        "138****0001", "张三", "371002***********X", "文登区",
    )  # fmt: skip
    assert (row.state, row.state_name, row.reason, row.reason_code) == (RowState.failed, "发送失败", "空号", "DB:0101")
    assert recipient_rows.export_cells(row) == [
        "138****0001", "张三", "371002***********X", "文登区", "发送失败", "空号", "DB:0101",
        "2025-03-03 10:00:00", "2025-03-03 10:00:00", "2025-03-03 10:05:00",
    ]  # fmt: skip
    assert len(recipient_rows.export_cells(row)) == len(recipient_rows.EXPORT_HEADER)


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+1", "'+1+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("威海市环翠区某某公司", "威海市环翠区某某公司"),
    ],
)
def test_a_cell_that_looks_like_a_formula_is_neutralised_in_exports(name, cell):
    row = recipient_rows.to_row({"message_id": "m", "state": "delivered", "phone_masked": "138****0001",
                                 "rcp_name": name})  # fmt: skip
    assert recipient_rows.export_cells(row)[1] == cell


def test_a_recorded_masked_id_comes_before_the_address_book_and_unknown_stays_empty():
    recorded = {"message_id": "m", "state": "queued", "rcp_id": "913710********0Y43", "rcp_ref": "unit-x"}
    assert recipient_rows.to_row(recorded, {"unit-x": "other"}).id_masked == "913710********0Y43"
    unknown = recipient_rows.to_row({"message_id": "m", "state": "queued"}, {})
    assert (unknown.id_masked, unknown.name, unknown.district, unknown.phone_masked) == (None, None, None, "***")


def test_totals_count_rows_by_state_and_failures_by_category():
    items = [{"state": s, "error_code": c} for s, c in [
        ("delivered", None), ("delivered", None), ("failed", "DB:0101"), ("failed", "MI:0073"), ("failed", "UNDELIV"),
        ("sent", None), ("queued", None), ("suppressed", None), ("expired", None),
    ]]  # fmt: skip
    totals = recipient_rows.totals(items)
    assert totals.all == 9
    assert totals.states == {RowState.delivered: 2, RowState.failed: 3, RowState.undeliverable: 1,
                             RowState.suppressed: 1, RowState.sending: 2}  # fmt: skip
    assert totals.failure_categories == {"空号": 2, "停机": 1}


@pytest.mark.parametrize(
    ("source", "period", "expected"),
    [
        (GroupSource.send, None, ""),
        (GroupSource.rule, None, "2025-03-03"),
        (GroupSource.rule, "2025-03-01", "2025-03-01"),
        (GroupSource.hotline, " 2025-02-28 ", "2025-02-28"),
        (GroupSource.item, None, "2025-03"),
        (GroupSource.item, "2025-01", "2025-01"),
    ],
)
def test_periods_of_each_kind_of_send(source, period, expected):
    assert recipient_rows.parse_period(source, period, TODAY) == expected


@pytest.mark.parametrize(
    ("source", "period", "message"),
    [
        (GroupSource.send, "2025-03-03", "发送申请不按日期查询"),
        (GroupSource.rule, "2025-3-3", "日期格式应为 2025-03-03"),
        (GroupSource.rule, "2025-02-30", "日期格式应为 2025-03-03"),
        (GroupSource.rule, "2025-03", "日期格式应为 2025-03-03"),
        (GroupSource.hotline, "2025-03-04", "不能查询今后的日期"),
        (GroupSource.item, "2025-13", "日期格式应为 2025-03"),
        (GroupSource.item, "2025-03-01", "日期格式应为 2025-03"),
        (GroupSource.item, "2025-04", "不能查询今后的日期"),
    ],
)
def test_a_bad_period_is_refused_in_chinese(source, period, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        recipient_rows.parse_period(source, period, TODAY)
    assert refused.value.field == "period"


@pytest.mark.parametrize(
    ("office", "district", "prefix"),
    [
        (Office.wendeng, "wendeng", "wendeng#"),
        (Office.huancui, "huancui", "huancui#"),
        (Office.city, None, None),
        (Office.hotline, None, None),
        (Office.it, None, None),
    ],
)
def test_a_district_office_reads_its_own_districts_rows_by_key(office, district, prefix):
    ctx = member("x", office, Role.auditor)
    assert recipient_rows.row_district(ctx) == district
    assert recipient_rows.key_prefix(district) == prefix


def test_a_rows_key_starts_with_its_district_so_another_districts_prefix_never_reads_it():
    who = Who(name="李四", district="wendeng")
    fields = recipient_groups.index_fields("rcp#send#r1", who, "2025-03-03T02:00", "m1")
    assert fields["gsi3sk"].startswith("wendeng#")
    assert not fields["gsi3sk"].startswith("huancui#")
    unknown = recipient_groups.index_fields("rcp#hotline#2025-03-03", Who(), "2025-03-03T02:00", "m2")
    assert unknown == {"gsi3pk": "rcp#hotline#2025-03-03", "gsi3sk": "-#2025-03-03T02:00#m2"}


@pytest.mark.parametrize(
    ("at", "day", "month"),
    [
        (datetime(2025, 3, 2, 23, 59, tzinfo=UTC), "2025-03-03", "2025-03"),  # already the next morning in Beijing
        (datetime(2025, 2, 28, 16, 0, tzinfo=UTC), "2025-03-01", "2025-03"),
        (datetime(2025, 2, 28, 15, 59, tzinfo=UTC), "2025-02-28", "2025-02"),
        (datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING), "2025-03-03", "2025-03"),
    ],
)
def test_groups_follow_the_beijing_day_and_month(at, day, month):
    assert recipient_groups.rule_group("r1", at) == f"rcp#rule#r1#{day}"
    assert recipient_groups.item_group("p1", at) == f"rcp#item#p1#{month}"
    assert recipient_groups.hotline_group(at) == f"rcp#hotline#{day}"
    assert recipient_groups.send_group("r1") == "rcp#send#r1"


@pytest.mark.parametrize(
    ("role", "sources"),
    [
        (Role.city_operator, {GroupSource.send, GroupSource.rule, GroupSource.item}),
        (Role.city_reviewer, {GroupSource.send, GroupSource.rule, GroupSource.item, GroupSource.hotline}),
        (Role.district_operator, {GroupSource.send}),
        (Role.hotline_manager, {GroupSource.hotline}),
        (Role.auditor, {GroupSource.send, GroupSource.rule, GroupSource.item, GroupSource.hotline}),
        (Role.hotline_agent, set()),
        (Role.it_ops, set()),
        (Role.permission_admin, set()),
        (Role.phone_reveal, set()),
    ],
)
def test_who_may_list_the_recipients_of_each_kind_of_send(role, sources):
    ctx = member("x", Office.city, role)
    assert {source for source in GroupSource if recipients.may_read(ctx, source)} == sources
    assert (role in recipients.ALL_READERS) == bool(sources)


@pytest.mark.parametrize(
    ("source", "ident", "period", "fmt"),
    [
        (GroupSource.send, "0f3c9a", None, "csv"),
        (GroupSource.rule, "pension:paid/../x", "2025-03-03", "xlsx"),
        (GroupSource.hotline, None, "2025-03-03", "xlsx"),
    ],
)
def test_an_export_file_name_is_plain_ascii_and_says_what_it_is(source, ident, period, fmt):
    name = recipient_rows.file_name(source, ident, period, fmt, SENT)
    assert name.isascii() and "/" not in name and name.endswith(f"-20250303-100000.{fmt}")
    assert name.startswith(f"recipients-{source.value}-")
