"""Message templates in the carrier's own form, ``${name}``, and their typed variables.

One stored text serves the carrier filing, the preview and the length count. It is rendered by
jinja2's ``SandboxedEnvironment`` with ``${`` and ``}`` as the variable delimiters and
``StrictUndefined``. Statements and comments are switched off (their delimiters are strings a
template may not contain), and a parse check admits bare ``${name}`` placeholders only: no
filters, attributes, subscripts, calls or expressions, and no name jinja answers itself
(``self``, its default globals). The check runs whenever a template is written and again before
it is rendered; rendering sees the environment's emptied globals and only the template's own
values, so a text can read its declared variables and nothing else.

Values are checked the way the carrier checks them, so a refusal comes from the platform, in
Chinese and naming the variable, before anything is sent: the declared type and length, and no
URL in any value (the carrier answers ``isv.PARAM_NOT_SUPPORT_URL``). Messages name the
variable and never repeat the value, which may be a phone or ID number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sms_platform.foundation.errors import ValidationFailed
from sms_platform.foundation.identifiers import is_mobile, normalize_mobile
from sms_platform.foundation.validation_messages import labels

if TYPE_CHECKING:
    from jinja2 import Environment, Template

VariableType = Literal["text", "name", "number", "money", "date", "phone", "code"]

VARIABLE_TYPE_LABELS: dict[str, str] = {
    "text": "文本",
    "name": "姓名",
    "number": "数字",
    "money": "金额",
    "date": "日期",
    "phone": "手机号码",
    "code": "编码",
}

DateFormat = Literal["iso", "chinese"]
# How a date variable of a declared format is written when sent, shown to staff as an example.
DATE_FORMAT_EXAMPLES: dict[str, str] = {"iso": "2026-12-31", "chinese": "2026年12月31日"}
# The most characters a date of each format takes: a declaration leaving less would cut it.
DATE_FORMAT_LENGTHS: dict[str, int] = {"iso": 10, "chinese": 11}

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# Words jinja reads as constants or operators rather than as a variable.
_RESERVED = frozenset(["true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else"])
# Names jinja answers itself rather than from the values given: its default globals (refused
# although the environment's globals are emptied, so no template depends on them), ``self``
# (compiled to a reference to the template whatever the values say) and the names it binds
# inside loops, macros and blocks.
ENGINE_NAMES = frozenset(
    ["range", "dict", "lipsum", "cycler", "joiner", "namespace", "self", "loop", "caller", "varargs", "kwargs", "super"]
)
# Delimiters of statements and comments: they contain a NUL, which no template may contain.
_NEVER = "\x00"


class VariableSpec(BaseModel):
    """A declared template variable: its name, type and the most characters a value may have."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        field_title_generator=labels(
            {"name": "变量名", "type": "变量类型", "max_length": "最多字数", "format": "日期写法"}
        ),
    )

    name: str = Field(pattern=rf"^{_NAME}$", max_length=64)
    type: VariableType
    max_length: int = Field(ge=1, le=500)
    format: DateFormat | None = Field(
        default=None,
        description="日期变量发送时的写法：iso 写作 2026-12-31，chinese 写作 2026年12月31日（填写任一写法均可，"
        "按此写法发送）；不填时两种写法都接受，按填写的原样发送",
    )

    @field_validator("format")
    @classmethod
    def _format_fits(cls, value: DateFormat | None, info: ValidationInfo) -> DateFormat | None:
        if value is None:
            return value
        if info.data.get("type") != "date":
            raise ValueError("只有日期变量可以指定日期写法")
        needed = DATE_FORMAT_LENGTHS[value]
        if info.data.get("max_length", needed) < needed:
            # Refused here rather than when a value is sent: a date written this way would never fit.
            raise ValueError(f"日期写作 {DATE_FORMAT_EXAMPLES[value]} 需要 {needed} 个字，最多字数不能少于 {needed}")
        return value


def as_specs(specs: Iterable[VariableSpec | Mapping[str, Any]]) -> list[VariableSpec]:
    """Declarations as models; stored ones may come back as plain mappings."""
    return [item if isinstance(item, VariableSpec) else VariableSpec.model_validate(item) for item in specs]


def _fail(message: str, field: str, problems: list[dict[str, str]] | None = None) -> ValidationFailed:
    return ValidationFailed(message, field=field, details=problems or [{"field": field, "message": message}])


def _raise_all(problems: list[dict[str, str]]) -> None:
    if problems:
        first = problems[0]
        raise _fail(first["message"], first["field"], problems)


