"""The API's validation errors in Chinese: a message for every pydantic error type the request
models can raise (found by walking their schemas, so a new kind of check without words fails
here), each naming the field by its label and by its path as the request wrote it."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from sms_platform.foundation import http, validation_messages
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import MESSAGES, Node, describe, message

# --- Every error type the request models can raise --------------------------------------------

_CONSTRAINTS = {
    "gt": "greater_than",
    "ge": "greater_than_equal",
    "lt": "less_than",
    "le": "less_than_equal",
    "multiple_of": "multiple_of",
    "pattern": "string_pattern_mismatch",
    "max_digits": "decimal_max_digits",
    "decimal_places": "decimal_max_places",
}
_SCALARS = {
    "str": {"string_type"},
    "bool": {"bool_type", "bool_parsing"},
    "int": {"int_type", "int_parsing", "int_from_float", "int_parsing_size"},
    "float": {"float_type", "float_parsing", "finite_number"},
    "decimal": {"decimal_type", "decimal_parsing"},
    "date": {"date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"},
    "datetime": {"datetime_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_object_invalid"},
    "time": {"time_type", "time_parsing"},
    "literal": {"literal_error"},
    "enum": {"enum"},
    "uuid": {"uuid_type", "uuid_parsing"},
    "list": {"list_type"},
    "tuple": {"tuple_type"},
    "set": {"set_type", "set_item_not_hashable"},
    "frozenset": {"frozen_set_type", "set_item_not_hashable"},
    "dict": {"dict_type"},
    "model": {"model_type", "model_attributes_type"},
    "tagged-union": {"union_tag_invalid", "union_tag_not_found"},
    "function-after": {"value_error", "assertion_error"},
    "function-before": {"value_error", "assertion_error"},
    "function-wrap": {"value_error", "assertion_error"},
    "function-plain": {"value_error", "assertion_error"},
}
_CHILDREN = ("schema", "items_schema", "keys_schema", "values_schema", "lax_schema", "strict_schema",
             "json_schema", "python_schema")  # fmt: skip
_WITHOUT_ERRORS = {
    "any", "none", "nullable", "default", "definitions", "definition-ref", "union", "chain",
    "lax-or-strict", "json-or-python", "model-fields", "model-field", "typed-dict", "typed-dict-field",
}  # fmt: skip


def _own_types(schema: dict[str, Any]) -> set[str]:
    kind = schema["type"]
    assert kind in _SCALARS or kind in _WITHOUT_ERRORS, f"a core schema of kind {kind!r}: add its error types here"
    found = set(_SCALARS.get(kind, ()))
    found |= {name for key, name in _CONSTRAINTS.items() if schema.get(key) is not None}
    if schema.get("min_length") is not None:
        found.add("string_too_short" if kind == "str" else "too_short")
    if schema.get("max_length") is not None:
        found.add("string_too_long" if kind == "str" else "too_long")
    if kind == "datetime" and schema.get("tz_constraint") is not None:
        found |= {"timezone_aware", "timezone_naive"}
    if kind == "model-fields":
        if schema.get("extra_behavior") == "forbid":
            found.add("extra_forbidden")
        if any(field["schema"]["type"] != "default" for field in schema["fields"].values()):
            found.add("missing")
    if kind == "model" and (schema.get("config") or {}).get("extra_fields_behavior") == "forbid":
        found.add("extra_forbidden")
    return found


def _children(schema: dict[str, Any]) -> list[dict[str, Any]]:
    children = [schema[key] for key in _CHILDREN if isinstance(schema.get(key), dict)]
    children += list(schema.get("definitions", ()))
    children += list(schema.get("steps", ()))
    choices = schema.get("choices", ())
    children += [
        c[0] if isinstance(c, tuple) else c for c in (choices.values() if isinstance(choices, dict) else choices)
    ]
    children += list(schema.get("fields", {}).values())
    return children


def error_types(schema: dict[str, Any]) -> set[str]:
    """Every error type validating against this core schema can raise."""
    found: set[str] = set()
    pending, seen = [schema], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.get("type") in ("model-field", "typed-dict-field"):
            pending.append(current["schema"])
            continue
        found |= _own_types(current)
        pending.extend(_children(current))
    return found


def _request_types() -> list[tuple[str, Any]]:
    """(where, a TypeAdapter-able type) of every request body and parameter the API reads."""
    import app
    from sms_platform.contracts.operations import OPERATIONS

    found = []
    resolver = app.full_app()
    for route in resolver._static_routes + resolver._dynamic_routes:
        dependant = route.dependant
        for param in [*dependant.body_params, *dependant.query_params, *dependant.path_params]:
            found.append(
                (f"{route.method} {route.path} {param.name}", Annotated[param.field_info.annotation, param.field_info])
            )
    for operation in OPERATIONS:
        if operation.request is not None:
            body = list[operation.request] if operation.request_is_list else operation.request
            found.append((f"{operation.method} {operation.path}", body))
    return found


def test_every_error_type_the_request_models_can_raise_has_chinese_words():
    raised: dict[str, str] = {}
    for where, annotation in _request_types():
        for kind in error_types(TypeAdapter(annotation).core_schema):
            raised.setdefault(kind, where)
    raised.update({"missing": "a body left out", "json_invalid": "a body that is not JSON"})
    assert len(raised) > 20
    untranslated = {kind: where for kind, where in raised.items() if kind not in MESSAGES}
    assert untranslated == {}


# The carriers' pushes are read by no person: their fields keep the carriers' own names.
_MACHINE_READ = {"CarrierReceipt", "CarrierReply", "TencentReceipt", "TencentReply"}


def _model_fields(annotation: Any, seen: set[type]) -> list[tuple[str, Node]]:
    """(model.field, node) of every field of the models reachable from ``annotation``."""
    import typing

    stripped = validation_messages._strip(annotation)[0]
    if isinstance(stripped, type) and issubclass(stripped, BaseModel):
        if stripped in seen or stripped.__name__ in _MACHINE_READ:
            return []
        seen.add(stripped)
        found = []
        for name, info in stripped.model_fields.items():
            found.append((f"{stripped.__name__}.{name}", Node(info.annotation, info, name)))
            found += _model_fields(info.annotation, seen)
        return found
    return [item for arg in typing.get_args(stripped) for item in _model_fields(arg, seen)]


def test_every_field_of_a_request_body_has_a_chinese_label():
    seen: set[type] = set()
    fields = [item for _, annotation in _request_types() for item in _model_fields(annotation, seen)]
    assert len(fields) > 100
    unlabelled = [
        where for where, node in fields if validation_messages.label_of(node) == validation_messages.FALLBACK_LABEL
    ]
    assert unlabelled == []


def test_every_query_and_path_parameter_has_a_chinese_label():
    import app

    resolver = app.full_app()
    unlabelled = [
        f"{route.method} {route.path} {param.name}"
        for route in resolver._static_routes + resolver._dynamic_routes
        for param in [*route.dependant.query_params, *route.dependant.path_params]
        if validation_messages.label_of(Node(param.field_info.annotation, param.field_info, param.name))
        == validation_messages.FALLBACK_LABEL
    ]
    assert unlabelled == []


def test_the_walk_finds_the_types_of_a_known_model():
    class Probe(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(min_length=2, max_length=10, pattern=r"^\w+$")
        items: list[int] = Field(min_length=1)
        on: date | None = None
        kind: Literal["a", "b"] = "a"

    assert error_types(TypeAdapter(Probe).core_schema) >= {
        "string_too_short", "string_too_long", "string_pattern_mismatch", "too_short", "int_parsing",
        "date_from_datetime_parsing", "literal_error", "extra_forbidden", "missing", "model_type",
    }  # fmt: skip


# --- The words --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_type", "label", "ctx", "empty", "expected"),
    [
        ("missing", "暂停原因", {}, False, "暂停原因不能为空"),
        ("string_too_short", "暂停原因", {"min_length": 2}, True, "暂停原因不能为空"),
        ("string_too_short", "用户名", {"min_length": 3}, False, "用户名至少 3 个字"),
        ("string_too_short", "姓名", {"min_length": 1}, False, "姓名不能为空"),
        ("string_too_long", "原因", {"max_length": 200}, False, "原因最多 200 个字"),
        ("too_short", "问答条目", {"min_length": 1, "actual_length": 0}, False, "至少选择一个问答条目"),
        ("too_short", "角色", {"min_length": 2, "actual_length": 1}, False, "角色至少 2 项"),
        ("too_long", "问答条目", {"max_length": 3}, False, "问答条目最多 3 项"),
        ("string_pattern_mismatch", "用户名", {"pattern": "^[a-z]+$"}, False, "用户名格式不正确"),
        ("string_type", "变量取值", {}, False, "变量取值须为文字"),
        ("int_parsing", "条数", {}, False, "条数须为整数"),
        ("int_type", "条数", {}, False, "条数须为整数"),
        ("int_from_float", "条数", {}, False, "条数须为整数"),
        ("int_parsing_size", "条数", {}, False, "条数的数值过大"),
        ("float_parsing", "金额", {}, False, "金额须为数字"),
        ("finite_number", "金额", {}, False, "金额须为有限的数字"),
        ("greater_than", "金额", {"gt": 0}, False, "金额须大于 0"),
        ("greater_than_equal", "版本号", {"ge": 1}, False, "版本号不能小于 1"),
        ("less_than", "天数", {"lt": 31}, False, "天数须小于 31"),
        ("less_than_equal", "每页条数", {"le": 100}, False, "每页条数不能大于 100"),
        ("multiple_of", "金额", {"multiple_of": 100}, False, "金额须为 100 的倍数"),
        ("bool_parsing", "是否核验", {}, False, "是否核验须为“是”或“否”（true 或 false）"),
        (
            "date_from_datetime_parsing",
            "开始日期",
            {"error": "input is too short"},
            False,
            "开始日期须为日期，格式为 YYYY-MM-DD",
        ),
        ("date_parsing", "开始日期", {}, False, "开始日期须为日期，格式为 YYYY-MM-DD"),
        ("datetime_parsing", "发送时间", {}, False, "发送时间须为日期时间，格式如 2026-01-01T09:00:00+08:00"),
        ("datetime_from_date_parsing", "发送时间", {}, False, "发送时间须为日期时间，格式如 2026-01-01T09:00:00+08:00"),
        ("timezone_aware", "发送时间", {}, False, "发送时间须带时区，如 +08:00"),
        (
            "enum",
            "单位",
            {"expected": "'city', 'huancui' or 'it'"},
            False,
            "单位不是可选的值（可选：city、huancui、it）",
        ),
        ("literal_error", "类型", {"expected": "'person' or 'unit'"}, False, "类型不是可选的值（可选：person、unit）"),
        ("union_tag_invalid", "发送对象", {"tag": "x", "discriminator": "'kind'"}, False, "发送对象的类型不是可选的值"),
        ("union_tag_not_found", "发送对象", {"discriminator": "'kind'"}, False, "发送对象须注明类型（'kind'）"),
        ("model_type", "发送对象", {"class_name": "Audience"}, False, "发送对象须为对象（键值对）"),
        ("dict_type", "变量取值", {}, False, "变量取值须为对象（键值对）"),
        ("list_type", "区县", {}, False, "区县须为列表"),
        ("extra_forbidden", "此项", {"name": "colour"}, False, "不接受字段“colour”"),
        (
            "value_error",
            "截止日期",
            {"error": ValueError("截止日期不能早于开始日期")},
            False,
            "截止日期不能早于开始日期",
        ),
        ("value_error", "截止日期", {"error": ValueError("bad thing")}, False, "截止日期的值无效"),
        ("value_error", "模板名称", {"error": ValueError("不能为空")}, False, "模板名称不能为空"),
        ("value_error", "此项", {"error": ValueError("不能为空")}, False, "不能为空"),
        ("assertion_error", "截止日期", {"error": AssertionError("")}, False, "截止日期的值无效"),
        ("uuid_parsing", "编号", {}, False, "编号格式不正确"),
        ("json_invalid", "此项", {"error": "Expecting value"}, False, "请求内容不是有效的 JSON"),
        ("something_new", "备注", {}, False, "备注不符合要求"),
    ],
)
def test_messages(error_type, label, ctx, empty, expected):
    assert message(error_type, label, ctx, empty=empty) == expected


# --- Labels and paths -------------------------------------------------------------------------


class Kind(StrEnum):
    person = "person"
    unit = "unit"


class Segment(BaseModel):
    kind: Literal["segment"]
    districts: list[str] = Field(min_length=1, title="区县")


class Sheet(BaseModel):
    kind: Literal["sheet"]
    sheet_id: str = Field(min_length=1, title="名单")


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Visible("暂停原因")] = Field(min_length=2)
    faq_ids: list[str] = Field(min_length=1, max_length=3, title="问答条目")
    values: dict[str, str] = Field(default_factory=dict, title="变量取值")
    audience: Annotated[Segment | Sheet, Field(discriminator="kind", title="发送对象")] | None = None
    either: Segment | Sheet | None = Field(default=None, title="其一")
    note: str | None = Field(default=None, max_length=5, description="备注（可选），将告知申请人")
    remark: str | None = Field(
        default=None, max_length=5, description="一段很长很长的说明文字不适合作为字段的名称来显示"
    )
    until: date | None = Field(default=None, title="截止日期")
    who: Kind | None = None

    @field_validator("until")
    @classmethod
    def _not_past(cls, value: date | None) -> date | None:
        if value is not None and value.year < 2000:
            raise ValueError("截止日期不能早于 2000 年")
        return value


def _described(body: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(ValidationError) as caught:
        Request.model_validate(body)
    return describe(caught.value.errors(include_input=False), Node(Request))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"faq_ids": ["a"]}, [("reason", "暂停原因不能为空")]),
        ({"reason": "a", "faq_ids": ["a"]}, [("reason", "暂停原因至少 2 个字")]),
        ({"reason": "停用", "faq_ids": []}, [("faq_ids", "至少选择一个问答条目")]),
        ({"reason": "停用", "faq_ids": ["a", 7]}, [("faq_ids.1", "问答条目须为文字")]),
        ({"reason": "停用", "faq_ids": ["a"], "values": {"date": 20261231}}, [("values.date", "变量取值须为文字")]),
        (
            {"reason": "停用", "faq_ids": ["a"], "audience": {"kind": "segment", "districts": []}},
            [("audience.districts", "至少选择一个区县")],
        ),
        (
            {"reason": "停用", "faq_ids": ["a"], "audience": {"kind": "moon"}},
            [("audience", "发送对象的类型不是可选的值")],
        ),
        (
            {"reason": "停用", "faq_ids": ["a"], "either": {"kind": "sheet", "sheet_id": ""}},
            # a plain union: each arm's errors, at the request's own paths (no arm names in them)
            [
                ("either.kind", "对象类型不是可选的值（可选：segment）"),  # a name many requests share
                ("either.districts", "区县不能为空"),
                ("either.sheet_id", "名单不能为空"),
            ],
        ),
        ({"reason": "停用", "faq_ids": ["a"], "note": "太长太长太长"}, [("note", "备注最多 5 个字")]),
        ({"reason": "停用", "faq_ids": ["a"], "remark": "太长太长太长"}, [("remark", "此项最多 5 个字")]),
        ({"reason": "停用", "faq_ids": ["a"], "until": "1999-01-01"}, [("until", "截止日期不能早于 2000 年")]),
        (
            {"reason": "停用", "faq_ids": ["a"], "until": "2026-12-31T08:00:00"},
            [("until", "截止日期须为日期，格式为 YYYY-MM-DD")],
        ),
        ({"reason": "停用", "faq_ids": ["a"], "who": "dog"}, [("who", "此项不是可选的值（可选：person、unit）")]),
        ({"reason": "停\u202e用", "faq_ids": ["a"]}, [("reason", "暂停原因含有不可见的控制字符")]),
        ({"reason": "停用", "faq_ids": ["a"], "colour": "red"}, [("colour", "不接受字段“colour”")]),
    ],
)
def test_each_error_names_its_field_by_label_and_request_path(body, expected):
    assert [(d["field"], d["message"]) for d in _described(body)] == expected


def test_an_empty_text_reads_as_missing_when_the_input_is_known():
    # powertools keeps the input: it is read only to tell empty from short, never repeated
    errors = [{"type": "string_too_short", "loc": ("body", "reason"), "msg": "", "input": "", "ctx": {"min_length": 2}}]
    roots = {"body": Node(Request)}
    assert describe(errors, roots) == [{"field": "reason", "message": "暂停原因不能为空"}]


def test_no_value_is_ever_repeated():
    secret = "370102199001011234"
    with pytest.raises(ValidationError) as caught:
        Request.model_validate({"reason": secret, "faq_ids": [secret] * 4, "who": secret, "until": secret})
    described = describe(caught.value.errors(), Node(Request))
    assert described and all(secret not in d["message"] for d in described)


def test_the_refusal_leads_with_the_first_message_its_path_and_counts_the_rest():
    with pytest.raises(ValidationError) as caught:
        Request.model_validate({"reason": "", "faq_ids": []})
    refusal = http.validation_failed_from(caught.value.errors(), Request)
    assert refusal.status == 422 and refusal.field == "reason"
    assert refusal.message == "暂停原因不能为空（字段 reason；共 2 处需要修改）"
    assert refusal.details == [
        {"field": "reason", "message": "暂停原因不能为空"},
        {"field": "faq_ids", "message": "至少选择一个问答条目"},
    ]


def test_without_a_model_the_label_falls_back():
    errors = [{"type": "missing", "loc": ("subscriber", "id"), "msg": "Field required"}]
    assert describe(errors) == [{"field": "subscriber.id", "message": f"{validation_messages.FALLBACK_LABEL}不能为空"}]


def test_labels_are_declared_once_per_model():
    class Suspension(BaseModel):
        model_config = ConfigDict(
            field_title_generator=validation_messages.labels({"reason": "暂停原因", "days": "天数"})
        )
        reason: str = Field(min_length=2)
        days: int = Field(ge=1)
        real_name: str = ""

    with pytest.raises(ValidationError) as caught:
        Suspension.model_validate({"reason": "", "days": 0, "real_name": 5})
    assert describe(caught.value.errors(), Node(Suspension)) == [
        {"field": "reason", "message": "暂停原因不能为空"},
        {"field": "days", "message": "天数不能小于 1"},
        {"field": "real_name", "message": "此项须为文字"},  # pydantic's own title ("Real Name") is no label
    ]
    assert TypeAdapter(Suspension).json_schema()["properties"]["reason"]["title"] == "暂停原因"
