"""Invisible characters in names, identifiers and free text (``sms_platform.foundation.text_rules``): the rule
itself, the pydantic field type, and the models that apply it at each way in."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sms_platform.foundation import text_rules
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.text_rules import Visible

NAME = "王芳"

# (what is inside the name, refused in one line, refused in multi-line text)
CASES = [
    ("plain Chinese", NAME, False, False),
    ("Latin with a space, a dot and an apostrophe", "Mary O'Neil Jr.", False, False),
    ("middle dot of a minority name", "阿依古丽·买买提", False, False),
    ("ideographic space", "王\u3000芳", False, False),
    ("full-width digits and brackets", "（１２３）", False, False),
    ("emoji", "王芳😀", False, False),
    ("NUL", "王\x00芳", True, True),
    ("BEL", "王芳\x07", True, True),
    ("ESC of a terminal colour", "\x1b[31m王芳", True, True),
    ("DEL", "王\x7f芳", True, True),
    ("C1 control", "王\x85芳", True, True),
    ("unit separator", "138\x1f0000", True, True),
    ("tab", "王\t芳", True, True),
    ("newline", "王\n芳", True, False),
    ("carriage return and newline", "王\r\n芳", True, False),
    ("right-to-left override", "\u202e芳王", True, True),
    ("left-to-right override", "王\u202d芳", True, True),
    ("right-to-left embedding", "王\u202b芳", True, True),
    ("pop directional formatting", "王\u202c芳", True, True),
    ("first strong isolate", "王\u2068芳", True, True),
    ("pop directional isolate", "王\u2069芳", True, True),
    ("left-to-right mark", "王\u200e芳", True, True),
    ("right-to-left mark", "王\u200f芳", True, True),
    ("Arabic letter mark", "王\u061c芳", True, True),
    ("zero-width space", "王\u200b芳", True, True),
    ("zero-width non-joiner", "王\u200c芳", True, True),
    ("zero-width joiner", "王\u200d芳", True, True),
    ("byte order mark", "\ufeff王芳", True, True),
    ("soft hyphen", "王\u00ad芳", True, True),
    ("line separator", "王\u2028芳", True, True),
    ("paragraph separator", "王\u2029芳", True, True),
    ("lone surrogate", "王\ud800芳", True, True),
]


@pytest.mark.parametrize(("text", "in_line", "in_text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_which_characters_are_refused(text, in_line, in_text):
    assert text_rules.has_invisible(text) is in_line
    assert text_rules.has_invisible(text, multiline=True) is in_text


def test_every_character_of_a_refused_category_is_refused_and_no_other():
    """Over the whole of Unicode: the check that passes printable text at once answers as the
    rule by category does, unprintable characters that are allowed (spaces, private use) included."""
    refused = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    wrong = [
        hex(code)
        for code in range(0x110000)
        if text_rules.has_invisible(f"王{chr(code)}芳") is not (unicodedata.category(chr(code)) in refused)
    ]
    assert wrong == []


@pytest.mark.parametrize(("text", "in_line", "in_text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hand_checks_refuse_with_a_422_naming_the_field_without_the_value(text, in_line, in_text):
    for check, refused in ((text_rules.check_line, in_line), (text_rules.check_text, in_text)):
        if not refused:
            assert check(text, "姓名", field="name") == text
            continue
        with pytest.raises(ValidationFailed) as caught:
            check(text, "姓名", field="name")
        assert (caught.value.status, caught.value.field) == (422, "name")
        assert caught.value.message == "姓名含有不可见的控制字符"


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    name: Annotated[str, Visible("姓名")] = Field(min_length=1, max_length=20)
    employer: Annotated[str | None, Visible("工作单位")] = None
    tags: list[Annotated[str, Visible("标签")]] = Field(default_factory=list)
    values: dict[str, Annotated[str, Visible("变量的值")]] = Field(default_factory=dict)
    remark: Annotated[str, Visible("备注", multiline=True)] = ""


@pytest.mark.parametrize(
    ("fields", "location", "message"),
    [
        ({"name": "\u202e芳王"}, ("name",), "姓名含有不可见的控制字符"),
        ({"employer": "威海\x00"}, ("employer",), "工作单位含有不可见的控制字符"),
        ({"tags": ["ok", "\u200b"]}, ("tags", 1), "标签含有不可见的控制字符"),
        ({"values": {"unit": "社保\x1b"}}, ("values", "unit"), "变量的值含有不可见的控制字符"),
        ({"remark": "第一行\n\u2067第二行"}, ("remark",), "备注含有不可见的控制字符"),
    ],
)
def test_the_field_type_refuses_with_a_chinese_message_naming_the_field(fields, location, message):
    with pytest.raises(ValidationError) as caught:
        Form(**{"name": NAME, **fields})

    [error] = caught.value.errors(include_input=False)
    assert (error["type"], error["loc"], error["msg"]) == (text_rules.ERROR_TYPE, location, message)
    assert "input" not in error


def test_the_field_type_keeps_what_is_clean_and_lets_newlines_into_free_text():
    form = Form(name=" 王芳 ", employer=None, tags=["养老"], values={"unit": "文登社保"}, remark="第一行\r\n第二行")

    assert (form.name, form.employer, form.remark) == (NAME, None, "第一行\r\n第二行")
    assert Form.model_json_schema()["properties"]["name"] == {"maxLength": 20, "minLength": 1, "title": "Name",
                                                               "type": "string"}  # fmt: skip


def _contact(**changes):
    record = {"kind": "person", "id": "11010519491231002X", "name": NAME, "district": "wendeng",
              "phones": [{"number": "13800001111", "source": "service_hall"}]}  # fmt: skip
    return {**record, **changes}


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (_contact(name="\u202e芳王"), "name", "名称含有不可见的控制字符"),
        (_contact(name="王\u200b芳"), "name", "名称含有不可见的控制字符"),
        (_contact(employer="威海\x07公司"), "employer", "工作单位含有不可见的控制字符"),
        (_contact(tags=["退休\x1b"]), "tags.0", "标签含有不可见的控制字符"),
        (_contact(id="110105\u200e19491231002X"), "id", "证件号码含有不可见的控制字符"),
        (
            _contact(phones=[{"number": "13800001111", "source": "kiosk", "contact_name": "李\u202e四"}]),
            "phones.0.contact_name",
            "联系人含有不可见的控制字符",
        ),
        (_contact(phones=[{"number": "138\x1f0000\x1e1111", "source": "kiosk"}]), "phones.0.number", None),
    ],
)
def test_a_contact_record_with_an_invisible_character_is_refused_field_by_field(raw, field, message):
    from sms_platform.contacts import collection

    record, errors = collection.validate(raw)

    assert record is None
    assert [error["field"] for error in errors] == [field]
    if message:
        assert errors[0]["message"] == message
    assert "\x1f" not in str(errors) and "\u202e" not in str(errors)


@pytest.mark.parametrize(
    "raw",
    ["138\x1f0000\x1e1111", "1380000\u200b1111", "\u202d13800001111", "13800001111\n", "0631\t5201234"],
    ids=["unit separators", "zero-width space", "override", "final newline", "tab"],
)
def test_numbers_with_invisible_characters_are_no_numbers(raw):
    from sms_platform.foundation import identifiers

    assert not identifiers.is_mobile(raw)
    assert not identifiers.is_landline(raw)


def test_identifiers_with_invisible_characters_are_refused():
    from sms_platform.foundation import identifiers

    person, unit = "11010519491231002X", "91350100M000100Y43"
    assert identifiers.is_id_number(person) and identifiers.is_credit_code(unit)
    assert not identifiers.is_id_number(f"\u200b{person}")
    assert not identifiers.is_id_number(f"{person[:6]}\x1f{person[6:]}")
    assert not identifiers.is_credit_code(f"{unit}\x00")


def test_spaces_dashes_and_brackets_stay_separators_in_numbers():
    from sms_platform.foundation import identifiers

    assert identifiers.normalize_mobile("+86 138-0000\u30001111") == "13800001111"
    assert identifiers.is_landline("(0631) 520-1234")


def _hangup(**changes) -> bytes:
    import json

    body = {"call_id": "call-0001", "caller": "13800001111", "agent_id": "agent-7",
            "ended_at": "2025-03-03T10:00:00+08:00", "faq_ids": []}  # fmt: skip
    return json.dumps({**body, **changes}).encode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"caller": "\x1c\x1d\x1e\x1f\x0b\x0c"}, "caller", "主叫号码含有不可见的控制字符"),
        ({"caller": "138\x1f0000\x1e1111"}, "caller", "主叫号码含有不可见的控制字符"),
        ({"caller": "\u202e1111000083 1"}, "caller", "主叫号码含有不可见的控制字符"),
        ({"call_id": "call-0001\n"}, "call_id", "必填，1-128 个可见 ASCII 字符"),
        ({"agent_id": "agent-7\n"}, "agent_id", "必填，1-64 个可见 ASCII 字符"),
        ({"agent_id": "agent\u200b7"}, "agent_id", "必填，1-64 个可见 ASCII 字符"),
        ({"faq_ids": ["faq-1\n"]}, "faq_ids", "应为问题编号的列表"),
    ],
)
def test_a_hang_up_with_invisible_characters_is_refused(changes, field, message):
    from sms_platform.sources import hotline

    with pytest.raises(ValidationFailed) as caught:
        hotline.parse_hangup(_hangup(**changes))

    assert (caught.value.status, caught.value.field) == (422, field)
    assert caught.value.details == [{"field": field, "message": message}]


@pytest.mark.parametrize(
    ("build", "location"),
    [
        (lambda m: m.Subscriber(kind="person", id="11010519491231002X", name="\u202e芳王"), ("name",)),
        (lambda m: m.Subscriber(kind="person", id="\u200b11010519491231002X", name=NAME), ("id",)),
        (
            lambda m: m.PaymentNotice(
                transaction_id="tx\x00", order_id="o-1", amount_fen=1, paid_at="2025-03-03T10:00:00+08:00"
            ),
            ("transaction_id",),
        ),  # fmt: skip
    ],
    ids=["subscriber name", "subscriber id", "payment transaction id"],
)
def test_subscription_requests_refuse_invisible_characters(build, location):
    from sms_platform.sources import subscriptions

    with pytest.raises(ValidationError) as caught:
        build(subscriptions)

    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [(text_rules.ERROR_TYPE, location)]


def test_template_and_rule_drafts_refuse_direction_characters_but_keep_newlines_in_text():
    from sms_platform.templates.models import TemplateContent

    content = {"name": "缴费提醒", "text": "第一行\n第二行", "valid_from": date(2025, 1, 1),
               "valid_until": date(2025, 12, 31), "remark": "社保业务短信"}  # fmt: skip
    assert TemplateContent(**content).text == "第一行\n第二行"
    for field, value in (("name", "缴费\u202e提醒"), ("text", "请于\u2066月底\u2069前缴费"), ("remark", "社保\x07")):
        with pytest.raises(ValidationError) as caught:
            TemplateContent(**{**content, field: value})
        assert [e["loc"] for e in caught.value.errors()] == [(field,)]
