"""Pure rules of office signatures: length, characters, and naming an office, never a person."""

from __future__ import annotations

import pytest
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.staff.context import Office
from sms_platform.templates import signatures


@pytest.mark.parametrize(("office", "name"), list(signatures.DEFAULT_SIGNATURES.items()))
def test_every_default_signature_passes_its_own_rules(office, name):
    assert signatures.signature_problems(office, name) == []


def test_default_signatures_are_distinct_and_cover_every_office():
    assert set(signatures.DEFAULT_SIGNATURES) == set(Office)
    assert len(set(signatures.DEFAULT_SIGNATURES.values())) == len(Office)


@pytest.mark.parametrize(
    ("office", "name", "problem"),
    [
        (Office.city, "张伟", "不能使用个人姓名"),
        (Office.city, "威海王小明", "不能使用个人姓名"),
        (Office.city, "威海", "不能使用个人姓名"),
        (Office.city, "中心", "所在地"),
        (Office.city, "威", "2 到 12 个字"),
        (Office.city, "威海市人力资源和社会保障局社会保险中心", "2 到 12 个字"),
        (Office.city, "威海市 社保中心", "不能含空格"),
        (Office.city, "【威海市社保中心】", "不能含空格、标点或【】"),
        (Office.wendeng, "威海市社会保险事业中心", "文登"),
        (Office.gaoqu, "威海高技术区社保中心", None),
        (Office.jingqu, "威海经区社保中心", None),
        (Office.hotline, "12333热线服务中心", None),
        (Office.it, "威海市人社信息科", None),
    ],
)
def test_signature_rules(office, name, problem):
    problems = signatures.signature_problems(office, name)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_check_signature_names_every_problem_in_one_refusal():
    with pytest.raises(ValidationFailed) as refused:
        signatures.check_signature(Office.huancui, "张 伟")
    assert refused.value.field == "name"
    assert len(refused.value.details) == 3


def test_display_wraps_the_name_as_the_carrier_shows_it():
    assert signatures.display("威海市社会保险事业中心") == "【威海市社会保险事业中心】"
