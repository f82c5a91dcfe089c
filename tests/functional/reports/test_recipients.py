"""A send's recipients through the staff API on moto (GET /v1/staff/recipients), after a real
release, fan-out, dispatch and receipts: filtered by state, paged with totals, masked, with the
reasons in Chinese and the raw codes beside; a district sees its own district's rows only; bad
filters are refused with 4xx; opening a send's recipients is audited."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import requests
from sms_platform.foundation.identifiers import mask_id_number, mask_mobile
from sms_platform.staff.context import Office, Role

from tests.contacts_support import mobile, person
from tests.functional.reports.recipients_support import audited, deliver, released_send
from tests.functional.sends_support import (
    HUANCUI,
    REVIEWER,
    WENDENG,
    active_template,
    add_people,
    approved_request,
    sends,  # noqa: F401
)
from tests.staff_calls import call, member

AUDITOR = member("aud1", Office.city, Role.auditor)
HOTLINE_MANAGER = member("hm1", Office.hotline, Role.hotline_manager)
FAILURES = {1: "DB:0101", 4: "MI:0073", 7: "UNDELIV", 9: "MA:0001"}


def recipients(who, source, id=None, **query):  # noqa: A002 - the API's own name
    path = f"/v1/staff/recipients/{source}" + (f"/{id}" if id else "")
    return call(who, "GET", path, query={k: str(v) for k, v in query.items()} or None)


def person_id(seq: int) -> str:
    return person(seq)["id"]


def test_failed_recipients_with_masked_values_and_reasons_in_chinese(sends):
    request_id = released_send(sends, 12, FAILURES)

    answer = recipients(WENDENG, source="send", id=request_id, state="failed")

    assert answer.status == 200, answer.body
    page = answer.body
    assert page["title"] == "定向通知：缴费基数申报提醒" and page["states"] == ["failed"]
    rows = {row["phone_masked"]: row for row in page["rows"]}
    assert set(rows) == {mask_mobile(mobile(seq)) for seq in FAILURES}
    expected = {1: "空号", 4: "空号", 7: "停机", 9: "用户拒收/黑名单"}
    for seq, reason in expected.items():
        row = rows[mask_mobile(mobile(seq))]
        assert (row["name"], row["id_masked"], row["district_name"]) == (
            f"参保人{seq}", mask_id_number(person_id(seq)), "文登区",
        )  # fmt: skip
        assert (row["state"], row["state_name"], row["reason"], row["reason_code"]) == (
            "failed", "发送失败", reason, FAILURES[seq],
        )  # fmt: skip
        assert row["queued_at"] and row["sent_at"] and row["final_at"]
    assert page["totals"] == {
        "all": 12,
        "states": {"delivered": 8, "failed": 4, "undeliverable": 0, "suppressed": 0, "sending": 0},
        "failure_categories": {"空号": 2, "停机": 1, "用户拒收/黑名单": 1},
    }
    text = str(page)
    assert not any(mobile(seq) in text or person_id(seq) in text for seq in range(12))  # nothing in clear


def test_pages_cover_every_recipient_once_and_the_totals_come_with_the_first(sends):
    request_id = released_send(sends, 12, FAILURES)

    seen, cursor, pages = [], None, []
    while True:
        query = {"source": "send", "id": request_id, "limit": 5, **({"cursor": cursor} if cursor else {})}
        answer = recipients(REVIEWER, **query)
        assert answer.status == 200, answer.body
        pages.append(answer.body)
        seen.extend(row["message_id"] for row in answer.body["rows"])
        cursor = answer.body["cursor"]
        if not cursor:
            break

    assert [len(p["rows"]) for p in pages] == [5, 5, 2]
    assert len(seen) == len(set(seen)) == 12
    assert pages[0]["totals"]["all"] == 12 and all(p["totals"] is None for p in pages[1:])
    delivered = recipients(REVIEWER, source="send", id=request_id, state="delivered,sending", limit=200).body
    assert len(delivered["rows"]) == 8 and {r["state"] for r in delivered["rows"]} == {"delivered"}
    assert {r["reason"] for r in delivered["rows"]} == {None}


def test_messages_still_on_their_way_show_as_sending_until_their_receipt(sends):
    template_id = active_template(sends.clock)
    add_people(3)
    request_id = approved_request(sends, template_id)
    sends.release()
    sends.pump.run_fanout()  # queued, not sent yet
    queued = recipients(WENDENG, source="send", id=request_id, state="sending").body
    sends.pump.run()
    sent = recipients(WENDENG, source="send", id=request_id).body
    deliver(sends, {0: "DB:0101"})
    final = recipients(WENDENG, source="send", id=request_id).body

    assert len(queued["rows"]) == 3 and {r["message_state"] for r in queued["rows"]} == {"queued"}
    assert sent["totals"]["states"]["sending"] == 3 and {r["message_state"] for r in sent["rows"]} == {"sent"}
    assert final["totals"]["states"] == {"delivered": 2, "failed": 1, "undeliverable": 0, "suppressed": 0,
                                         "sending": 0}  # fmt: skip


def _list_of(author, ids: list[str]) -> str:
    created = call(author, "POST", "/v1/staff/audiences/lists", {"kind": "person"})
    assert created.status == 201, created.body
    body = created.body
    put = requests.put(body["upload_url"], data="\n".join(ids).encode(), headers=body["headers"], timeout=10)
    assert put.status_code == 200
    completed = call(author, "POST", f"/v1/staff/audiences/lists/{body['list_id']}/complete")
    assert completed.status == 200, completed.body
    return body["list_id"]


def test_a_district_sees_only_its_own_districts_rows(sends):
    # An uploaded list may name people of any district: the district that sends sees its own rows.
    template_id = active_template(sends.clock)
    add_people(4, district="wendeng")
    add_people(3, district="huancui", start=100)
    list_id = _list_of(WENDENG, [person_id(seq) for seq in (0, 1, 2, 3, 100, 101, 102)])
    request_id = approved_request(sends, template_id, audience={"kind": "person", "list_id": list_id})
    sends.release()
    sends.pump.run()
    deliver(sends, {1: "DB:0101", 101: "DB:0101"})

    district = recipients(WENDENG, source="send", id=request_id, limit=200).body
    city = recipients(REVIEWER, source="send", id=request_id, limit=200).body

    assert district["district"] == "wendeng" and city["district"] is None
    assert {r["district"] for r in district["rows"]} == {"wendeng"} and len(district["rows"]) == 4
    assert district["totals"]["all"] == 4 and district["totals"]["failure_categories"] == {"空号": 1}
    assert {r["district"] for r in city["rows"]} == {"wendeng", "huancui"} and city["totals"]["all"] == 7
    # A cursor into another district's rows is refused, as any made-up cursor is.
    first = recipients(REVIEWER, source="send", id=request_id, limit=5).body
    assert first["rows"][-1]["district"] == "wendeng"  # huancui's rows come first in key order
    foreign = recipients(REVIEWER, source="send", id=request_id, limit=1).body["cursor"]
    refused = recipients(WENDENG, source="send", id=request_id, cursor=foreign)
    assert (refused.status, refused.error["message"]) == (400, "无效的翻页标记")
    # Another district does not learn of the send at all.
    assert recipients(HUANCUI, source="send", id=request_id).status == 404


def test_opening_a_sends_recipients_is_audited_without_its_rows(sends):
    request_id = released_send(sends, 3, {0: "DB:0101"})
    recipients(AUDITOR, source="send", id=request_id, state="failed,undeliverable")
    first = recipients(AUDITOR, source="send", id=request_id, limit=1).body
    recipients(AUDITOR, source="send", id=request_id, limit=1, cursor=first["cursor"])

    entries = audited(AUDITOR.account_id, sends.clock.now(), "recipients.view")
    assert [e["target"] for e in entries] == [f"send#{request_id}"] * 2  # the first page of each look only
    assert entries[0]["after"] == {"states": ["failed", "undeliverable"], "district": None}
    assert mask_mobile(mobile(0)) not in str(entries) and mobile(0) not in str(entries)


def test_bad_filters_are_refused_in_chinese_and_change_nothing(sends):
    request_id = released_send(sends, 2, {})
    cases = [
        ({"source": "send", "id": request_id, "state": "bounced"}, 422, "没有“bounced”这种状态"),
        ({"source": "send", "id": "bad id!"}, 422, "编号格式不正确"),
        ({"source": "send", "id": request_id, "state": "failed,,nope"}, 422, "没有“nope”这种状态"),
        ({"source": "rule", "id": "r1", "period": "2025/03/03"}, 422, "日期格式应为"),
        ({"source": "item", "id": "p1", "period": "2025-03-03"}, 422, "日期格式应为 2025-03"),
        ({"source": "hotline", "period": "2099-01-01"}, 422, "不能查询今后的日期"),
        ({"source": "send", "id": request_id, "cursor": "not-a-cursor"}, 400, "无效的翻页标记"),
        ({"source": "send", "id": "0" * 32}, 404, "没有这个发送申请"),
        ({"source": "rule", "id": "no-such-rule"}, 404, "没有这个触发规则"),
        ({"source": "item", "id": "no-such-item"}, 404, "没有这个订阅项目"),
        ({"source": "sends", "id": request_id}, 404, ""),  # no such kind of send
    ]
    for query, status, message in cases:
        answer = recipients(REVIEWER, **query)  # noqa: B026
        assert (answer.status, message in answer.error["message"]) == (status, True), (query, answer.body)
    assert recipients(REVIEWER, source="send", id=request_id, limit=0).status == 422
    assert audited(REVIEWER.account_id, sends.clock.now(), "recipients.view") == []


def test_who_may_list_which_sends_recipients(sends):
    request_id = released_send(sends, 1, {})
    agent = member("ag1", Office.hotline, Role.hotline_agent)

    assert recipients(HOTLINE_MANAGER, source="send", id=request_id).status == 403
    refused = recipients(HOTLINE_MANAGER, source="rule", id="r1")
    assert refused.status == 403 and refused.error["message"].startswith("无权执行此操作，需要以下角色之一：审计员")
    assert recipients(WENDENG, source="hotline").status == 403
    assert recipients(agent, source="hotline").status == 403  # the route itself: not a reader of any
    assert recipients(HOTLINE_MANAGER, source="hotline").status == 200
    assert recipients(AUDITOR, source="send", id=request_id).status == 200
