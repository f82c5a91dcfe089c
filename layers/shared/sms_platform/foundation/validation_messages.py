"""pydantic's validation errors in Chinese, each naming its field by its label and by its path
as the request wrote it.

Staff read these beside the field of a portal form, and integrators read the same answer, so
the message names the field as people know it ("暂停原因不能为空", "至少选择一个问答条目")
and ``field`` is the request's own path (``values.date``, ``audience.districts.0``), without
the member names pydantic adds inside unions.

A field's label is, in order: its title (declared once per model with ``labels``, or by
``Field(title=...)``), the label of its ``Visible(...)`` marker, the first clause of its
description when that is short, the label of a name many requests share (``COMMON_LABELS``),
else "此项". Values are never repeated (one could be a phone or ID number): an error's input is
read only to tell an empty text from a short one.

Only the standard library is imported at module level (the hang-up webhook loads this module
on its cold start); pydantic is read from the types handed in.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FALLBACK_LABEL = "此项"
_CJK = re.compile(r"[\u3400-\u9fff]")
_CLAUSE_END = re.compile(r"[，。；：（(,;:]")
_SHORT_DESCRIPTION = 12  # characters: longer descriptions are sentences, not names
_NOT_REQUEST_PARTS = ("body", "query", "path", "header", "cookie")


def _choices(ctx: Mapping[str, Any], key: str = "expected") -> str:
    """pydantic's "'a', 'b' or 'c'" as "a、b、c"."""
    expected = str(ctx.get(key, ""))
    return "、".join(part.strip(" '\"") for part in re.split(r",| or ", expected) if part.strip(" '\""))


def _too_short_text(label: str, ctx: Mapping[str, Any], empty: bool) -> str:
    if empty or ctx.get("min_length") == 1:
        return f"{label}不能为空"
    return f"{label}至少 {ctx.get('min_length')} 个字"


def _too_few_items(label: str, ctx: Mapping[str, Any], _: bool) -> str:
    if ctx.get("min_length") == 1:
        return f"至少选择一个{label}"
    return f"{label}至少 {ctx.get('min_length')} 项"


_PREDICATES = ("不能", "不得", "须", "必须", "应", "只能", "至少", "最多")


def _own_words(label: str, ctx: Mapping[str, Any], _: bool) -> str:
    """A validator's own reason (the platform's validators raise theirs in Chinese), with the
    field's label before a reason that does not name it ("不能为空": "模板名称不能为空")."""
    reason = str(ctx.get("error", ""))
    if not _CJK.search(reason):
        return f"{label}的值无效"
    if label != FALLBACK_LABEL and reason.startswith(_PREDICATES):
        return f"{label}{reason}"
    return reason


def _fixed(text: str) -> Callable[[str, Mapping[str, Any], bool], str]:
    return lambda label, ctx, _: text.format(label=label, **{k: v for k, v in ctx.items() if k != "label"})


def _one_of(label: str, ctx: Mapping[str, Any], _: bool) -> str:
    choices = _choices(ctx)
    return f"{label}不是可选的值（可选：{choices}）" if choices else f"{label}不是可选的值"


_DATE = "{label}须为日期，格式为 YYYY-MM-DD"
_DATETIME = "{label}须为日期时间，格式如 2026-01-01T09:00:00+08:00"
_INTEGER = "{label}须为整数"
_NUMBER = "{label}须为数字"
_BOOLEAN = "{label}须为“是”或“否”（true 或 false）"
_OBJECT = "{label}须为对象（键值对）"
_LIST = "{label}须为列表"

