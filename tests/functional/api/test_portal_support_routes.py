"""Staff routes the portal relies on, through the authorizer and the staff API on moto: the
content check while a template is written, the 12333 desk's answer previews, the replies inbox,
the lanes' depths for IT operations and an auditor's export of a day."""

# pytest fixtures come in by import and are then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import json

import pytest
from sms_platform.audit import archive, trail
from sms_platform.foundation import crypto
from sms_platform.foundation.clock import BEIJING
from sms_platform.sources import hotline
from sms_platform.staff.context import Office, Role
from sms_platform.templates.signatures import signature_for
from sms_platform.text import sms

from tests.carrier_fixtures import carrier_simulator  # noqa: F401
from tests.functional.dispatch_support import push, replies_event
from tests.template_support import CITY_OPERATOR, HOTLINE_MANAGER, active_template

CHECK = "/v1/staff/templates/content-check"


def check(staff, member, text: str, *, category: str = "targeted", office: str = "city", variables=()):
    body = {"text": text, "category": category, "office": office, "variables": list(variables)}
    return staff.call("POST", CHECK, token=member.token, body=body)


def codes(answer) -> list[str]:
    return [f["code"] for f in answer.json["findings"]]


# ---------------------------------------------------------------------------- content check


@pytest.mark.parametrize(
    ("text", "category", "variables", "blocking", "not_found"),
    [
        ("您的养老保险待遇已发放，详询12333。", "targeted", [], [], ["url", "forbidden_word"]),
        ("社保业务详见 www.example.com", "targeted", [], ["url"], ["forbidden_word"]),
        ("社保咨询请加微信裸聊", "targeted", [], ["forbidden_word"], ["url"]),
        ("尊敬的${name}，社保卡已制作完成。", "targeted", [], ["declaration"], []),
        ("社保卡已制作完成。", "targeted", [{"name": "name", "type": "name", "max_length": 4}], ["declaration"], []),
        ("医保电子凭证可在手机上激活使用。", "publicity", [], ["opt_out_missing"], []),
        ("医保电子凭证可在手机上激活使用。拒收请回复R", "publicity", [], [], ["opt_out_missing"]),
        ("年" * 600, "targeted", [], ["too_long"], []),
    ],
)
def test_the_check_finds_what_submission_would(staff, text, category, variables, blocking, not_found):
    operator = staff.account(Role.city_operator)
    answer = check(staff, operator, text, category=category, variables=variables)

    assert answer.status == 200, answer.text
    blocks = [f["code"] for f in answer.json["findings"] if f["level"] == "block"]
    assert sorted(set(blocks)) == sorted(blocking)
    assert answer.json["blocks"] is bool(blocking)
    assert not set(not_found) & set(codes(answer))
    levels = [f["level"] for f in answer.json["findings"]]
    assert levels == sorted(levels, key=["block", "warn", "info"].index)  # blocks first


def test_length_and_preview_carry_the_owning_offices_signature(staff):
    operator = staff.account(Role.city_operator)
    text = "您的社保卡已制作完成，请到${place}领取。"
    answer = check(staff, operator, text, office="wendeng", variables=[{"name": "place", "type": "text",
                                                                        "max_length": 20}])  # fmt: skip
    signature = signature_for("wendeng")
    length = sms.measure(text, signature)

    assert answer.json["signature"] == signature
    assert answer.json["preview"] == f"【{signature}】{text}"
    assert (answer.json["length"]["characters"], answer.json["length"]["parts"]) == (length.characters, length.parts)
    assert "longest_length" in codes(answer)  # the longest value's length is shown too


def test_a_word_a_reviewer_adds_is_found_at_once(staff):
    operator = staff.account(Role.city_operator)
    reviewer = staff.account(Role.city_reviewer)
    text = "社保缴费请认准代缴黄牛。"
    before = check(staff, operator, text)
    added = staff.call("POST", "/v1/staff/forbidden-words", token=reviewer.token, body={"word": "代缴黄牛"})
    after = check(staff, operator, text)

    assert added.status == 201
    assert "forbidden_word" not in codes(before)
    assert "forbidden_word" in codes(after) and "代缴黄牛" in json.dumps(after.json, ensure_ascii=False)


def test_only_what_the_author_may_write_is_checked(staff):
    district = staff.account(Role.district_operator, office=Office.wendeng)
    own = check(staff, district, "社保卡已制作完成。", office="wendeng")
    other = check(staff, district, "社保卡已制作完成。", office="huancui")
    triggered = check(staff, district, "社保卡已制作完成。", category="triggered", office="wendeng")

    assert own.status == 200
    assert other.status == 403 and other.error_code == "forbidden"
    assert triggered.status == 403