# --- Parsing ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # deferred: jinja2 (~30 ms) stays out of the filing handler's cold import until a text is checked
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        variable_start_string="${",
        variable_end_string="}",
        block_start_string=_NEVER + "{%",
        block_end_string="%}" + _NEVER,
        comment_start_string=_NEVER + "{#",
        comment_end_string="#}" + _NEVER,
        line_statement_prefix=None,
        line_comment_prefix=None,
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        cache_size=0,
    )
    # Nothing but the values given is there to be found: no globals (range, lipsum, cycler,
    # joiner, namespace, dict), no filters and no tests, should a stored text ever name one.
    env.globals.clear()
    env.filters.clear()
    env.tests.clear()
    return env


def _placeholders(text: str) -> list[str]:
    """Each placeholder as written: from ``${`` to the first ``}`` after it (or the end).

    A placeholder in the carrier's form never holds a ``}``, so this cuts every acceptable
    text as jinja's lexer does; anything else is refused, and the whole text is parsed by
    jinja afterwards (``_check_tree``) in any case.
    """
    found = []
    start = text.find("${")
    while start >= 0:
        end = text.find("}", start)
        stop = len(text) if end < 0 else end + 1
        found.append(text[start:stop])
        start = text.find("${", stop)
    return found


def _bare_name(tree: Any) -> str | None:
    """The name when a parsed placeholder is one variable read and nothing else."""
    from jinja2 import nodes  # deferred: see _environment

    body = tree.body
    if len(body) != 1 or not isinstance(body[0], nodes.Output) or len(body[0].nodes) != 1:
        return None
    node = body[0].nodes[0]
    return node.name if isinstance(node, nodes.Name) and node.ctx == "load" else None


def _placeholder_problem(source: str) -> str | None:
    """Why one placeholder is refused (``None`` when it is a bare declared-to-be name)."""
    from jinja2.exceptions import TemplateSyntaxError  # deferred: see _environment

    if not source.endswith("}"):
        return f"模板变量 {source} 缺少结尾的“}}”，只能写成 ${{变量名}}"
    if source[2:-1] in _RESERVED:
        return f"模板变量 {source} 是保留字，请换一个变量名"
    try:
        name = _bare_name(_environment().parse(source))
    except TemplateSyntaxError:
        return f"模板变量写法不正确：{source}，只能写成 ${{变量名}}，变量名由字母、数字和下划线组成且不以数字开头"
    # Brackets and jinja's whitespace marks (``${-a}``) leave a bare name in the tree: the
    # written form must be that name, give or take spaces.
    if name is None or "".join(source.split()) != f"${{{name}}}":
        return f"模板变量只能是简单的变量名，不能包含属性、下标、调用或运算：{source}"
    if name in ENGINE_NAMES:
        return f"模板变量 {source} 不是已声明的变量：{name} 是模板引擎的保留名称，请换一个变量名"
    if source != f"${{{name}}}":
        return f"模板变量 {source} 不能带空格，请写成 ${{{name}}}"
    if not (name.isascii() and name.isidentifier()):
        return f"模板变量写法不正确：{source}，变量名只能由字母、数字和下划线组成且不以数字开头"
    return None


def _check_placeholders(text: str) -> tuple[str, ...]:
    if not isinstance(text, str) or not text.strip():
        raise _fail("模板内容不能为空", "content")
    if _NEVER in text:
        raise _fail("模板内容含有不可见的控制字符", "content")
    names: list[str] = []
    problems: list[dict[str, str]] = []
    for source in _placeholders(text):
        problem = _placeholder_problem(source)
        if problem:
            problems.append({"field": "content", "message": problem})
        elif source[2:-1] not in names:
            names.append(source[2:-1])
    _raise_all(problems)
    return tuple(names)


def _check_tree(text: str) -> None:
    """Second line of defence: the text as jinja parses it holds only text and reads of names
    that jinja does not answer itself."""
    # deferred: see _environment
    from jinja2 import nodes
    from jinja2.exceptions import TemplateSyntaxError

    try:
        tree = _environment().parse(text)
    except TemplateSyntaxError:
        raise _fail("模板变量写法不正确：只能写成 ${变量名}", "content") from None
    allowed = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name)
    pending: list[Any] = [tree]
    while pending:
        node = pending.pop()
        if not isinstance(node, allowed):
            raise _fail("模板变量只能是简单的变量名，不能包含属性、下标、调用或运算", "content")
        if isinstance(node, nodes.Name) and (node.ctx != "load" or node.name in ENGINE_NAMES):
            raise _fail(f"模板变量 ${{{node.name}}} 不是已声明的变量", "content")
        pending.extend(node.iter_child_nodes())


