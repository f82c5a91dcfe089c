"""The 422 answers as staff and integrators read them: each fault in Chinese, naming the field
by its label and by its path in the request, on staff and contract routes alike."""

from __future__ import annotations

import json

from tests.events import api_event
from tests.functional.sends_support import WENDENG, active_template, propose, sends  # noqa: F401


def _details(answer: dict) -> list[tuple[str, str]]:
    return [(d["field"], d["message"]) for d in answer["error"]["details"]]


def test_a_send_requests_faults_are_named_as_the_request_holds_them(sends):  # noqa: F811
    template_id = active_template(sends.clock)

    shape = propose(WENDENG, template_id, audience={"kind": "moon", "districts": []}, values={"date": 20250331})
    assert shape.status == 422
    assert _details(shape.body) == [
        ("values.date", "变量取值须为文字"),
        ("audience.kind", "对象类型不是可选的值（可选：person、unit）"),
    ]
    assert shape.body["error"]["message"] == "变量取值须为文字（字段 values.date；共 2 处需要修改）"

    values = propose(WENDENG, template_id, values={"unit": "文登社保", "date": "明年"})
    assert values.status == 422
    assert values.body["error"]["field"] == "values.date"
    assert [field for field, _ in _details(values.body)] == ["values.date"]
    assert "date" in _details(values.body)[0][1]


def test_a_business_systems_event_gets_chinese_messages_with_its_fields(aws, lambda_context):
    import events_intake

    body = {"event_type": "pension.paid", "occurred_at": "昨天", "subject": {"kind": "family"}, "data": {}}
    event = api_event("POST", "/v1/events", body=body, api_key_id="key-pension-system", api_key="secret-value")
    answer = events_intake.handler(event, lambda_context)

    assert answer["statusCode"] == 422
    details = _details(json.loads(answer["body"]))
    assert ("event_id", "事件编号不能为空") in details
    assert ("occurred_at", "发生时间须为日期时间，格式如 2026-01-01T09:00:00+08:00") in details
    assert ("subject.kind", "对象类型不是可选的值（可选：person、unit）") in details
    assert ("subject.id", "证件号码不能为空") in details
    assert not any(words in answer["body"] for words in ("Field required", "Input should", "String should"))
