"""Filing with every carrier, through the staff API and the poller's function on moto, with the
Alibaba and the Tencent simulator: one line per carrier, a version usable once one carrier
approved it, and only the approving carriers named to carry it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sms_platform.audit.search import AuditQuery, search
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock
from sms_platform.foundation.errors import Conflict
from sms_platform.staff.context import Office, Role
from sms_platform.templates import filing, store, workflow

from tests.events import schedule_event
from tests.staff_calls import call, member

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=BEIJING)
OPERATOR = member("op1", Office.city, Role.city_operator, real_name="李敏")
REVIEWER = member("rev1", Office.city, Role.city_reviewer, real_name="王芳")

NOTICE = "您好，${name}，您${month}月的养老保险待遇${amount}元已发放，${name}请注意查收。"
VARIABLES = [
    {"name": "name", "type": "name", "max_length": 10},
    {"name": "month", "type": "number", "max_length": 2},
    {"name": "amount", "type": "money", "max_length": 10},
]


@pytest.fixture
def carriers(aws, carrier_simulator, tencent_simulator):
    clock = FixedClock(NOW)
    set_clock(clock)
    carrier_simulator.review_delay = tencent_simulator.review_delay = 60  # seconds of the platform clock
    yield clock, carrier_simulator, tencent_simulator
    set_clock(None)


def approved_template(text=NOTICE, variables=VARIABLES):
    body = {
        "name": "养老金发放通知", "category": "targeted", "office": "city", "text": text, "variables": variables,
        "valid_from": NOW.date().isoformat(), "valid_until": (NOW.date() + timedelta(days=365)).isoformat(),
        "remark": "向领取养老金的参保人员通知当月待遇发放",
    }  # fmt: skip
    created = call(OPERATOR, "POST", "/v1/staff/templates", body)
    assert created.status == 201, created.body
    template_id = created.body["template_id"]
    assert call(OPERATOR, "POST", f"/v1/staff/templates/{template_id}/versions/1/submission").status == 200
    approved = call(REVIEWER, "POST", f"/v1/staff/templates/{template_id}/versions/1/approval", {"note": "同意"})
    assert approved.status == 200, approved.body
    return template_id, approved.body


def poll(clock, seconds=120):
    import filing as filing_function

    from tests.conftest import LambdaContext

    clock.advance(seconds=seconds)
    return filing_function.handler(schedule_event(), LambdaContext())["moved"]


def shown(template_id):
    """The version as the staff API answers it, and its filing lines per carrier."""
    answer = call(OPERATOR, "GET", f"/v1/staff/templates/{template_id}")
    assert answer.status == 200, answer.body
    version = answer.body["versions"][0]
    return version, [f["line"] for f in version["carrier_filings"].values()]


def test_an_approved_version_is_filed_with_both_carriers_and_usable_through_both(carriers):
    clock, alibaba, tencent = carriers
    template_id, approved = approved_template()

    assert approved["status"] == "filed"
    filings = approved["carrier_filings"]
    assert [f["line"] for f in filings.values()] == ["阿里云：报备中", "腾讯云：报备中"]
    assert alibaba.templates[filings["alibaba"]["template_id"]].content == NOTICE
    at_tencent = tencent.templates[filings["tencent"]["template_id"]]
    assert at_tencent.content == "您好，{1}，您{2}月的养老保险待遇{3}元已发放，{4}请注意查收。"
    assert filings["tencent"]["placeholders"] == ["name", "month", "amount", "name"]
    assert approved["carrier_code"] == filings["alibaba"]["template_id"]  # read by the sends as before

    assert poll(clock, seconds=10) == {}  # both still reviewing
    assert poll(clock) == {"active": 1}
    version, lines = shown(template_id)
    assert version["status"] == "active" and lines == ["阿里云：已通过", "腾讯云：已通过"]
    usable = workflow.usable_version(template_id)
    assert filing.carriers_for(usable) == ["alibaba", "tencent"]
    assert filing.carrier_template(usable, "tencent").placeholders == ("name", "month", "amount", "name")
    assert poll(clock) == {} and len(alibaba.templates) == len(tencent.templates) == 1  # nothing filed twice


def test_a_carrier_that_rejects_leaves_the_version_to_the_one_that_approved(carriers):
    clock, alibaba, tencent = carriers
    tencent.reject_words = ("养老保险",)
    template_id, _ = approved_template()

    assert poll(clock) == {"active": 1}
    version, lines = shown(template_id)
    assert version["status"] == "active"
    assert lines == ["阿里云：已通过", "腾讯云：被拒：模板内容含有违规词语"]
    usable = workflow.usable_version(template_id)
    assert filing.carriers_for(usable) == ["alibaba"]
    with pytest.raises(ValueError):
        filing.carrier_template(usable, "tencent")


def test_approved_at_tencent_only_the_version_is_carried_by_tencent_alone(carriers):
    clock, alibaba, tencent = carriers
    alibaba.reject_words = ("养老保险",)
    template_id, _ = approved_template()

    assert poll(clock) == {"active": 1}
    version, lines = shown(template_id)
    assert lines == ["阿里云：被拒：模板内容含有违规词语", "腾讯云：已通过"]
    usable = workflow.usable_version(template_id)
    assert filing.carriers_for(usable) == ["tencent"]
    tencent_template = filing.carrier_template(usable, "tencent")
    assert tencent.templates[tencent_template.template_id].content.startswith("您好，{1}")


def test_a_version_every_carrier_rejects_reaches_the_author_as_rejected(carriers):
    clock, alibaba, tencent = carriers
    alibaba.reject_words = tencent.reject_words = ("养老保险",)
    template_id, _ = approved_template()

    assert poll(clock) == {"carrier_rejected": 1}
    version, lines = shown(template_id)
    assert version["status"] == "carrier_rejected" and version["status_name"] == "运营商未通过"
    assert lines == ["阿里云：被拒：模板内容含有违规词语", "腾讯云：被拒：模板内容含有违规词语"]
    assert filing.carriers_for(store.load(template_id).numbered(1)) == []
    with pytest.raises(Conflict):
        workflow.usable_version(template_id)


def test_one_carrier_rejecting_first_keeps_the_version_waiting_for_the_other(carriers):
    clock, alibaba, tencent = carriers
    alibaba.reject_words = ("养老保险",)
    alibaba.review_delay = 30
    template_id, _ = approved_template()

    assert poll(clock, seconds=45) == {}  # Alibaba rejected, Tencent still reviewing
    version, lines = shown(template_id)
    assert version["status"] == "filed" and lines == ["阿里云：被拒：模板内容含有违规词语", "腾讯云：报备中"]
    assert poll(clock) == {"active": 1}


def test_the_poller_files_again_with_a_carrier_that_was_down_and_settles_both(carriers):
    clock, alibaba, tencent = carriers
    tencent.set_faults(fail_rate=1.0)
    template_id, approved = approved_template()

    assert approved["status"] == "filed"  # Alibaba took it
    assert [f["line"] for f in approved["carrier_filings"].values()] == ["阿里云：报备中", "腾讯云：待报备"]
    assert tencent.templates == {}
    tencent.set_faults()

    assert poll(clock) == {"active": 1}  # Alibaba approved; Tencent filed now
    assert shown(template_id)[1] == ["阿里云：已通过", "腾讯云：报备中"]
    assert filing.carriers_for(workflow.usable_version(template_id)) == ["alibaba"]
    assert poll(clock) == {}
    assert shown(template_id)[1] == ["阿里云：已通过", "腾讯云：已通过"]
    assert filing.carriers_for(workflow.usable_version(template_id)) == ["alibaba", "tencent"]
    assert len(tencent.templates) == 1

    window = AuditQuery(start=NOW - timedelta(hours=1), end=NOW + timedelta(hours=1), template_id=template_id)
    actions = sorted(e["action"] for e in search(window).entries)
    assert actions == sorted(["template.create", "template.submit", "template.approve", "template.file",
                              "template.file", "template.carrier_approved", "template.activate",
                              "template.carrier_review"])  # fmt: skip
    review = next(e for e in search(window).entries if e["action"] == "template.carrier_review")
    assert review["after"]["carrier_filings"]["tencent"]["state"] == "approved"


def test_a_fresh_approval_that_no_carrier_took_is_left_to_its_own_filing_for_a_minute(carriers):
    clock, alibaba, tencent = carriers
    alibaba.set_faults(fail_rate=1.0)
    tencent.set_faults(fail_rate=1.0)
    template_id, approved = approved_template()

    assert approved["status"] == "approved"
    assert [f["line"] for f in approved["carrier_filings"].values()] == ["阿里云：待报备", "腾讯云：待报备"]
    alibaba.set_faults()
    tencent.set_faults()
    assert poll(clock, seconds=30) == {} and alibaba.templates == {} and tencent.templates == {}
    assert poll(clock, seconds=31) == {"filed": 1}
    assert len(alibaba.templates) == len(tencent.templates) == 1


def test_a_text_tencent_cannot_hold_is_rejected_there_and_filed_with_alibaba(carriers):
    clock, alibaba, tencent = carriers
    template_id, approved = approved_template(text="请于{1}日前到窗口办理，咨询12333。", variables=[])

    assert approved["status"] == "filed"
    lines = [f["line"] for f in approved["carrier_filings"].values()]
    assert lines[0] == "阿里云：报备中" and lines[1].startswith("腾讯云：被拒：")
    assert tencent.templates == {}
    assert poll(clock) == {"active": 1}
    assert filing.carriers_for(workflow.usable_version(template_id)) == ["alibaba"]


def test_without_tencent_settings_a_version_is_filed_with_alibaba_alone(aws, carrier_simulator, monkeypatch):
    from sms_platform.foundation import settings

    monkeypatch.setenv("TENCENT_SMS_SDK_APP_ID", "unset")  # the template's default: no application yet
    settings.reset()
    clock = FixedClock(NOW)
    set_clock(clock)
    try:
        template_id, approved = approved_template()
        assert list(approved["carrier_filings"]) == ["alibaba"]
        assert poll(clock) == {"active": 1}
        assert filing.carriers_for(workflow.usable_version(template_id)) == ["alibaba"]
    finally:
        set_clock(None)


def test_a_version_stored_before_per_carrier_filings_reads_and_is_filed_with_tencent(carriers):
    """A version active before the second carrier: its Alibaba filing is read from the carrier_*
    fields, and the poller files it with Tencent once."""
    from sms_platform import aws as platform_aws
    from sms_platform.foundation.settings import settings

    clock, alibaba, tencent = carriers
    template_id, _ = approved_template()
    poll(clock)
    table = platform_aws.table(settings().control_table)
    key = {"pk": f"template#{template_id}", "sk": "v#0001"}
    item = table.get_item(Key=key)["Item"]
    del item["carrier_filings"]
    table.put_item(Item=item)
    tencent.templates.clear()

    version, lines = shown(template_id)
    assert version["status"] == "active" and lines == ["阿里云：已通过"]
    assert poll(clock) == {}
    assert shown(template_id)[1] == ["阿里云：已通过", "腾讯云：报备中"]
    assert poll(clock) == {}
    assert filing.carriers_for(workflow.usable_version(template_id)) == ["alibaba", "tencent"]
    assert len(tencent.templates) == 1
