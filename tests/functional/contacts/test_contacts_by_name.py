"""Browsing a district's address book by name, page after page, on moto built from template.yaml.

Given records of a district written in random name order, when staff page through the district
50 records at a time, then the names run in one order across the pages (code-point order of the
name, then the record's ref), every page says how many the district holds, and a district office
sees its own district only. Records stored before the name index existed are listed once the
backfill has run.
"""

from __future__ import annotations

import os
import random

import boto3
import pytest
from sms_platform.foundation import crypto
from sms_platform.staff.context import Office, Role

from infra import contacts_index
from tests.contacts_support import person, unit

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程"
    "曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭"
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
    assert listed == sorted(listed)  # Python compares strings by code point, as the index does
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
    _store(book, city.token, [person(5, name="丁五")], status="updated")  # 丁 (U+4E01) before 林 (U+6797)

    pages = _pages(book, city.token, limit=3)

    names = [name for name, _ in _listed(pages)]
    assert names == ["丁五", "林01", "林02", "林03", "林04", "林06", "林07"]
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


def test_records_stored_before_the_name_index_are_listed_after_the_backfill(book):
    city = book.account(Role.city_operator)
    _store(book, city.token, [person(n, name=f"旧{n}") for n in range(1, 6)])
    table = boto3.resource("dynamodb").Table(os.environ["CONTACTS_TABLE"])
    stored = [item for item in table.scan()["Items"] if item["sk"] == "rec"]
    for item in stored[:3]:  # as a record written before the index existed lies
        table.update_item(Key={"pk": item["pk"], "sk": "rec"}, UpdateExpression="REMOVE gsi3pk, gsi3sk")
    assert len(_listed(_pages(book, city.token))) == 2

    first = contacts_index.backfill(segments=2)
    again = contacts_index.backfill(segments=2)

    assert first == (3, 0) and again == (0, 0)
    pages = _pages(book, city.token)
    assert [name for name, _ in _listed(pages)] == ["旧1", "旧2", "旧3", "旧4", "旧5"]