@lru_cache(maxsize=1024)
def _parsed(text: str) -> tuple[str, ...]:
    names = _check_placeholders(text)
    _check_tree(text)
    return names


@lru_cache(maxsize=1024)
def _compiled(text: str) -> Template:
    _parsed(text)
    return _environment().from_string(text)


def parse_template(text: str) -> list[str]:
    """The variable names of a template, in order of first use; ``ValidationFailed`` if the
    text has anything but plain text and ``${name}`` placeholders."""
    return list(_parsed(text))


def check_declarations(text: str, specs: Iterable[VariableSpec | Mapping[str, Any]]) -> None:
    """Every placeholder is declared once, and every declaration is used."""
    names = _parsed(text)
    specs = as_specs(specs)
    problems: list[dict[str, str]] = []
    declared: list[str] = []
    for spec in specs:
        if spec.name in declared:
            problems.append({"field": spec.name, "message": f"变量 ${{{spec.name}}} 重复声明"})
        declared.append(spec.name)
    for name in names:
        if name not in declared:
            problems.append({"field": name, "message": f"模板中的变量 ${{{name}}} 未声明类型和长度"})
    for name in declared:
        if name not in names:
            problems.append({"field": name, "message": f"声明的变量 ${{{name}}} 没有在模板中使用"})
    _raise_all(problems)


# --- Values ---------------------------------------------------------------------------------------

_URL_PATTERNS = (
    re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE),  # any scheme: http://, https://, ftp://
    re.compile(r"www\.", re.IGNORECASE),
    re.compile(r"[a-z0-9\-]+(?:\.[a-z0-9\-]+)+/", re.IGNORECASE),  # host followed by a path: a.b/
    re.compile(r"(?<![a-z0-9\-])[a-z0-9\-]+\.[a-z]{2,}(?![a-z0-9])", re.IGNORECASE),  # c.cn, gov.cn
    re.compile(r"(?<!\d)\d{1,3}(?:\.\d{1,3}){3}(?!\d)"),  # an IP address
)
# The same, as one expression: a value is searched once, not once a pattern (a list of
# recipients checks every distinct value).
_URL = re.compile("|".join(f"(?:{pattern.pattern})" for pattern in _URL_PATTERNS), re.IGNORECASE)


def contains_url(text: str) -> bool:
    """Whether ``text`` holds something the carrier takes for a link. Full-width letters and
    dots are folded first (``ｗｗｗ．`` and ``baidu。com`` are links too)."""
    folded = unicodedata.normalize("NFKC", text).replace("。", ".")
    return _URL.search(folded) is not None


_NUMBER = re.compile(r"\d+(?:\.\d+)?", re.ASCII)
_MONEY = re.compile(r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d{1,2})?", re.ASCII)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_CHINESE_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日", re.ASCII)
_CODE = re.compile(r"[A-Za-z0-9]+", re.ASCII)
_CHINESE_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+(?:[·•][\u3400-\u4dbf\u4e00-\u9fff]+)*")
_LATIN_NAME = re.compile(r"[A-Za-z]+(?:[ .'\-]+[A-Za-z]+)*\.?", re.ASCII)


def _is_real_date(match: re.Match[str] | None) -> bool:
    if match is None:
        return False
    try:
        date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


def _check_type(spec: VariableSpec, value: str) -> tuple[str, str | None]:
    """The value as it will be sent, and the reason it is refused (``None`` when accepted)."""
    label = f"变量 ${{{spec.name}}}"
    if spec.type == "phone":
        if not is_mobile(value):
            return value, f"{label} 应为 11 位中国大陆手机号"
        return normalize_mobile(value), None
    if spec.type == "number" and not _NUMBER.fullmatch(value):
        return value, f"{label} 应为数字（可带小数）"
    if spec.type == "money" and not _MONEY.fullmatch(value):
        return value, f"{label} 应为金额，如 1234.56（最多两位小数）"
    if spec.type == "date":
        return _date_value(spec, value, label)
    if spec.type == "code" and not _CODE.fullmatch(value):
        return value, f"{label} 只能由字母和数字组成"
    if spec.type == "name" and not (_CHINESE_NAME.fullmatch(value) or _LATIN_NAME.fullmatch(value)):
        return value, f"{label} 应为中文或英文姓名"
    return value, None


