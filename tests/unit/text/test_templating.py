"""Templates in the carrier's ``${name}`` form: parsing, declarations, typed values, rendering."""

import json

import pydantic
import pytest
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.text.templating import (
    ENGINE_NAMES,
    VariableSpec,
    _check_tree,
    _compiled,
    _environment,
    carrier_params,
    check_declarations,
    checked_value,
    contains_url,
    parse_template,
    render,
    validate_values,
)

PENSION = "您好${name}，您${month}月养老金${amount}元已于${paid_on}发放，详询12333。"
PENSION_SPECS = [
    VariableSpec(name="name", type="name", max_length=10),
    VariableSpec(name="month", type="number", max_length=2),
    VariableSpec(name="amount", type="money", max_length=12),
    VariableSpec(name="paid_on", type="date", max_length=11),
]


def spec(kind: str, max_length: int = 20, name: str = "v") -> list[VariableSpec]:
    return [VariableSpec(name=name, type=kind, max_length=max_length)]


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("您好，请按时缴纳社保费。", []),
        ("您好${name}", ["name"]),
        (PENSION, ["name", "month", "amount", "paid_on"]),
        ("${a}${b}${a}", ["a", "b"]),
        ("${a_1}和${_b}和${CamelCase}", ["a_1", "_b", "CamelCase"]),
        ("{{ x }} {% if y %} {# z #} $5 } {", []),  # jinja's usual syntax is only text here
        ("金额：$${amount}", ["amount"]),
        ("第一行\n第二行${x}\n", ["x"]),
    ],
)
def test_parse_template_names_placeholders_in_order(text, names):
    assert parse_template(text) == names


NOT_SIMPLE = "模板变量只能是简单的变量名，不能包含属性、下标、调用或运算："
WRITTEN_WRONG = "模板变量写法不正确："


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # Names jinja answers itself: refused although nothing else is wrong with them.
        ("${self}", "模板变量 ${self} 不是已声明的变量：self 是模板引擎的保留名称"),
        ("${range}", "模板变量 ${range} 不是已声明的变量：range 是模板引擎的保留名称"),
        ("${lipsum}", "模板变量 ${lipsum} 不是已声明的变量"),
        ("${cycler}", "模板变量 ${cycler} 不是已声明的变量"),
        ("${joiner}", "模板变量 ${joiner} 不是已声明的变量"),
        ("${namespace}", "模板变量 ${namespace} 不是已声明的变量"),
        ("${dict}", "模板变量 ${dict} 不是已声明的变量"),
        ("${loop}", "模板变量 ${loop} 不是已声明的变量"),
        ("${caller}", "模板变量 ${caller} 不是已声明的变量"),
        ("${super}", "模板变量 ${super} 不是已声明的变量"),
        ("您好${ self }", "模板变量 ${ self } 不是已声明的变量"),
        # Anything but a bare name: attributes, subscripts, calls, filters, tests, operators.
        ("${a.b}", NOT_SIMPLE + "${a.b}"),
        ("${a.__class__}", NOT_SIMPLE + "${a.__class__}"),
        ("${self.__init__}", NOT_SIMPLE + "${self.__init__}"),
        ("${a[0]}", NOT_SIMPLE + "${a[0]}"),
        ("${a['x']}", NOT_SIMPLE + "${a['x']}"),
        ("${a()}", NOT_SIMPLE + "${a()}"),
        ("${range(10)}", NOT_SIMPLE + "${range(10)}"),
        ("${lipsum()}", NOT_SIMPLE + "${lipsum()}"),
        ("${name|upper}", NOT_SIMPLE + "${name|upper}"),
        ("${a is defined}", NOT_SIMPLE + "${a is defined}"),
        ("${a + b}", NOT_SIMPLE + "${a + b}"),
        ("${a ~ b}", NOT_SIMPLE + "${a ~ b}"),
        ("${-a}", NOT_SIMPLE + "${-a}"),  # jinja's whitespace control, not a minus
        ("${a-}", NOT_SIMPLE + "${a-}"),
        ("${a if b else c}", NOT_SIMPLE + "${a if b else c}"),
        ("${'text'}", NOT_SIMPLE + "${'text'}"),
        ("${7*7}", NOT_SIMPLE + "${7*7}"),
        ("${(a)}", NOT_SIMPLE + "${(a)}"),
        # Not even jinja's syntax.
        ("${}", WRITTEN_WRONG + "${}"),
        ("${1a}", WRITTEN_WRONG + "${1a}"),
        ("${a b}", WRITTEN_WRONG + "${a b}"),
        ('${"abc}', WRITTEN_WRONG + '${"abc}'),
        ("${ {'a': 1} }", WRITTEN_WRONG + "${ {'a': 1}"),
        ("${名字}", WRITTEN_WRONG + "${名字}，变量名只能由字母、数字和下划线组成"),
        ("没有结尾${name", "模板变量 ${name 缺少结尾的“}”"),
        ("${ name }", "模板变量 ${ name } 不能带空格，请写成 ${name}"),
        ("好${a}然后${b.c}", NOT_SIMPLE + "${b.c}"),
        ("${true}", "模板变量 ${true} 是保留字"),
        ("${None}", "模板变量 ${None} 是保留字"),
        ("${if}", "模板变量 ${if} 是保留字"),
        ("", "不能为空"),
        ("  \n", "不能为空"),
        ("a\x00b", "控制字符"),
    ],
)
def test_parse_template_admits_only_bare_placeholders(text, message):
    with pytest.raises(ValidationFailed) as caught:
        parse_template(text)
    assert message in caught.value.message
    assert caught.value.field == "content"
    assert caught.value.status == 422


