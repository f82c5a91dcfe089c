"""A template version keeps its filing with each carrier, Tencent's positional names with it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sms_platform.carrier import placeholders
from sms_platform.templates.models import CarrierFiling, TemplateVersion

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _version(**changes) -> TemplateVersion:
    return TemplateVersion(
        template_id="t1", version=2, name="待遇发放", category="triggered", office="city",
        text="${name}您好，${name}的待遇${amount}元已发放。", variables=[], valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31), remark="通知", status="approved", status_name="审核通过，待报备",
        author={"account_id": "a1", "username": "zhangsan", "real_name": "张三"}, created_at=NOW, updated_at=NOW,
        **changes,
    )  # fmt: skip


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
