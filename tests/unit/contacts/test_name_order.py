"""A record's place in its district's name order (the contacts table's ``gsi3``), as written with
every write of the record: pinyin order of the name (toneless, syllable by syllable, a shorter
reading first), then the name itself for equal readings, then the ref for equal names."""

from __future__ import annotations

import pytest
from sms_platform.contacts.models import Contact
from sms_platform.contacts.record_items import to_items


def record(name: str, *, id_char: str = "a", district: str = "wendeng", kind: str = "person") -> Contact:
    return Contact(
        kind=kind, id_hash=id_char * 64, id_token="tok-id", id_masked="371002********0011", name=name,
        district=district, phones=[],
    )  # fmt: skip


def place(contact: Contact) -> tuple[str, str]:
    main, _ = to_items(contact)
    return main["gsi3pk"], main["gsi3sk"]


def sort_key(name: str, id_char: str = "a") -> str:
    return place(record(name, id_char=id_char))[1]


def test_surnames_run_in_pinyin_order_not_in_code_point_order():
    given = ["赵", "王", "安", "张", "李"]  # code points: 安 5B89, 张 5F20, 李 674E, 王 738B, 赵 8D75

    assert sorted(given, key=sort_key) == ["安", "李", "王", "张", "赵"]  # an, li, wang, zhang, zhao


# (first, then): the first name comes before the second, whoever wrote which first.
BEFORE = [
    ("王", "王伟", "a name before the longer names it begins"),
    ("王伟", "王伟华", "a name before the longer names it begins"),
    ("万一", "王", "syllable by syllable: wan before wang, whatever follows"),
    ("西安", "先", "xi an (two syllables) before xian (one)"),
    ("李", "刘", "li before liu"),
    ("何", "贺", "equal pinyin (he): the characters' order decides"),
    ("张伟", "章伟", "equal pinyin (zhang wei), different characters: the name decides"),
    ("王 伟", "王伟", "a space in a name reads as between syllables: equal reading, the name decides"),
    ("Anna", "bob", "Latin names ignore case"),
    ("bob", "Carl", "Latin names ignore case"),
    ("Li Ming", "李明", "a name in Latin letters reads as its letters: with 李明, the Latin one first"),
    ("李明", "Liu Yang", "Latin names among Chinese ones by their letters: li ming before liu yang"),
    ("Wang", "王伟", "wang before wang wei"),
    ("ＡＢＣ公司", "安", "full-width letters read as plain ones: abc before an"),
    ("1号楼", "阿", "digits before letters"),
    ("林01", "林02", "digits as written"),
]


@pytest.mark.parametrize(("first", "then", "why"), BEFORE, ids=[f"{a}<{b}" for a, b, _ in BEFORE])
def test_one_name_before_another(first, then, why):
    assert sort_key(first) < sort_key(then), why
    assert sorted([then, first], key=sort_key) == [first, then]


def test_one_name_twice_is_ordered_by_the_record_stably():
    twice = [("王伟", "b"), ("王伟", "a"), ("王伟华", "a"), ("汪伟", "a")]  # 汪 and 王 both read wang

    ordered = sorted(twice, key=lambda entry: sort_key(*entry))

    assert ordered == [("汪伟", "a"), ("王伟", "a"), ("王伟", "b"), ("王伟华", "a")]


@pytest.mark.parametrize(
    "name", ["庄" * 100, "𠀀" * 100, "Ａ" * 100, "😀" * 100], ids=["zhuang", "four-byte", "full-width", "emoji"]
)
def test_the_longest_names_keep_their_key_within_dynamodbs_limit(name):
    # 庄 reads zhuang (6 letters a character); 𠀀 is four bytes of UTF-8; ＡＢ become ab.
    assert len(sort_key(name).encode()) <= 1024
    assert sort_key(name).split("\x1f")[1] == name  # the name itself still decides past the cut


def test_a_record_is_placed_in_its_district_and_kind_whether_or_not_it_has_a_number():
    assert place(record("王伟"))[0] == "byname#wendeng#person"
    assert place(record("王伟", district="rushan", kind="unit"))[0] == "byname#rushan#unit"
