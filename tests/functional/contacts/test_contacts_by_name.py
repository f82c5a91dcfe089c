"""Browsing a district's address book by name, page after page, on moto built from template.yaml.

Given records of a district written in random name order, when staff page through the district
50 records at a time, then the names run in one order across the pages (pinyin order of the
name, syllable by syllable; then the name itself for names read alike; then the record's ref),
every page says how many the district holds, and a district office sees its own district only.
"""

from __future__ import annotations

import random

import pytest
from sms_platform.foundation import crypto
from sms_platform.staff.context import Office, Role

from tests.contacts_support import person, unit

# How staff read each character of the names below (toneless pinyin, ü written v as in pinyin
# input): what their order is checked against. Characters read alike on purpose: 王汪, 徐许,
# 于余, 何贺, 蒋姜 (and 李丽, 杨洋, 阎艳, 夏霞, 方芳, 于玉): their order is then the name's.
READING = {
    "王": "wang", "李": "li", "张": "zhang", "刘": "liu", "陈": "chen", "杨": "yang", "赵": "zhao",
    "黄": "huang", "周": "zhou", "吴": "wu", "徐": "xu", "孙": "sun", "胡": "hu", "朱": "zhu",
    "高": "gao", "林": "lin", "何": "he", "郭": "guo", "马": "ma", "罗": "luo", "梁": "liang",
    "宋": "song", "郑": "zheng", "谢": "xie", "韩": "han", "唐": "tang", "冯": "feng", "于": "yu",
    "董": "dong", "萧": "xiao", "程": "cheng", "曹": "cao", "袁": "yuan", "邓": "deng", "许": "xu",
    "傅": "fu", "沈": "shen", "贺": "he", "彭": "peng", "吕": "lv", "苏": "su", "卢": "lu",
    "蒋": "jiang", "蔡": "cai", "贾": "jia", "丁": "ding", "魏": "wei", "薛": "xue", "叶": "ye",
    "阎": "yan", "余": "yu", "潘": "pan", "杜": "du", "戴": "dai", "夏": "xia", "钟": "zhong",
    "汪": "wang", "田": "tian", "任": "ren", "姜": "jiang", "范": "fan", "方": "fang", "石": "shi",
    "姚": "yao", "谭": "tan",
    "伟": "wei", "芳": "fang", "娜": "na", "秀": "xiu", "英": "ying", "敏": "min", "静": "jing",
    "丽": "li", "强": "qiang", "磊": "lei", "军": "jun", "洋": "yang", "勇": "yong", "艳": "yan",
    "杰": "jie", "娟": "juan", "涛": "tao", "明": "ming", "超": "chao", "兰": "lan", "霞": "xia",
    "平": "ping", "刚": "gang", "桂": "gui", "华": "hua", "玉": "yu", "红": "hong", "梅": "mei",
    "欧": "ou", "阳": "yang", "诸": "zhu", "葛": "ge", "亮": "liang",
}  # fmt: skip
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程"
    "曹袁邓许傅沈贺彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰红梅"
TWIN, SHORTER = "欧阳明", "诸葛亮"


@pytest.fixture
def book(staff):
    crypto.reset()
    yield staff
    crypto.reset()


def _names(count: int, seed: int) -> list[str]:
    """``count`` Chinese names in random order, some repeated and some the start of another."""
    rng = random.Random(seed)
    names = [rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2))) for _ in range(count)]
    names[:4] = [TWIN, TWIN, SHORTER, SHORTER + "华"]  # surnames the others never take
    rng.shuffle(names)
    return names


def _store(book, token, records, *, status="created") -> None:
    answer = book.call("POST", "/v1/staff/contacts/batch", token=token, body={"contacts": records})
    assert answer.status == 200 and answer.json[status] == len(records), answer.text


def _pages(book, token, *, district="wendeng", kind="person", limit=50):
    """Every page of a district's list, as the portal asks for them."""
    pages, cursor = [], None
    while True:
        query = {"kind": kind, "district": district, "limit": str(limit)}
        if cursor:
            query["cursor"] = cursor
        answer = book.call("GET", "/v1/staff/contacts", token=token, query=query)
        assert answer.status == 200, answer.text
        pages.append(answer.json)
        cursor = answer.json["cursor"]
        if not cursor:
            return pages


def _listed(pages) -> list[tuple[str, str]]:
    return [(c["name"], c["ref"]) for page in pages for c in page["contacts"]]


def _in_pinyin_order(listed: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, ref) pairs as staff expect them: by the syllables' readings one after another (a
    shorter reading first), then by the name, then by the ref."""
    return sorted(listed, key=lambda entry: ([READING[c] for c in entry[0]], entry[0], entry[1]))


def test_a_district_pages_through_in_one_name_order_with_its_total(book):
    city = book.account(Role.city_operator)
    names = _names(120, seed=7)
    people = [person(n + 1, name=name) for n, name in enumerate(names)]
    _store(book, city.token, people[:60])
    _store(book, city.token, people[60:])
    # Other kinds and districts share the table, never the list.
    _store(book, city.token, [person(500 + n, name=f"阿{n}", district="rushan") for n in range(5)])
    _store(book, city.token, [unit(n, name=f"阿单位{n}", district="wendeng") for n in range(3)])

    pages = _pages(book, city.token)

    assert [len(page["contacts"]) for page in pages] == [50, 50, 20]
    assert [page["total"] for page in pages] == [120, 120, 120]
    listed = _listed(pages)
    assert listed == _in_pinyin_order(listed)
    assert listed != sorted(listed)  # not the names' code-point order
    assert sorted(name for name, _ in listed) == sorted(names)
    assert len({ref for _, ref in listed}) == 120
    assert {c["district_name"] for page in pages for c in page["contacts"]} == {"文登区"}
    names_listed = [name for name, _ in listed]
    twins = names_listed.index(TWIN)
    assert names_listed[twins : twins + 2] == [TWIN, TWIN]  # one name twice: the ref decides
    assert names_listed.index(SHORTER + "华") == names_listed.index(SHORTER) + 1  # the shorter name first


def test_a_renamed_record_moves_to_its_new_place(book):
    city = book.account(Role.city_operator)
    _store(book, city.token, [person(n, name=f"林{n:02d}") for n in range(1, 8)])
    # 陈 (chen) before 林 (lin), though after it by code point (U+9648, U+6797).
    _store(book, city.token, [person(5, name="陈五")], status="updated")

    pages = _pages(book, city.token, limit=3)

    names = [name for name, _ in _listed(pages)]
    assert names == ["陈五", "林01", "林02", "林03", "林04", "林06", "林07"]
    assert [len(page["contacts"]) for page in pages] == [3, 3, 1]
    assert {page["total"] for page in pages} == {7}


def test_a_district_operator_lists_its_own_district_only(book):
    city = book.account(Role.city_operator)
    wendeng = book.account(Role.district_operator, office=Office.wendeng)
    _store(book, city.token, [person(n, name=f"文登{n}") for n in range(1, 4)])
    _store(book, city.token, [person(10 + n, name=f"乳山{n}", district="rushan") for n in range(1, 3)])

    own = _pages(book, wendeng.token)
    other = book.call("GET", "/v1/staff/contacts", token=wendeng.token, query={"kind": "person", "district": "rushan"})

    assert [name for name, _ in _listed(own)] == ["文登1", "文登2", "文登3"] and own[0]["total"] == 3
    assert other.status == 403
