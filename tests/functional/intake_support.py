"""Shared set-up for the intake channels' tests: queued messages read back from the lanes.

Active templates are made the real way by ``tests.template_support.active_template``. The
``active_templates`` fixture below stands in for the templates module instead; it is kept only
for tests outside the intake channels that have not moved to the real templates yet.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sms_platform import channel_sends
from sms_platform.templating import VariableSpec


@pytest.fixture
def active_templates(monkeypatch):
    registry: dict[str, channel_sends.TemplateUse] = {}

    def add(template_id: str, text: str, *, category: str, office: str = "city", variables=(), code=None):
        specs = [VariableSpec(**spec) for spec in variables]
        registry[template_id] = channel_sends.TemplateUse(
            template_id=template_id, version=1, code=code or f"SMS_{abs(hash(template_id)) % 10**8}", text=text,
            office=office, category=category, sign_name="威海市社会保险事业中心", variables=specs,
        )  # fmt: skip
        return registry[template_id]

    def active(template_id, now, *, category=None):
        found = registry.get(template_id)
        return found if found and category in (None, found.category) else None

    monkeypatch.setattr(channel_sends, "active_template", active)
    monkeypatch.setattr(
        channel_sends, "template_category", lambda template_id: getattr(registry.get(template_id), "category", None)
    )
    return add


def queued_batches(aws, queue: str = "HighQueue") -> list[dict[str, Any]]:
    """Every batch waiting on a lane (read and left in flight; each test has its own moto)."""
    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    found = []
    while True:
        answer = sqs.receive_message(QueueUrl=aws.queue_url(queue), MaxNumberOfMessages=10, VisibilityTimeout=600)
        messages = answer.get("Messages", [])
        if not messages:
            return found
        found.extend(json.loads(message["Body"]) for message in messages)


def recipients(batches: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(source id, recipient) for every queued recipient."""
    return [(batch["source_id"], recipient) for batch in batches for recipient in batch["recipients"]]


def phones_of(batches: list[dict[str, Any]]) -> list[str]:
    from sms_platform import crypto

    return [crypto.decrypt(recipient["phone_token"]) for _, recipient in recipients(batches)]