@pytest.mark.parametrize(
    "body",
    [
        {"text": "社保", "category": "gossip", "office": "city"},
        {"text": "社保", "category": "targeted", "office": "atlantis"},
        {"text": "年" * 1001, "category": "targeted", "office": "city"},
        {"text": "社保", "category": "targeted", "office": "city", "variables": [{"name": "1x", "type": "text"}]},
        {"category": "targeted", "office": "city"},
    ],
)
def test_bad_input_gets_422(staff, body):
    answer = staff.call("POST", CHECK, token=staff.account(Role.city_operator).token, body=body)
    assert answer.status == 422 and answer.json["error"]["message"]


# ---------------------------------------------------------------------------- 12333 desk


def test_the_desk_sees_each_entrys_exact_message(staff, staff_clock, carrier_simulator):
    answer_text = "社保卡补办请携带身份证到就近社保经办窗口办理，详询12333。"
    template_id = active_template(staff_clock, category="hangup", office="hotline", text=answer_text)
    entry = hotline.create_entry(CITY_OPERATOR, "社保卡补办", template_id, now=staff_clock.now())
    hotline.set_scope(HOTLINE_MANAGER, entry.faq_id, True, now=staff_clock.now())
    hotline.create_entry(CITY_OPERATOR, "不在范围内的条目", template_id, now=staff_clock.now())
    agent = staff.account(Role.hotline_agent)

    answer = staff.call("GET", "/v1/staff/hotline/entries/active", token=agent.token)

    signature = signature_for("hotline")
    length = sms.measure(answer_text, signature)
    assert answer.status == 200
    [shown] = answer.json["entries"]
    assert shown["faq_id"] == entry.faq_id
    assert (shown["text"], shown["signature"], shown["template_version"]) == (answer_text, signature, 1)
    assert shown["message"] == f"【{signature}】{answer_text}"
    assert (shown["characters"], shown["parts"]) == (length.characters, length.parts)


# ---------------------------------------------------------------------------- replies inbox


def reply(phone: str, content: str, sequence_id: int, send_time: str) -> dict:
    return {"phone_number": phone, "send_time": send_time, "content": content, "sign_name": "威海社保",
            "dest_code": "1234", "sequence_id": sequence_id}  # fmt: skip


def test_the_inbox_pages_through_a_months_replies_without_opt_outs(staff, lambda_context):
    crypto.reset()
    pushed = push(
        replies_event([
            reply("13800001111", "请问社保卡在哪里领？", 1, "2025-03-02 09:00:00"),
            reply("13800002222", "TD", 2, "2025-03-03 09:00:00"),  # an opt-out: applied, not kept
            reply("13800003333", "已收到，谢谢", 3, "2025-03-04 09:00:00"),
            reply("13800004444", "上个月的回复", 4, "2025-02-27 09:00:00"),
        ]),
        lambda_context,
    )  # fmt: skip
    assert pushed["statusCode"] == 200
    agent = staff.account(Role.hotline_agent)

    first = staff.call("GET", "/v1/staff/replies", token=agent.token, query={"month": "2025-03", "limit": "1"})
    second = staff.call("GET", "/v1/staff/replies", token=agent.token,
                        query={"month": "2025-03", "limit": "1", "cursor": first.json["cursor"]})  # fmt: skip
    whole = staff.call("GET", "/v1/staff/replies", token=agent.token, query={"month": "2025-03"})

    assert first.status == 200
    assert [r["content"] for r in first.json["replies"]] == ["已收到，谢谢"]  # newest first
    assert [r["content"] for r in second.json["replies"]] == ["请问社保卡在哪里领？"]
    assert [r["phone_masked"] for r in whole.json["replies"]] == ["138****3333", "138****1111"]
    assert whole.json["cursor"] is None
    assert whole.json["replies"][0]["sign_name"] == "威海社保" and whole.json["replies"][0]["received_at"]
    assert "13800003333" not in whole.text and "phone_token" not in whole.text


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"month": "2025-13"}, 422),
        ({}, 422),
        ({"month": "2025-03", "cursor": "not-a-cursor"}, 400),
        # A cursor of another month's page.
        ({"month": "2025-03", "cursor": "eyJwayI6ICJpbmJveCMyMDI1LTAyIiwgInNrIjogIngifQ=="}, 400),
    ],
)
def test_a_bad_month_or_cursor_is_refused(staff, query, status):
    answer = staff.call("GET", "/v1/staff/replies", token=staff.account(Role.city_operator).token, query=query)
    assert answer.status == status, answer.text
    assert answer.json["error"]["message"]