def test_every_refused_placeholder_is_listed():
    with pytest.raises(ValidationFailed) as caught:
        parse_template("${a}${self}和${b.c}和${ok}")
    assert [d["message"].split("：")[-1] for d in caught.value.details] == [
        "self 是模板引擎的保留名称，请换一个变量名",
        "${b.c}",
    ]


def test_engine_names_cover_jinja_default_globals():
    # A jinja upgrade that adds a global must add it to the names refused too.
    from jinja2.defaults import DEFAULT_NAMESPACE

    assert set(DEFAULT_NAMESPACE) <= ENGINE_NAMES


@pytest.mark.parametrize(
    "text",
    [
        "${a|upper}", "${a.b}", "${a()}", "${a[0]}", "${'x'}", "${a + 1}", "${true}", "${a if b else c}",
        "${self}", "${range}", "${ lipsum }", "${namespace}",
    ],
)  # fmt: skip
def test_parse_tree_check_refuses_everything_but_names(text):
    # The check behind the placeholder scan, on its own: it must hold even if the scan misses.
    with pytest.raises(ValidationFailed):
        _check_tree(text)


@pytest.mark.parametrize("text", ["您好${name}，${amount}元", "纯文本", "{% if x %}{{ y }}{% endif %}"])
def test_parse_tree_check_passes_text_and_names(text):
    _check_tree(text)


# --- declarations -------------------------------------------------------------------------------


def test_check_declarations_accepts_exact_declarations():
    check_declarations(PENSION, PENSION_SPECS)
    check_declarations("纯文本", [])


@pytest.mark.parametrize(
    ("specs", "fields", "message"),
    [
        (PENSION_SPECS[:3], ["paid_on"], "模板中的变量 ${paid_on} 未声明类型和长度"),
        (PENSION_SPECS + spec("text", name="extra"), ["extra"], "声明的变量 ${extra} 没有在模板中使用"),
        (PENSION_SPECS + spec("text", name="name"), ["name"], "变量 ${name} 重复声明"),
        ([], ["name", "month", "amount", "paid_on"], "模板中的变量 ${name} 未声明类型和长度"),
    ],
)
def test_check_declarations_refuses_undeclared_unused_and_duplicates(specs, fields, message):
    with pytest.raises(ValidationFailed) as caught:
        check_declarations(PENSION, specs)
    assert caught.value.message == message
    assert [problem["field"] for problem in caught.value.details] == fields


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "1abc", "type": "text", "max_length": 5},
        {"name": "名字", "type": "text", "max_length": 5},
        {"name": "a", "type": "url", "max_length": 5},
        {"name": "a", "type": "text", "max_length": 0},
        {"name": "a", "type": "text", "max_length": 501},
        {"name": "a", "type": "text", "max_length": 5, "extra": 1},
    ],
)
def test_variable_spec_refuses_bad_declarations(fields):
    with pytest.raises(pydantic.ValidationError):
        VariableSpec(**fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "d", "type": "text", "max_length": 11, "format": "chinese"}, "只有日期变量可以指定日期写法"),
        ({"name": "d", "type": "date", "max_length": 10, "format": "chinese"}, "最多字数不能少于 11"),
        ({"name": "d", "type": "date", "max_length": 9, "format": "iso"}, "最多字数不能少于 10"),
        ({"name": "d", "type": "date", "max_length": 11, "format": "2026/12/31"}, ""),
    ],
)
def test_a_date_format_is_declared_for_dates_long_enough_to_hold_it(fields, message):
    with pytest.raises(pydantic.ValidationError) as caught:
        VariableSpec(**fields)
    assert caught.value.errors()[0]["loc"] == ("format",)
    assert message in caught.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    ("date_format", "value", "sent"),
    [
        (None, "2026-12-31", "2026-12-31"),
        (None, "2026年12月31日", "2026年12月31日"),
        ("chinese", "2026年12月31日", "2026年12月31日"),
        ("chinese", "2026-12-31", "2026年12月31日"),
        ("chinese", "2026-01-05", "2026年1月5日"),
        ("chinese", "2026年01月05日", "2026年1月5日"),
        ("iso", "2026-12-31", "2026-12-31"),
        ("iso", "2026年1月5日", "2026-01-05"),
        ("iso", " 2026-01-05 ", "2026-01-05"),
    ],
)
def test_a_date_is_sent_in_the_format_its_template_declares(date_format, value, sent):
    declared = [VariableSpec(name="v", type="date", max_length=11, format=date_format)]
    assert validate_values(declared, {"v": value}) == {"v": sent}