# Every pydantic error type the platform's request models can raise (the unit test walks the
# models' schemas and fails on one missing here), in the words staff read.
MESSAGES: dict[str, Callable[[str, Mapping[str, Any], bool], str]] = {
    "missing": _fixed("{label}不能为空"),
    "string_type": _fixed("{label}须为文字"),
    "string_too_short": _too_short_text,
    "string_too_long": _fixed("{label}最多 {max_length} 个字"),
    "string_pattern_mismatch": _fixed("{label}格式不正确"),
    "string_unicode": _fixed("{label}须为有效的文字"),
    "too_short": _too_few_items,
    "too_long": _fixed("{label}最多 {max_length} 项"),
    "int_type": _fixed(_INTEGER),
    "int_parsing": _fixed(_INTEGER),
    "int_from_float": _fixed(_INTEGER),
    "int_parsing_size": _fixed("{label}的数值过大"),
    "float_type": _fixed(_NUMBER),
    "float_parsing": _fixed(_NUMBER),
    "finite_number": _fixed("{label}须为有限的数字"),
    "decimal_type": _fixed(_NUMBER),
    "decimal_parsing": _fixed(_NUMBER),
    "decimal_max_digits": _fixed("{label}最多 {max_digits} 位数字"),
    "decimal_max_places": _fixed("{label}最多 {decimal_places} 位小数"),
    "decimal_whole_digits": _fixed("{label}整数部分最多 {whole_digits} 位"),
    "greater_than": _fixed("{label}须大于 {gt}"),
    "greater_than_equal": _fixed("{label}不能小于 {ge}"),
    "less_than": _fixed("{label}须小于 {lt}"),
    "less_than_equal": _fixed("{label}不能大于 {le}"),
    "multiple_of": _fixed("{label}须为 {multiple_of} 的倍数"),
    "bool_type": _fixed(_BOOLEAN),
    "bool_parsing": _fixed(_BOOLEAN),
    "date_type": _fixed(_DATE),
    "date_parsing": _fixed(_DATE),
    "date_from_datetime_parsing": _fixed(_DATE),
    "date_from_datetime_inexact": _fixed(_DATE),
    "date_past": _fixed("{label}须为过去的日期"),
    "date_future": _fixed("{label}须为将来的日期"),
    "datetime_type": _fixed(_DATETIME),
    "datetime_parsing": _fixed(_DATETIME),
    "datetime_from_date_parsing": _fixed(_DATETIME),
    "datetime_object_invalid": _fixed(_DATETIME),
    "timezone_aware": _fixed("{label}须带时区，如 +08:00"),
    "timezone_naive": _fixed("{label}不能带时区"),
    "time_type": _fixed("{label}须为时间，格式为 HH:MM"),
    "time_parsing": _fixed("{label}须为时间，格式为 HH:MM"),
    "enum": _one_of,
    "literal_error": _one_of,
    "union_tag_invalid": _fixed("{label}的类型不是可选的值"),
    "union_tag_not_found": _fixed("{label}须注明类型（{discriminator}）"),
    "model_type": _fixed(_OBJECT),
    "model_attributes_type": _fixed(_OBJECT),
    "dict_type": _fixed(_OBJECT),
    "list_type": _fixed(_LIST),
    "tuple_type": _fixed(_LIST),
    "set_type": _fixed(_LIST),
    "frozen_set_type": _fixed(_LIST),
    "set_item_not_hashable": _fixed("{label}的每一项须为文字或数字"),
    "extra_forbidden": _fixed("不接受字段“{name}”"),
    "value_error": _own_words,
    "assertion_error": _own_words,
    "uuid_type": _fixed("{label}格式不正确"),
    "uuid_parsing": _fixed("{label}格式不正确"),
    "json_invalid": _fixed("请求内容不是有效的 JSON"),
    "unsupported_content_type": _fixed("请求内容须为 JSON"),
}


def message(error_type: str, label: str, ctx: Mapping[str, Any] | None = None, *, empty: bool = False) -> str:
    """The Chinese message of one error of ``error_type`` on the field labelled ``label``."""
    words = MESSAGES.get(error_type)
    return words(label, ctx or {}, empty) if words else f"{label}不符合要求"


# Names many routes' parameters share, for those that declare no label of their own.
COMMON_LABELS = {
    "cursor": "翻页标记",
    "limit": "每页条数",
    "kind": "对象类型",
    "status": "状态",
    "state": "状态",
    "office": "单位",
    "username": "用户名",
    "role": "角色",
    "period": "期间",
    "district": "区县",
    "api_key_id": "API 密钥编号",
    "call_id": "通话编号",
    "carrier": "运营商",
    "event_type": "事件类型",
    "export_id": "导出编号",
    "faq_id": "问答条目编号",
    "import_id": "导入编号",
    "lane": "发送通道",
    "list_id": "名单编号",
    "product_id": "订阅项目编号",
    "ref": "记录编号",
    "request_id": "发送申请编号",
    "rule_id": "触发规则编号",
    "sheet_id": "名单编号",
    "source": "来源",
    "template_id": "模板编号",
}


def labels(names: Mapping[str, str]) -> Callable[[str, Any], str]:
    """A model's field labels, declared in one place and shown in the OpenAPI document too::

        model_config = ConfigDict(field_title_generator=labels({"office": "所属单位", "roles": "角色"}))

    A field not named keeps pydantic's default title, and its label is found as described above.
    """

    def title(name: str, _: Any) -> str:
        return names.get(name) or name.replace("_", " ").title()

    return title


# --- Finding a field's label and path from pydantic's location ------------------------------


@dataclass(frozen=True)
class Node:
    """A type met while following a location: the annotation, and the field it belongs to."""

    annotation: Any
    info: Any = None  # the pydantic FieldInfo of the named field, when the node is one
    name: str = ""


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """``annotation`` without ``Annotated`` and ``None`` arms, and the metadata met on the way."""
    metadata: list[Any] = []
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *extra = typing.get_args(annotation)
            metadata.extend(extra)
            continue
        if typing.get_origin(annotation) in (typing.Union, types.UnionType):
            arms = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
            if len(arms) == 1:
                annotation = arms[0]
                continue
        return annotation, metadata


