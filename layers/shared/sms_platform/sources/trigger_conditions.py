"""The condition language and variable paths of trigger rules and subscription items (pure).

- Conditions are written in a small expression language evaluated by ``simpleeval`` (never
  ``eval``): comparisons, ``and``/``or``/``not``, arithmetic, ``in``, subscripts such as
  ``data["amount"]``, and the calls ``len``, ``abs``, ``min``, ``max``, ``int``, ``float``,
  ``str``. Attribute access is refused, so nothing can reach Python internals. Names: ``data``,
  each top-level key of the data, ``event_type`` and ``subject_kind``.
- Variable mappings name a path into the event: ``{"amount": "data.amount"}``; plain dotted
  paths only, read by walking dictionaries.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from sms_platform.foundation.errors import ValidationFailed

# \Z, not $: a path with a newline after it is no path.
_PATH = re.compile(r"^(data(\.[A-Za-z][A-Za-z0-9_]*)+|event_type|occurred_at|event_id)\Z")
_ALLOWED_CALLS = {"len": len, "abs": abs, "min": min, "max": max, "int": int, "float": float, "str": str}
MAX_CONDITION_LENGTH = 500


def _evaluator(names: dict[str, Any]) -> Any:
    # simpleeval loads with the first condition, not with the event intake's cold import.
    from simpleeval import SimpleEval

    evaluator = SimpleEval(functions=dict(_ALLOWED_CALLS), names=names)
    evaluator.ATTR_INDEX_FALLBACK = False

    def refuse_attribute(node: ast.Attribute) -> Any:
        raise ValueError("attribute access is not allowed")

    evaluator.nodes[ast.Attribute] = refuse_attribute
    return evaluator


def check_condition(text: str) -> str:
    """The condition, stripped, if it is a single allowed expression; else ``ValidationFailed``."""
    text = (text or "").strip()
    if not text:
        return "True"
    if len(text) > MAX_CONDITION_LENGTH:
        raise ValidationFailed(f"触发条件最多 {MAX_CONDITION_LENGTH} 个字符", field="condition")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ValidationFailed("触发条件不是有效的表达式", field="condition") from exc
    allowed = (
        ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.Name,
        ast.Constant, ast.Subscript, ast.Load, ast.List, ast.Tuple, ast.boolop, ast.operator, ast.unaryop,
        ast.cmpop,
    )  # fmt: skip
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            raise ValidationFailed('触发条件不允许使用属性访问（如 a.b），请写成 data["b"]', field="condition")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _ALLOWED_CALLS):
            raise ValidationFailed("触发条件只能调用 " + "、".join(sorted(_ALLOWED_CALLS)), field="condition")
        if not isinstance(node, allowed):
            raise ValidationFailed("触发条件含有不允许的写法", field="condition")
    return text


def condition_names(event_type: str, subject_kind: str, data: dict[str, Any]) -> dict[str, Any]:
    names: dict[str, Any] = {key: value for key, value in data.items() if str(key).isidentifier()}
    names.update({"data": data, "event_type": event_type, "subject_kind": subject_kind, "True": True,
                  "False": False, "None": None})  # fmt: skip
    return names


def condition_holds(condition: str, names: dict[str, Any]) -> bool:
    """Whether the condition holds; a missing field or a type mismatch means it does not."""
    if condition.strip() in ("", "True"):
        return True
    try:
        return bool(_evaluator(names).eval(condition))
    except Exception:  # noqa: BLE001 - any failure of a condition over odd data is "no match"
        return False


def check_path(path: str) -> str:
    if not _PATH.match(path or ""):
        raise ValidationFailed(
            f"变量来源“{path}”无效：应为 data.字段名（可多级）、event_type、event_id 或 occurred_at", field="variables"
        )
    return path


def resolve_path(path: str, event: dict[str, Any]) -> Any:
    """The value a dotted path names in the event, or None when any step is missing."""
    value: Any = event
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def fill_variables(mapping: dict[str, str], event: dict[str, Any]) -> dict[str, str]:
    """Template values from the event; a path with no value is reported by name (422)."""
    values: dict[str, str] = {}
    for name, path in mapping.items():
        value = resolve_path(path, event)
        if value is None or value == "":
            raise ValidationFailed(f"事件数据缺少模板变量“{name}”所需的 {path}", field=path)
        values[name] = as_text(value)
    return values