@pytest.mark.parametrize(
    ("date_format", "value", "message"),
    [
        ("chinese", "2026年2月30日", "变量 ${v} 应为有效日期，写作 2026年12月31日"),
        ("iso", "2026/12/31", "变量 ${v} 应为有效日期，写作 2026-12-31"),
        (None, "明年元旦", "变量 ${v} 应为有效日期，写作 2024-01-31 或 2024年1月31日"),
    ],
)
def test_a_date_that_is_no_date_is_refused_with_the_declared_format(date_format, value, message):
    declared = [VariableSpec(name="v", type="date", max_length=11, format=date_format)]
    with pytest.raises(ValidationFailed) as caught:
        validate_values(declared, {"v": value})
    assert caught.value.message == message


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "sent"),
    [
        ("text", "您好，请按时缴费！", "您好，请按时缴费！"),
        ("text", "第1.2条 v2.0 3.5%", "第1.2条 v2.0 3.5%"),
        ("text", " 前后空格 ", " 前后空格 "),  # free text is sent as written
        ("number", "12", "12"),
        ("number", "0", "0"),
        ("number", "3.5", "3.5"),
        ("number", 12, "12"),
        ("number", " 7 ", "7"),
        ("money", "1234.56", "1234.56"),
        ("money", "0.5", "0.5"),
        ("money", "100", "100"),
        ("money", "1,234,567.00", "1,234,567.00"),
        ("date", "2024-01-31", "2024-01-31"),
        ("date", "2024-02-29", "2024-02-29"),
        ("date", "2024年1月31日", "2024年1月31日"),
        ("date", "2024年01月09日", "2024年01月09日"),
        ("phone", "13812341234", "13812341234"),
        ("phone", "+86 138-1234-1234", "13812341234"),
        ("code", "A1B2", "A1B2"),
        ("code", "123456", "123456"),
        ("name", "张三", "张三"),
        ("name", "欧阳娜娜", "欧阳娜娜"),
        ("name", "阿沛·阿旺晋美", "阿沛·阿旺晋美"),
        ("name", "John Smith", "John Smith"),
        ("name", "O'Neil", "O'Neil"),
        ("name", "Mary-Jane", "Mary-Jane"),
    ],
)
def test_validate_values_accepts_each_type(kind, value, sent):
    assert validate_values(spec(kind), {"v": value}) == {"v": sent}


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("number", "-1", "应为数字"),
        ("number", "1e5", "应为数字"),
        ("number", "1.", "应为数字"),
        ("number", "１２", "应为数字"),  # full-width digits
        ("number", "12元", "应为数字"),
        ("money", "1.234", "应为金额"),
        ("money", "12,34", "应为金额"),
        ("money", "1,2345", "应为金额"),
        ("money", "¥12", "应为金额"),
        ("money", "-5", "应为金额"),
        ("date", "2023-02-29", "应为有效日期"),
        ("date", "2024-13-01", "应为有效日期"),
        ("date", "2024/01/31", "应为有效日期"),
        ("date", "2024年2月30日", "应为有效日期"),
        ("date", "31-01-2024", "应为有效日期"),
        ("date", "明天", "应为有效日期"),
        ("phone", "12345678901", "手机号"),
        ("phone", "0631-5201234", "手机号"),
        ("code", "AB-12", "字母和数字"),
        ("code", "验证码", "字母和数字"),
        ("code", "ab cd", "字母和数字"),
        ("name", "张3", "姓名"),
        ("name", "张 三", "姓名"),
        ("name", "李@", "姓名"),
        ("name", "13812341234", "姓名"),
    ],
)
def test_validate_values_refuses_wrong_types_naming_the_variable(kind, value, message):
    with pytest.raises(ValidationFailed) as caught:
        validate_values(spec(kind, name="item"), {"item": value})
    assert caught.value.field == "item"
    assert caught.value.message.startswith("变量 ${item}")
    assert message in caught.value.message
    assert str(value) not in json.dumps(caught.value.to_body(), ensure_ascii=False)


