"""Templates through the staff API on moto, filed with the carrier simulator."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sms_platform.audit.search import AuditQuery, search
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.foundation.errors import Conflict, Gone
from sms_platform.staff.context import Office, Role
from sms_platform.templates import models, workflow

from tests.events import schedule_event
from tests.staff_calls import call, member

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=BEIJING)
TODAY = NOW.date()

OPERATOR = member("op1", Office.city, Role.city_operator, real_name="李敏")
OPERATOR_2 = member("op2", Office.city, Role.city_operator)
REVIEWER = member("rev1", Office.city, Role.city_reviewer, real_name="王芳")
BOTH = member("both", Office.city, Role.city_operator, Role.city_reviewer)
HUANCUI = member("hc1", Office.huancui, Role.district_operator)
WENDENG = member("wd1", Office.wendeng, Role.district_operator)
AUDITOR = member("aud", Office.city, Role.auditor)

NOTICE = "您好，${name}，您${month}月的养老保险待遇${amount}元已发放，请注意查收。"
VARIABLES = [
    {"name": "name", "type": "name", "max_length": 10},
    {"name": "month", "type": "number", "max_length": 2},
    {"name": "amount", "type": "money", "max_length": 10},
]


@pytest.fixture
def platform(aws, carrier_simulator):
    clock = FixedClock(NOW)
    set_clock(clock)
    carrier_simulator.review_delay = 60  # seconds of the platform clock the carrier takes to review
    yield clock, carrier_simulator
    set_clock(None)


def draft(**changes):
    body = {
        "name": "养老金发放通知",
        "category": "targeted",
        "office": "city",
        "text": NOTICE,
        "variables": VARIABLES,
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + timedelta(days=365)).isoformat(),
        "remark": "向领取养老金的参保人员通知当月待遇发放",
    }
    body.update(changes)
    return body


def content(**changes):
    body = draft(**changes)
    body.pop("category")
    body.pop("office")
    return body


def create(author=OPERATOR, **changes) -> str:
    answer = call(author, "POST", "/v1/staff/templates", draft(**changes))
    assert answer.status == 201, answer.body
    return answer.body["template_id"]


def submit(template_id, version=1, author=OPERATOR):
    answer = call(author, "POST", f"/v1/staff/templates/{template_id}/versions/{version}/submission")
    assert answer.status == 200, answer.body
    return answer.body


def approve(template_id, version=1, reviewer=REVIEWER):
    return call(reviewer, "POST", f"/v1/staff/templates/{template_id}/versions/{version}/approval", {"note": "同意"})


def version_of(template_id, version, ctx=OPERATOR):
    answer = call(ctx, "GET", f"/v1/staff/templates/{template_id}")
    assert answer.status == 200, answer.body
    return next(v for v in answer.body["versions"] if v["version"] == version)


def poll(clock, seconds=120):
    import filing

    from tests.conftest import LambdaContext

    clock.advance(seconds=seconds)
    return filing.handler(schedule_event(), LambdaContext())


def make_active(clock, **changes) -> str:
    template_id = create(**changes)
    submit(template_id)
    assert approve(template_id).status == 200
    poll(clock)
    assert version_of(template_id, 1)["status"] == "active"
    return template_id


def test_a_template_goes_from_draft_to_active_through_review_and_carrier(platform):
    clock, carrier = platform
    template_id = create()
    assert version_of(template_id, 1)["status"] == "draft"

    submitted = submit(template_id)
    assert submitted["status"] == "submitted"
    assert submitted["signature"] == "威海市社会保险事业中心"
    assert any(f["code"] == "length" for f in submitted["findings"])

    queue = call(REVIEWER, "GET", "/v1/staff/template-reviews")
    assert [v["template_id"] for v in queue.body["versions"]] == [template_id]

    approved = approve(template_id)
    assert approved.status == 200, approved.body
    assert approved.body["status"] == "filed" and approved.body["reviewer"]["real_name"] == "王芳"
    code = approved.body["carrier_code"]
    filed = carrier.templates[code]
    assert (filed.template_type, filed.content) == (1, NOTICE)

    assert poll(clock, seconds=10)["moved"] == {}  # the carrier is still reviewing
    assert poll(clock)["moved"] == {"active": 1}
    active = version_of(template_id, 1)
    assert active["status"] == "active" and active["status_name"] == "已启用"
    assert workflow.usable_version(template_id).carrier_code == code

    entries = search(
        AuditQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1), template_id=template_id)
    ).entries
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    assert sorted(e["action"] for e in entries) == sorted(
        [
            "template.create",
            "template.submit",
            "template.approve",
            "template.file",
            "template.carrier_approved",
            "template.activate",
        ]
    )
    approval = next(e for e in entries if e["action"] == "template.approve")
    assert approval["actor"]["real_name"] == "王芳" and approval["office"] == "city"
    assert (approval["before"]["status"], approval["after"]["status"]) == ("submitted", "approved")


def test_a_reviewer_never_approves_their_own_template(platform):
    template_id = create(author=BOTH)
    submit(template_id, author=BOTH)
    refused = approve(template_id, reviewer=BOTH)
    assert refused.status == 403
    assert "不能审核自己编写的模板" in refused.error["message"]
    assert version_of(template_id, 1)["status"] == "submitted"
    refused = call(BOTH, "POST", f"/v1/staff/templates/{template_id}/versions/1/rejection", {"reason": "自己退回"})
    assert refused.status == 403
    assert approve(template_id, reviewer=REVIEWER).status == 200


def test_a_template_with_forbidden_content_cannot_be_approved(platform):
    _, carrier = platform
    template_id = create(text="参保人员请注意：养老保险缴费可参与赌博返利活动。", variables=[])
    submitted = submit(template_id)
    assert any(f["level"] == "block" and f["code"] == "forbidden_word" for f in submitted["findings"])

    refused = approve(template_id)
    assert refused.status == 422 and refused.error["code"] == "content_rejected"
    assert "赌博" in refused.error["message"]
    assert version_of(template_id, 1)["status"] == "submitted"
    assert carrier.templates == {}


def test_a_word_reviewers_add_blocks_approval_of_texts_already_submitted(platform):
    template_id = create(text="社保卡激活有礼，请到网点领取纪念品。", variables=[])
    submit(template_id)
    added = call(REVIEWER, "POST", "/v1/staff/forbidden-words", {"word": "纪念品"})
    assert added.status == 201
    assert {"word": "纪念品", "source": "reviewer", "category": None, "added_by": "王芳"} in added.body["words"]

    refused = approve(template_id)
    assert refused.status == 422 and "纪念品" in refused.error["message"]
    # The stored findings now show the reviewer why.
    assert any("纪念品" in f["message"] for f in version_of(template_id, 1)["findings"])

    removed = call(REVIEWER, "POST", "/v1/staff/forbidden-words/removal", {"word": "纪念品"})
    assert removed.status == 200 and all(w["word"] != "纪念品" for w in removed.body["words"])
    assert approve(template_id).status == 200


def test_only_reviewers_maintain_the_word_list(platform):
    for who in (OPERATOR, HUANCUI, AUDITOR):
        assert call(who, "POST", "/v1/staff/forbidden-words", {"word": "虚假中奖"}).status == 403
        assert call(who, "GET", "/v1/staff/forbidden-words").status == 403
    assert all(w["word"] != "虚假中奖" for w in call(REVIEWER, "GET", "/v1/staff/forbidden-words").body["words"])
    assert call(REVIEWER, "POST", "/v1/staff/forbidden-words", {"word": "虚假中奖"}).status == 201
    assert call(REVIEWER, "POST", "/v1/staff/forbidden-words", {"word": "虚假中奖"}).status == 409


def test_a_publicity_template_without_the_opt_out_line_is_refused(platform):
    refused = call(
        OPERATOR,
        "POST",
        "/v1/staff/templates",
        draft(category="publicity", text="社保政策宣传周开始啦，欢迎参保人员到大厅咨询。", variables=[]),
    )
    assert refused.status == 422 and "拒收请回复R" in refused.error["message"]
    assert call(OPERATOR, "GET", "/v1/staff/templates").body["templates"] == []

    accepted = call(
        OPERATOR,
        "POST",
        "/v1/staff/templates",
        draft(category="publicity", text="社保政策宣传周开始啦，欢迎参保人员到大厅咨询。拒收请回复R", variables=[]),
    )
    assert accepted.status == 201


def test_an_edited_active_template_keeps_its_old_version_readable(platform):
    clock, carrier = platform
    template_id = make_active(clock)
    old = version_of(template_id, 1)

    new_text = "您好，${name}，您${month}月的养老金${amount}元已发到社保卡，请注意查收。"
    created = call(OPERATOR, "POST", f"/v1/staff/templates/{template_id}/versions", content(text=new_text))
    assert created.status == 201 and created.body["version"] == 2 and created.body["status"] == "draft"
    # While the new version is on its way the old one keeps serving.
    assert workflow.usable_version(template_id).version == 1
    busy = call(OPERATOR_2, "POST", f"/v1/staff/templates/{template_id}/versions", content())
    assert busy.status == 409

    submit(template_id, version=2)
    assert approve(template_id, version=2).status == 200
    poll(clock)

    template = call(OPERATOR, "GET", f"/v1/staff/templates/{template_id}").body
    assert template["active_version"] == 2 and template["latest_version"] == 2
    v1, v2 = template["versions"]
    assert v1["text"] == NOTICE and v1["carrier_code"] == old["carrier_code"]
    assert v1["status"] == "retired" and "第 2 版" in v1["end_reason"]
    assert v2["text"] == new_text and v2["status"] == "active"
    assert workflow.usable_version(template_id).version == 2


def test_a_carrier_rejection_reaches_the_author_with_its_reason(platform):
    clock, carrier = platform
    template_id = create(text="社保卡违规借用将被停用，请参保人员注意。", variables=[])
    submit(template_id)
    assert approve(template_id).body["status"] == "filed"
    assert poll(clock)["moved"] == {"carrier_rejected": 1}

    mine = call(OPERATOR, "GET", "/v1/staff/templates", query={"status": "carrier_rejected"}).body["templates"]
    assert [t["template_id"] for t in mine] == [template_id]
    rejected = version_of(template_id, 1)
    assert rejected["status"] == "carrier_rejected" and rejected["status_name"] == "运营商未通过"
    assert rejected["carrier_reason"] == "模板内容含有违规词语"
    with pytest.raises(Conflict):
        workflow.usable_version(template_id)

    # The author starts a new version from there.
    again = call(
        OPERATOR,
        "POST",
        f"/v1/staff/templates/{template_id}/versions",
        content(text="请参保人员妥善保管社保卡。", variables=[]),
    )
    assert again.status == 201 and again.body["version"] == 2


def test_a_template_expires_when_its_validity_ends(platform):
    clock, _ = platform
    template_id = make_active(clock, valid_until=(TODAY + timedelta(days=1)).isoformat())
    clock.set(datetime(2025, 3, 4, 23, 59, tzinfo=BEIJING))
    assert workflow.usable_version(template_id).version == 1
    clock.set(datetime(2025, 3, 5, 0, 1, tzinfo=BEIJING))
    with pytest.raises(Gone):
        workflow.usable_version(template_id)  # refused even before the poller has run
    assert poll(clock, seconds=0)["moved"] == {"expired": 1}
    template = call(OPERATOR, "GET", f"/v1/staff/templates/{template_id}").body
    assert template["active_version"] is None and template["versions"][0]["status"] == "expired"


def test_a_version_approved_before_its_validity_waits_to_become_active(platform):
    clock, _ = platform
    starts = TODAY + timedelta(days=3)
    template_id = create(valid_from=starts.isoformat())
    submit(template_id)
    approve(template_id)
    poll(clock)
    assert version_of(template_id, 1)["status"] == "carrier_approved"
    with pytest.raises(Conflict):
        workflow.usable_version(template_id)
    clock.set(datetime.combine(starts, datetime.min.time(), tzinfo=BEIJING))
    poll(clock, seconds=1)
    assert version_of(template_id, 1)["status"] == "active"


def test_a_filing_the_carrier_did_not_take_is_retried_by_the_poller(platform):
    clock, carrier = platform
    template_id = create()
    submit(template_id)
    carrier.set_faults(fail_rate=1.0)
    approved = approve(template_id)
    assert approved.status == 200 and approved.body["status"] == "approved"
    assert carrier.templates == {}
    carrier.set_faults()
    assert poll(clock, seconds=30)["moved"] == {}  # a fresh approval is left to its own filing
    assert carrier.templates == {}
    assert poll(clock, seconds=31)["moved"] == {"filed": 1}
    assert len(carrier.templates) == 1
    assert poll(clock)["moved"] == {"active": 1}
    assert poll(clock)["moved"] == {}  # nothing filed twice
    assert len(carrier.templates) == 1


def test_a_filing_that_finds_the_version_already_moved_answers_with_the_stored_state(platform):
    from sms_platform.templates import filing, store

    clock, carrier = platform
    template_id = create()
    submit(template_id)
    carrier.set_faults(fail_rate=1.0)
    approve(template_id)
    stale = store.load(template_id).numbered(1)
    carrier.set_faults()
    assert poll(clock, seconds=61)["moved"] == {"filed": 1}

    answer = filing.file_with_carrier(stale, now=clock.now())

    assert answer.status == "filed"
    assert version_of(template_id, 1)["carrier_code"] == answer.carrier_code


def test_a_rejection_needs_a_reason_and_reaches_the_author(platform):
    template_id = create()
    submit(template_id)
    missing = call(REVIEWER, "POST", f"/v1/staff/templates/{template_id}/versions/1/rejection", {"reason": ""})
    assert missing.status == 422
    assert version_of(template_id, 1)["status"] == "submitted"
    rejected = call(
        REVIEWER, "POST", f"/v1/staff/templates/{template_id}/versions/1/rejection", {"reason": "金额变量应注明单位"}
    )
    assert rejected.status == 200
    seen = version_of(template_id, 1)
    assert (seen["status"], seen["reject_reason"], seen["reviewer"]["real_name"]) == (
        "rejected",
        "金额变量应注明单位",
        "王芳",
    )


def test_districts_see_and_write_their_own_templates_only(platform):
    city_template = create()
    own = create(author=HUANCUI, office="huancui", name="环翠区缴费提醒")
    assert call(HUANCUI, "GET", f"/v1/staff/templates/{city_template}").status == 404
    assert [t["template_id"] for t in call(HUANCUI, "GET", "/v1/staff/templates").body["templates"]] == [own]
    assert call(HUANCUI, "GET", "/v1/staff/templates", query={"office": "city"}).status == 403
    assert call(WENDENG, "GET", f"/v1/staff/templates/{own}").status == 404
    refused = call(HUANCUI, "POST", "/v1/staff/templates", draft(office="wendeng"))
    assert refused.status == 403
    # The city sees every office's templates.
    seen = {t["template_id"] for t in call(REVIEWER, "GET", "/v1/staff/templates").body["templates"]}
    assert seen == {city_template, own}
    # A district's template carries the district's signature, even once the city approves it.
    assert submit(own, author=HUANCUI)["signature"] == "环翠区社会保险事业中心"


BAD_TEMPLATES = [
    ({"text": "您好，${name}，请查收。", "variables": []}, "name"),
    ({"variables": [*VARIABLES, {"name": "extra", "type": "text", "max_length": 5}]}, "extra"),
    ({"valid_until": (TODAY - timedelta(days=1)).isoformat()}, "有效期"),
    ({"valid_from": "2025-06-01", "valid_until": "2025-05-01"}, "有效期"),
    ({"category": "newsletter"}, "category"),
    ({"remark": ""}, "remark"),
    ({"text": "您好，${name.upper()}，请查收。"}, "不能包含属性、下标、调用或运算：${name.upper()}"),
]


def test_bad_templates_are_refused_and_nothing_is_stored(platform):
    for changes, field in BAD_TEMPLATES:
        answer = call(OPERATOR, "POST", "/v1/staff/templates", draft(**changes))
        assert answer.status == 422, (changes, answer.body)
        assert field in answer.error["message"] or field == answer.error.get("field"), (changes, answer.body)
    assert call(OPERATOR, "GET", "/v1/staff/templates").body["templates"] == []
    assert search(AuditQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1))).entries == []


def one(name):
    return [{"name": name, "type": "text", "max_length": 10}]


# Texts that would read more than their declared variables, each with the answer its author reads.
NOT_CLOSED = [
    ("您好${self}，您的养老金已发放。", one("self"), "模板变量 ${self} 不是已声明的变量"),
    ("您好${range}，您的养老金已发放。", one("range"), "模板变量 ${range} 不是已声明的变量"),
    ("您好${lipsum}，您的养老金已发放。", [], "模板变量 ${lipsum} 不是已声明的变量"),
    ("您好${name.__class__}，您的养老金已发放。", one("name"), "不能包含属性、下标、调用或运算：${name.__class__}"),
    ("您好${name[0]}，您的养老金已发放。", one("name"), "不能包含属性、下标、调用或运算：${name[0]}"),
    ("您好${cycler()}，您的养老金已发放。", [], "不能包含属性、下标、调用或运算：${cycler()}"),
    ("您好${name|upper}，您的养老金已发放。", one("name"), "不能包含属性、下标、调用或运算：${name|upper}"),
]


@pytest.mark.parametrize(("text", "variables", "message"), NOT_CLOSED)
def test_a_template_reading_more_than_its_variables_is_refused_and_not_stored(platform, text, variables, message):
    refused = call(OPERATOR, "POST", "/v1/staff/templates", draft(text=text, variables=variables))
    assert refused.status == 422, refused.body
    assert refused.error["code"] == "validation_failed"
    assert message in refused.error["message"]
    assert call(OPERATOR, "GET", "/v1/staff/templates").body["templates"] == []
    assert search(AuditQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1))).entries == []


@pytest.mark.parametrize(("text", "variables", "message"), NOT_CLOSED[:4])
def test_a_draft_or_new_version_cannot_be_changed_to_read_more_than_its_variables(platform, text, variables, message):
    clock, _ = platform
    template_id = make_active(clock)
    body = content(text=text, variables=variables)
    changed = call(OPERATOR, "POST", f"/v1/staff/templates/{template_id}/versions", body)
    assert changed.status == 422 and message in changed.error["message"], changed.body
    draft_id = create()
    edited = call(OPERATOR, "PUT", f"/v1/staff/templates/{draft_id}/versions/1", body)
    assert edited.status == 422 and message in edited.error["message"], edited.body
    assert [v["text"] for v in call(OPERATOR, "GET", f"/v1/staff/templates/{template_id}").body["versions"]] == [NOTICE]
    assert version_of(draft_id, 1)["text"] == NOTICE


def test_drafts_can_be_changed_until_submitted(platform):
    template_id = create()
    changed = call(OPERATOR, "PUT", f"/v1/staff/templates/{template_id}/versions/1", content(name="待遇发放通知"))
    assert changed.status == 200 and changed.body["name"] == "待遇发放通知"
    submit(template_id)
    late = call(OPERATOR, "PUT", f"/v1/staff/templates/{template_id}/versions/1", content())
    assert late.status == 409


def test_retiring_stops_sends(platform):
    clock, _ = platform
    template_id = make_active(clock)
    retired = call(OPERATOR, "POST", f"/v1/staff/templates/{template_id}/retirement", {"reason": "政策调整"})
    assert retired.status == 200 and retired.body["status"] == "retired"
    with pytest.raises(Conflict):
        workflow.usable_version(template_id)


def test_who_writes_which_kind_of_template(platform):
    hotline = member("hl", Office.hotline, Role.hotline_manager)
    it_ops = member("it", Office.it, Role.it_ops)
    code = {
        "text": "您的验证码为${code}，5分钟内有效。",
        "variables": [{"name": "code", "type": "code", "max_length": 6}],
    }
    cases = [
        (OPERATOR, {"category": "triggered"}, 201),
        (HUANCUI, {"category": "triggered"}, 403),
        (hotline, {"category": "hangup", "office": "hotline"}, 201),
        (it_ops, {"category": "system", "office": "it", **code}, 201),
        (OPERATOR, {"category": "system", "office": "it", **code}, 403),
        (REVIEWER, {}, 403),
    ]
    for who, changes, status in cases:
        answer = call(who, "POST", "/v1/staff/templates", draft(**changes))
        assert answer.status == status, (who.account_id, changes, answer.body)


def test_each_step_bears_the_time_it_is_given(platform):
    """The services take the time of a step from their caller (the route's reading of the clock,
    the poller's round), and audit it at that time."""
    from sms_platform.audit.chain import time_key
    from sms_platform.templates import filing
    from sms_platform.templates.models import TemplateDraft

    clock, _ = platform
    created_at, submitted_at, approved_at = (NOW + timedelta(minutes=m) for m in (1, 2, 3))

    template_id = workflow.create_template(OPERATOR, TemplateDraft(**draft()), now=created_at).template_id
    submitted = workflow.submit(OPERATOR, template_id, 1, now=submitted_at)
    filed = workflow.approve(REVIEWER, template_id, 1, "同意", now=approved_at)
    clock.advance(seconds=600)  # past the carrier's review
    polled_at = clock.now() + timedelta(minutes=1)
    moved = filing.poll_filings(now=polled_at)

    assert moved == {"active": 1}
    active = workflow.get_template(OPERATOR, template_id).numbered(1)
    assert (submitted.submitted_at, filed.reviewed_at, filed.filed_at) == (submitted_at, approved_at, approved_at)
    assert active.activated_at == polled_at
    window = AuditQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1), template_id=template_id)
    assert {e["action"]: e["at"] for e in search(window).entries} == {
        "template.create": time_key(created_at),
        "template.submit": time_key(submitted_at),
        "template.approve": time_key(approved_at),
        "template.file": time_key(approved_at),
        "template.carrier_approved": time_key(polled_at),
        "template.activate": time_key(polled_at),
    }


def test_date_of_today_is_beijing_time(platform):
    clock, _ = platform
    clock.set(datetime(2025, 3, 3, 23, 30, tzinfo=BEIJING))  # 15:30 UTC
    assert models.today() == date(2025, 3, 3)
    clock.set(datetime(2025, 3, 4, 0, 30, tzinfo=BEIJING))  # still 3 March in UTC
    assert models.today() == date(2025, 3, 4)
