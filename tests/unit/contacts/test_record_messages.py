"""A refused address-book record, as a channel reads it: each fault in Chinese naming its field,
in the API's words for every request (foundation.validation_messages), never repeating a value."""

from __future__ import annotations

import pytest
from sms_platform.contacts import collection

from tests.contacts_support import person


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": ""}, [("name", "名称不能为空")]),
        ({"phones": []}, [("phones", "至少选择一个手机号码")]),
        ({"district": None}, [("district", "区县须为文字")]),
        ({"phones": [{"number": "13900000001"}]}, [("phones.0.source", "来源渠道不能为空")]),
        ({"tags": "x"}, [("tags", "标签须为列表")]),
        ({"colour": "red"}, [("colour", "不接受字段“colour”")]),
    ],
)
def test_a_refused_record_names_each_field_in_chinese(changes, expected):
    record, errors = collection.validate({**person(1), **changes})
    assert record is None
    assert [(e["field"], e["message"]) for e in errors] == expected


def test_a_refused_record_never_repeats_the_value():
    secret = "370102199001011234"
    _, errors = collection.validate({**person(1), "name": secret * 10, "district": secret})
    assert errors and not any(secret in e["message"] for e in errors)
