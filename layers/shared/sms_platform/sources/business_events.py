"""Business events from the social-insurance systems (CONTRACTS §3) turned into notices (R4).

``parse`` checks the body (422 on any fault, without echoing the subject's ID number);
``process`` finds the rules in force whose condition holds, fills each rule's template from the
event's data, queues one message per recipient on the ``high`` lane, records a subject with no
usable number as ``undeliverable``, keeps the event's data for subscriptions that use it and
lets event-driven subscriptions send. Everything a message depends on is checked before the
first one is queued, so a refused event changes nothing.

Message source ids are ``evt#{event_id}#{rule_id}``: a retried event (after a fault) queues
nothing twice, and the intake's idempotency answers a repeated ``event_id`` with its first answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sms_platform.foundation import identifiers
from sms_platform.foundation.clock import BEIJING
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.http import validation_failed_from
from sms_platform.foundation.observability import logger
from sms_platform.foundation.validation_messages import labels
from sms_platform.sending import recipient_groups
from sms_platform.sending.lanes import SmsKind
from sms_platform.sources import caller_events, channel_sends, trigger_conditions, trigger_rule_store
from sms_platform.sources.trigger_rule_models import EVENT_TYPE_PATTERN, matching_rules


class Subject(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"kind": "对象类型", "id": "证件号码"}))

    kind: Literal["person", "unit"]
    id: str = Field(min_length=1, max_length=64)

    @field_validator("id")
    @classmethod
    def _normal(cls, value: str, info: Any) -> str:
        kind = info.data.get("kind")
        value = value.strip().upper()
        if kind == "person" and not identifiers.is_id_number(value):
            raise ValueError("身份证号码无效")
        if kind == "unit" and not identifiers.is_credit_code(value):
            raise ValueError("统一社会信用代码无效")
        return value


class BusinessEvent(BaseModel):
    model_config = ConfigDict(
        field_title_generator=labels(
            {
                "event_id": "事件编号",
                "event_type": "事件类型",
                "occurred_at": "发生时间",
                "subject": "办理对象",
                "data": "业务数据",
            }
        )
    )

    event_id: str = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
    event_type: str = Field(max_length=64, pattern=EVENT_TYPE_PATTERN)
    occurred_at: datetime
    subject: Subject
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=BEIJING)

    def as_context(self) -> dict[str, Any]:
        """The event as conditions and variable paths see it (the subject's ID stays out)."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "occurred_at": self.occurred_at.isoformat(),
            "subject": {"kind": self.subject.kind},
            "data": self.data,
        }


def parse(body: Any) -> BusinessEvent:
    if not isinstance(body, dict):
        raise ValidationFailed("请求体必须是 JSON 对象", field="body")
    try:
        return BusinessEvent.model_validate(body)
    except ValidationError as exc:
        raise validation_failed_from(exc.errors(), BusinessEvent) from exc  # messages never repeat a value


def process(event: BusinessEvent, now: datetime, caller_key: Any = None) -> dict[str, Any]:
    """The contract's answer ``{"event_id", "matched_rules", "messages"}`` (and ``"test": true``
    for a test key's event). ``caller_key``: the API key that sent it (``caller_keys.CallerKey``;
    None from EventBridge), the only one that may read its status later."""
    # deferred: the subscription models and store (~11 ms of the event intake's cold import)
    from sms_platform.sources import subscription_sends

    context = event.as_context()
    rules = matching_rules(trigger_rule_store.active_for(event.event_type), context, now)

    plans = []
    for rule in rules:
        template = channel_sends.active_template(rule.template_id, now, category="triggered")
        if template is None:
            # A configuration fault, not the sender's: the rule is counted, nothing is sent.
            logger().error("trigger rule's template is not active", extra={"rule_id": rule.rule_id})
            continue
        values = channel_sends.check_values(template, trigger_conditions.fill_variables(rule.variables, context))
        plans.append((rule, template, values))

    test = bool(caller_key and caller_key.test)
    caller = caller_events.event_caller(
        event.event_id, caller_key.api_key_id if caller_key else None, test=test,
        notify=bool(caller_key and caller_key.callback_url),
    )  # fmt: skip
    messages = 0
    if plans:
        subject_phones, who = channel_sends.subject_recipients(event.subject.kind, event.subject.id)
        for rule, template, values in plans:
            source_id = f"evt#{channel_sends.source_key(event.event_id)}#{rule.rule_id}"
            # Staff read a rule's recipients day by day, whatever event each message came from. A
            # test key's messages reached nobody: they stay out of the rule's recipients and totals.
            group = None if test else recipient_groups.rule_group(rule.rule_id, now)
            listed = {"recipient_group": group, "who": who}
            # A person's event cannot reach a unit's contact people: recorded as undeliverable.
            unreachable = rule.recipients == "unit_contacts" and event.subject.kind == "person"
            phones = [] if unreachable else subject_phones
            if not phones:
                channel_sends.record_undeliverable(SmsKind.TRIGGERED, source_id, template, "no_usable_number",
                                                   caller=caller, **listed)  # fmt: skip
                continue
            messages += channel_sends.send(SmsKind.TRIGGERED, source_id, template, [(p, values) for p in phones],
                                           caller=caller, **listed)  # fmt: skip

    caller_events.remember(event.event_id, api_key_id=caller_key.api_key_id if caller_key else None, test=test,
                           matched_rules=len(rules), received_at=now)  # fmt: skip
    if test:  # a test event feeds no subscriber's data and sends them nothing
        return {"event_id": event.event_id, "matched_rules": len(rules), "messages": messages, "test": True}
    subscription_sends.remember_event_data(event.subject.kind, event.subject.id, event.event_type, event.data,
                                           event.occurred_at)  # fmt: skip
    messages += subscription_sends.send_on_event(event, now)
    # deferred like the subscriptions': reminder waves are read only once an event is accepted
    from sms_platform.sources import reminders

    # A done-event reminder waves wait for: their later waves leave this subject out.
    reminders.record_done(event.subject.kind, event.subject.id, event.event_type, now=now)
    return {"event_id": event.event_id, "matched_rules": len(rules), "messages": messages}