@pytest.mark.parametrize(
    "value",
    [
        "http://a.cn",
        "https://x.com/y",
        "HTTPS://X.COM",
        "ftp://files",
        "详见www.whhrss.gov.cn",
        "ｗｗｗ．abc．com",  # full-width
        "t.cn/abc",
        "a.b/",
        "baidu.com",
        "访问baidu。com查询",
        "登录whrs.gov.cn办理",
        "192.168.1.1",
        "邮件发至a@b.com",
    ],
)
def test_validate_values_refuses_urls_in_any_type(value):
    for kind in ("text", "code", "name"):
        with pytest.raises(ValidationFailed) as caught:
            validate_values(spec(kind, max_length=100), {"v": value})
        assert caught.value.message == "变量 ${v} 的值不能含有网址或链接"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("money", "1234.56"),
        ("money", "¥12"),
        ("phone", "+86 138-1234-1234"),
        ("phone", "0631-5201234"),
        ("date", "2024年1月31日"),
        ("date", "2023-02-29"),
        ("name", " 张三 "),
        ("name", "张3"),
        ("text", "  前后空格  "),
        ("text", "   "),
        ("text", "详见www.whhrss.gov.cn"),
        ("text", "192.168.1.1"),
        ("code", None),
        ("code", 12),
        ("text", "长" * 21),
    ],
)
def test_checked_value_answers_as_validate_values_without_raising(kind, value):
    declared = spec(kind)
    value_sent, reason = checked_value(declared[0], value)
    try:
        assert (value_sent, reason) == (validate_values(declared, {"v": value})["v"], None)
    except ValidationFailed as refused:
        assert reason == refused.message


@pytest.mark.parametrize("value", ["第1.2条", "3.5", "v2.0版", "社保卡.", "J. Smith", "养老金1,234.50元"])
def test_contains_url_leaves_ordinary_text_alone(value):
    assert not contains_url(value)


@pytest.mark.parametrize(
    ("max_length", "value", "accepted"),
    [
        (4, "张三丰五", True),
        (4, "张三丰五六", False),
        (1, "1", True),
        (11, "13812341234", True),
        (10, "13812341234", False),
    ],
)
def test_validate_values_enforces_the_declared_length(max_length, value, accepted):
    kind = "phone" if value.startswith("138") else "text"
    specs = spec(kind, max_length=max_length)
    if accepted:
        assert validate_values(specs, {"v": value}) == {"v": value}
    else:
        with pytest.raises(ValidationFailed) as caught:
            validate_values(specs, {"v": value})
        assert caught.value.message == f"变量 ${{v}} 最多 {max_length} 个字，当前 {len(value)} 个字"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({}, "v", "缺少变量 ${v} 的值"),
        ({"v": None}, "v", "缺少变量 ${v} 的值"),
        ({"v": ""}, "v", "变量 ${v} 的值不能为空"),
        ({"v": "   "}, "v", "变量 ${v} 的值不能为空"),
        ({"v": ["a"]}, "v", "变量 ${v} 的值应为文字"),
        ({"v": True}, "v", "变量 ${v} 的值应为文字"),
        ({"v": "好", "w": "多余"}, "w", "变量 ${w} 未在模板中声明"),
    ],
)
def test_validate_values_refuses_missing_empty_odd_and_extra_values(values, field, message):
    with pytest.raises(ValidationFailed) as caught:
        validate_values(spec("text"), values)
    assert caught.value.field == field
    assert caught.value.message == message