def _date_value(spec: VariableSpec, value: str, label: str) -> tuple[str, str | None]:
    """A date as sent: as typed, or in the template's declared format whichever way it was typed
    (a spreadsheet's date cells arrive as 2026-12-31)."""
    iso, chinese = _ISO_DATE.fullmatch(value), _CHINESE_DATE.fullmatch(value)
    match = iso if _is_real_date(iso) else chinese if _is_real_date(chinese) else None
    if match is None:
        written = DATE_FORMAT_EXAMPLES[spec.format] if spec.format else "2024-01-31 或 2024年1月31日"
        return value, f"{label} 应为有效日期，写作 {written}"
    if spec.format is None:
        return value, None
    year, month, day = (int(part) for part in match.groups())
    if spec.format == "iso":
        return f"{year:04d}-{month:02d}-{day:02d}", None
    return f"{year}年{month}月{day}日", None


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _checked_value(spec: VariableSpec, values: Mapping[str, object]) -> tuple[str, str | None]:
    """One declared variable's value as it will be sent, and the reason it is refused (``None``
    when accepted)."""
    label = f"变量 ${{{spec.name}}}"
    if spec.name not in values or values[spec.name] is None:
        return "", f"缺少{label} 的值"
    value = _as_text(values[spec.name])
    if value is None:
        return "", f"{label} 的值应为文字"
    if spec.type != "text":
        value = value.strip()
    if not value.strip():
        return value, f"{label} 的值不能为空"
    if contains_url(value):
        return value, f"{label} 的值不能含有网址或链接"
    value, reason = _check_type(spec, value)
    if reason:
        return value, reason
    if len(value) > spec.max_length:
        return value, f"{label} 最多 {spec.max_length} 个字，当前 {len(value)} 个字"
    return value, None


def checked_value(spec: VariableSpec, value: object) -> tuple[str, str | None]:
    """One declared variable's value as it will be sent and the reason ``validate_values`` would
    refuse it (``None`` when accepted), without raising: for the many values of a list."""
    return _checked_value(spec, {spec.name: value})


def validate_values(
    specs: Iterable[VariableSpec | Mapping[str, Any]], values: Mapping[str, object], *, under: str = ""
) -> dict[str, str]:
    """Check one recipient's values against the declarations and return them as sent.

    Refused, each with its variable named: a missing, empty or extra value, a value of the
    wrong type or longer than declared, and a URL in any value. Typed values lose surrounding
    spaces; a phone number is normalised to 11 digits. ``under`` is where a request holds the
    values: each refusal's field is then the request's path (``values.date``), so a form shows
    it beside the variable's own input.
    """
    prefix = f"{under}." if under else ""
    specs = as_specs(specs)
    declared = {spec.name for spec in specs}
    problems: list[dict[str, str]] = []
    result: dict[str, str] = {}
    for spec in specs:
        value, reason = _checked_value(spec, values)
        if reason:
            problems.append({"field": prefix + spec.name, "message": reason})
        else:
            result[spec.name] = value
    for name in values:
        if name not in declared:
            problems.append({"field": f"{prefix}{name}", "message": f"变量 ${{{name}}} 未在模板中声明"})
    _raise_all(problems)
    return result


def render(text: str, values: Mapping[str, object]) -> str:
    """The message text with each ``${name}`` replaced by its value (values are not re-parsed).

    The text is checked again before it is rendered, so a stored text that would read anything
    but its own variables is refused rather than rendered."""
    template = _compiled(text)
    params = carrier_params({name: values[name] for name in _parsed(text) if values.get(name) is not None})
    missing = [name for name in _parsed(text) if name not in params]
    if missing:
        _raise_all([{"field": name, "message": f"缺少变量 ${{{name}}} 的值"} for name in missing])
    # A shared context is the values themselves: no globals are merged in, so the template's
    # own names, checked when it was written and again above, are all it can read.
    context = template.new_context(params, shared=True)
    return template.environment.concat(template.root_render_func(context))  # type: ignore[attr-defined]


def carrier_params(values: Mapping[str, object]) -> dict[str, str]:
    """Values as the carrier's ``TemplateParam`` wants them: every value a JSON string."""
    params: dict[str, str] = {}
    for name, value in values.items():
        text = _as_text(value)
        if text is None:
            raise _fail(f"变量 ${{{name}}} 的值应为文字", str(name))
        params[str(name)] = text
    return params