# ---------------------------------------------------------------------------- lanes


def test_it_ops_sees_each_lanes_waiting_in_flight_delayed_and_dead_letters(staff, aws):
    from sms_platform import aws as platform_aws

    sqs = platform_aws.client("sqs")
    high = aws.queue_url("HighQueue")
    for n in range(2):
        sqs.send_message(QueueUrl=high, MessageBody=json.dumps({"n": n}))
    sqs.send_message(QueueUrl=high, MessageBody="{}", DelaySeconds=600)
    sqs.receive_message(QueueUrl=high, MaxNumberOfMessages=1, VisibilityTimeout=600)
    sqs.send_message(QueueUrl=aws.queue_url("BulkDeadLetterQueue"), MessageBody="{}")

    answer = staff.call("GET", "/v1/staff/operations/lanes", token=staff.account(Role.it_ops).token)

    assert answer.status == 200
    lanes = {lane["lane"]: lane for lane in answer.json["lanes"]}
    assert lanes["high"] == {"lane": "high", "visible": 1, "in_flight": 1, "delayed": 1, "dead_letters": 0}
    assert lanes["bulk"] == {"lane": "bulk", "visible": 0, "in_flight": 0, "delayed": 0, "dead_letters": 1}
    assert lanes["normal"]["visible"] == 0 and "fanout" in lanes and "work" in lanes


# ---------------------------------------------------------------------------- audit export


def _export_headers(day: str) -> dict:
    """The export's response headers, from the staff API's handler itself (REST answers carry
    them as multi-value headers)."""
    import staff_api

    from tests.events import api_event
    from tests.staff_calls import member

    event = api_event("GET", "/v1/staff/audit/export", resource="/v1/staff/{proxy+}", query={"day": day},
                      path_parameters={"proxy": "audit/export"},
                      authorizer=member("aud-h", Office.city, Role.auditor).to_authorizer_context())  # fmt: skip
    from tests.conftest import LambdaContext

    return staff_api.handler(event, LambdaContext())["multiValueHeaders"]


def test_an_auditor_exports_a_day_as_the_archive_writes_it_and_the_export_is_audited(staff, staff_clock):
    reviewer = staff.account(Role.city_reviewer)
    staff.call("POST", "/v1/staff/forbidden-words", token=reviewer.token, body={"word": "代缴黄牛"})
    auditor = staff.account(Role.auditor)
    day = staff_clock.now().astimezone(BEIJING).date()

    expected, count, _ = archive.archive_lines(day, staff_clock.now())
    answer = staff.call("GET", "/v1/staff/audit/export", token=auditor.token, query={"day": day.isoformat()})
    again = staff.call("GET", "/v1/staff/audit/export", token=auditor.token, query={"day": day.isoformat()})

    assert answer.status == 200
    headers = _export_headers(day.isoformat())
    assert headers["Content-Type"] == ["application/x-ndjson"]
    assert headers["Content-Disposition"] == [f'attachment; filename="audit-{day.isoformat()}.jsonl"']
    lines = answer.text.splitlines()
    assert lines == expected and count >= 1
    header = json.loads(lines[0])
    assert header["type"] == "audit-archive" and header["verified"] is True
    assert "forbidden_word.add" in [json.loads(line)["action"] for line in lines[1:]]
    exports = [json.loads(line) for line in again.text.splitlines()[1:] if '"audit.export"' in line]
    assert len(exports) == 1 and exports[0]["after"] == {"entries": count, "verified": True}
    assert trail.verify(day) is None


@pytest.mark.parametrize(("day", "status"), [("2025-02-30", 422), ("tomorrow", 422), (None, 422), ("2999-01-01", 422)])
def test_a_bad_or_future_day_is_refused_and_nothing_is_audited(staff, staff_clock, day, status):
    auditor = staff.account(Role.auditor)
    today = staff_clock.now().astimezone(BEIJING).date()
    before = archive.archive_lines(today, staff_clock.now())[1]
    answer = staff.call("GET", "/v1/staff/audit/export", token=auditor.token, query={"day": day} if day else {})
    assert answer.status == status and answer.json["error"]["message"]
    assert archive.archive_lines(today, staff_clock.now())[1] == before