def test_validate_values_lists_every_problem_at_once():
    with pytest.raises(ValidationFailed) as caught:
        validate_values(PENSION_SPECS, {"name": "www.a.cn", "month": "三", "amount": "1.234", "x": "1"})
    assert [problem["field"] for problem in caught.value.details] == ["name", "month", "amount", "paid_on", "x"]
    assert caught.value.field == "name"


def test_validate_values_names_each_field_as_the_request_holds_it():
    with pytest.raises(ValidationFailed) as caught:
        validate_values(PENSION_SPECS, {"name": "www.a.cn", "month": "三", "amount": "1.234", "x": "1"}, under="values")
    fields = ["values.name", "values.month", "values.amount", "values.paid_on", "values.x"]
    assert [problem["field"] for problem in caught.value.details] == fields
    assert caught.value.field == "values.name"


# --- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        (
            PENSION,
            {"name": "张三", "month": "3", "amount": "1234.50", "paid_on": "2024年3月15日"},
            "您好张三，您3月养老金1234.50元已于2024年3月15日发放，详询12333。",
        ),
        ("${a}${a}", {"a": "重"}, "重重"),
        ("值：${a}", {"a": "${b} {{ 7*7 }} {% if %}"}, "值：${b} {{ 7*7 }} {% if %}"),  # values are not parsed
        ("值：${a}", {"a": "<b>&"}, "值：<b>&"),  # no HTML escaping in an SMS
        ("第一行\n${a}\n", {"a": "二"}, "第一行\n二\n"),  # the trailing newline is kept
        ("数量${n}", {"n": 3}, "数量3"),
        ("纯文本", {}, "纯文本"),
        ("{{ x }}${a}", {"a": "1", "x": "unused"}, "{{ x }}1"),
    ],
)
def test_render(text, values, expected):
    assert render(text, values) == expected


@pytest.mark.parametrize(("values", "missing"), [({}, "a"), ({"a": "1"}, "b"), ({"a": "1", "b": None}, "b")])
def test_render_refuses_missing_values(values, missing):
    with pytest.raises(ValidationFailed) as caught:
        render("${a}和${b}", values)
    assert caught.value.message == f"缺少变量 ${{{missing}}} 的值"


def test_render_refuses_a_bad_template():
    with pytest.raises(ValidationFailed):
        render("${a|upper}", {"a": "x"})


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("${self}", {"self": "张三"}),
        ("您好${range}", {"range": "1"}),
        ("${a.__class__}", {"a": "x"}),
        ("${lipsum()}", {}),
    ],
)
def test_render_refuses_a_stored_text_that_reads_more_than_its_variables(text, values):
    # Rendering checks the text again: one stored before the check was closed is not rendered.
    with pytest.raises(ValidationFailed):
        render(text, values)


@pytest.mark.parametrize("name", ["range", "lipsum", "dict", "cycler", "joiner", "namespace"])
def test_the_rendering_environment_offers_no_globals(name):
    # Behind the check: a text that somehow skipped it still finds none of jinja's globals.
    from jinja2.exceptions import UndefinedError

    with pytest.raises(UndefinedError):
        _environment().from_string(f"${{{name}}}").render()


def test_the_rendering_environment_offers_no_filters():
    from jinja2.exceptions import TemplateAssertionError

    with pytest.raises(TemplateAssertionError):
        _environment().from_string("${a|upper}")


def test_one_compiled_template_per_text():
    text = "缓存${a}"
    assert _compiled(text) is _compiled(text)
    assert _compiled(text) is not _compiled(text + "。")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name": "张三", "amount": "12.50"}, {"name": "张三", "amount": "12.50"}),
        ({"count": 3}, {"count": "3"}),
        ({}, {}),
    ],
)
def test_carrier_params_are_all_strings(values, expected):
    params = carrier_params(values)
    assert params == expected
    assert all(isinstance(value, str) for value in json.loads(json.dumps(params)).values())


@pytest.mark.parametrize("value", [None, 1.5, ["a"], {"a": 1}, False])
def test_carrier_params_refuse_non_text_values(value):
    with pytest.raises(ValidationFailed) as caught:
        carrier_params({"x": value})
    assert caught.value.field == "x"


def test_declarations_stored_as_plain_mappings_are_accepted():
    stored = [item.model_dump() for item in PENSION_SPECS]
    check_declarations(PENSION, stored)
    values = {"name": "李四", "month": "12", "amount": "88", "paid_on": "2024-12-15"}
    assert validate_values(stored, values) == values
    with pytest.raises(pydantic.ValidationError):
        validate_values([{"name": "a", "type": "url", "max_length": 3}], {"a": "x"})
