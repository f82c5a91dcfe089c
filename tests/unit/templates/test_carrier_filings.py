"""A template version keeps its filing with each carrier, Tencent's positional names with it, and
follows its filings: usable once one carrier approved it, carried only by the carriers that did."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sms_platform.carrier import placeholders
from sms_platform.carrier.base import CarrierTemplate
from sms_platform.templates import filing
from sms_platform.templates.models import CarrierFiling, TemplateVersion, settled_status

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _version(**changes) -> TemplateVersion:
    fields = dict(
        template_id="t1", version=2, name="待遇发放", category="triggered", office="city",
        text="${name}您好，${name}的待遇${amount}元已发放。", variables=[], valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31), remark="通知", status="approved", status_name="审核通过，待报备",
        author={"account_id": "a1", "username": "zhangsan", "real_name": "张三"}, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    return TemplateVersion(**{**fields, **changes})


def test_a_version_has_no_carrier_filings_until_filed():
    assert _version().carrier_filings == {}


def test_the_tencent_filing_keeps_the_names_in_position_order_and_survives_storage():
    mapped = placeholders.to_positional(_version().text)
    filing = CarrierFiling(carrier="tencent", template_id="1100123", state="under_review",
                           placeholders=list(mapped.names), filed_at=NOW)  # fmt: skip
    version = _version(carrier_filings={"tencent": filing})

    stored = TemplateVersion.model_validate(version.model_dump(mode="json"))
    kept = stored.carrier_filings["tencent"]
    assert (kept.template_id, kept.state, kept.placeholders) == ("1100123", "under_review", ["name", "name", "amount"])
    assert placeholders.to_named(mapped.text, kept.placeholders) == version.text
    assert placeholders.positional_values(kept.placeholders, {"name": "李四", "amount": "8"}) == ["李四", "李四", "8"]


@pytest.mark.parametrize(
    ("current", "states", "expected"),
    [
        ("approved", [], "approved"),
        ("approved", ["filing", "filing"], "approved"),  # no carrier took it: the poller files again
        ("approved", ["under_review", "filing"], "filed"),
        ("approved", ["rejected", "filing"], "approved"),  # the other carrier has not had it yet
        ("approved", ["rejected"], "carrier_rejected"),
        ("filed", ["rejected", "under_review"], "filed"),
        ("filed", ["rejected", "rejected"], "carrier_rejected"),
        ("filed", ["approved", "under_review"], "carrier_approved"),
        ("filed", ["rejected", "approved"], "carrier_approved"),
        ("carrier_approved", ["approved", "rejected"], "carrier_approved"),
        ("active", ["approved", "under_review"], "active"),
        ("active", ["approved", "rejected"], "active"),
    ],
)
def test_a_version_follows_its_filings(current, states, expected):
    assert settled_status(current, states) == expected


@pytest.mark.parametrize(
    ("state", "reason", "line"),
    [
        ("filing", None, "腾讯云：待报备"),
        ("under_review", None, "腾讯云：报备中"),
        ("approved", None, "腾讯云：已通过"),
        ("rejected", "模板内容含有违规词语", "腾讯云：被拒：模板内容含有违规词语"),
        ("rejected", None, "腾讯云：被拒"),
    ],
)
def test_each_filing_reads_as_one_line_for_staff(state, reason, line):
    filing = CarrierFiling(carrier="tencent", state=state, reason=reason)
    assert (filing.carrier_name, filing.line) == ("腾讯云", line)
    assert filing.model_dump(mode="json")["line"] == line


@pytest.mark.parametrize(
    ("status", "fields", "expected"),
    [
        ("approved", {}, None),
        ("filed", {"carrier_code": "SMS_1", "filed_at": NOW}, ("SMS_1", "under_review", None)),
        ("active", {"carrier_code": "SMS_1", "filed_at": NOW, "carrier_checked_at": NOW}, ("SMS_1", "approved", None)),
        ("carrier_rejected", {"carrier_code": "SMS_1", "carrier_reason": "违规"}, ("SMS_1", "rejected", "违规")),
        ("carrier_rejected", {"carrier_reason": "报备被拒：签名不合规"}, (None, "rejected", "签名不合规")),
    ],
)
def test_a_version_stored_before_per_carrier_filings_has_its_alibaba_filing_read_from_its_fields(
    status, fields, expected
):
    stored = _version(status=status, **fields).model_dump(mode="json", exclude={"carrier_filings"})
    version = TemplateVersion.model_validate(stored)
    found = version.carrier_filings.get("alibaba")
    assert (None if found is None else (found.template_id, found.state, found.reason)) == expected


def test_only_the_carriers_that_approved_may_carry_a_version_first_carrier_first():
    filings = {
        "tencent": CarrierFiling(carrier="tencent", template_id="11", state="approved", placeholders=["name"]),
        "alibaba": CarrierFiling(carrier="alibaba", template_id="SMS_1", state="rejected", reason="x"),
    }
    version = _version(status="active", carrier_filings=filings)
    assert filing.carriers_for(version) == ["tencent"]
    assert filing.carrier_template(version, "tencent") == CarrierTemplate("11", ("name",))
    with pytest.raises(ValueError):
        filing.carrier_template(version, "alibaba")
    filings["alibaba"] = CarrierFiling(carrier="alibaba", template_id="SMS_1", state="approved")
    assert filing.carriers_for(_version(status="active", carrier_filings=filings)) == ["alibaba", "tencent"]