def _label_in(metadata: Sequence[Any]) -> str | None:
    for item in metadata:
        label = getattr(item, "label", None) or getattr(item, "title", None)
        if isinstance(label, str) and label:
            return label
    return None


def label_of(node: Node) -> str:
    """The Chinese label of a named field (see the module's docstring for the order)."""
    info = node.info
    if info is not None:
        if info.title and _CJK.search(str(info.title)):  # not pydantic's default ("Real Name")
            return str(info.title)
        found = _label_in(info.metadata) or _label_in(_strip(info.annotation)[1])
        if found:
            return found
        description = (info.description or "").strip()
        clause = _CLAUSE_END.split(description, maxsplit=1)[0].strip()
        if clause and len(clause) <= _SHORT_DESCRIPTION and _CJK.search(clause):
            return clause
    return COMMON_LABELS.get(node.name, FALLBACK_LABEL)


def _model_field(model: Any, part: Any) -> Node | None:
    for name, info in getattr(model, "model_fields", {}).items():
        if part in (name, info.alias, info.validation_alias):
            return Node(info.annotation, info, name)
    return None


def _union_member(arms: Sequence[Any], part: Any) -> Any:
    """The arm of a union that pydantic names ``part`` in a location (a model's class name or a
    tagged union's tag), or ``None``."""
    for arm in arms:
        stripped = _strip(arm)[0]
        if getattr(stripped, "__name__", None) == part:
            return arm
        for info in getattr(stripped, "model_fields", {}).values():
            tag = _strip(info.annotation)[0]
            if typing.get_origin(tag) is typing.Literal and part in typing.get_args(tag):
                return arm
    return None


class Fields(dict):  # type: ignore[type-arg]
    """Named parameters that are not one model (a request's query or path parameters): their
    names to their ``Node``."""


def _step(node: Node, part: Any) -> tuple[Node | None, bool]:
    """The node ``part`` leads to from ``node``, and whether ``part`` is a name the request
    itself uses (not a union member's name that pydantic adds)."""
    annotation, _ = _strip(node.annotation)
    if isinstance(annotation, Fields):
        return annotation.get(str(part)), True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        member = _union_member(typing.get_args(annotation), part)
        return (Node(member, node.info, node.name) if member is not None else None), False
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return _model_field(annotation, part), True
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple, set, frozenset):
        items = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        return (Node(items[0], node.info, node.name) if items else None), True
    if origin is dict:
        args = typing.get_args(annotation)
        return (Node(args[1], node.info, node.name) if len(args) == 2 else None), True
    return None, True


def locate(root: Node | None, loc: Sequence[Any]) -> tuple[str, str]:
    """(the field's path as the request names it, its label) for pydantic's ``loc`` below
    ``root``. Parts below a type the walk cannot follow are kept as they are."""
    path: list[str] = []
    named: Node | None = root if root is not None and root.info is not None else None
    node = root
    for part in loc:
        if node is None:
            path.append(str(part))
            continue
        before = node.info
        node, own = _step(node, part)
        if own:
            path.append(str(part))
        if node is not None and node.info is not None and node.info is not before:
            named = node  # a field of its own, not an item or member of the one before
    return ".".join(path), (label_of(named) if named is not None else FALLBACK_LABEL)


def describe(
    errors: Sequence[Mapping[str, Any]], roots: Mapping[str, Node] | Node | None = None
) -> list[dict[str, str]]:
    """pydantic's (or powertools') errors as ``[{"field", "message"}]`` in Chinese.

    ``roots`` is what the locations start from: one model's ``Node`` (``loc`` starts inside
    it), or, for a request, a ``Node`` per first part (``"body"``, ``"query"``...). A
    message pydantic already gives in Chinese (``Visible``'s) is kept as it is."""
    described = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if isinstance(roots, Mapping):
            root = roots.get(loc[0]) if loc else None
            loc = loc[1:] if loc and loc[0] in _NOT_REQUEST_PARTS else loc
        else:
            root = roots
        path, label = locate(root, loc)
        error_type = str(err.get("type", ""))
        ctx = dict(err.get("ctx") or {})
        if error_type == "extra_forbidden":
            ctx["name"] = str(loc[-1]) if loc else ""
        text = str(err.get("msg", ""))
        if error_type not in ("value_error", "assertion_error") and _CJK.search(text):
            words = text  # the platform's own custom error, already in Chinese
        else:
            words = message(error_type, label, ctx, empty=err.get("input") == "")
        described.append({"field": path or "body", "message": words})
    return described


def model_root(model: Any) -> Node:
    """The root ``Node`` of a body validated as ``model`` (any type pydantic accepts)."""
    return Node(model)
