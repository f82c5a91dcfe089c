"""A record's place in its district's name order (the contacts table's ``gsi3``), as written with
every write of the record: code-point order of the name, then the ref, a shorter name first."""

from __future__ import annotations

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


def test_names_sort_by_code_point_a_shorter_name_first_and_equal_names_by_ref():
    contacts = [
        record("王伟", id_char="b"),
        record("王伟", id_char="a"),
        record("王 伟"),  # a space inside a name sorts before any other character after "王"
        record("王"),
        record("丁一"),  # U+4E01, before 王 (U+738B) though after it in pinyin
        record("Zhang"),  # ASCII before any CJK character
    ]
    ordered = sorted(contacts, key=lambda c: place(c)[1])
    assert [(c.name, c.id_hash[0]) for c in ordered] == [
        ("Zhang", "a"), ("丁一", "a"), ("王", "a"), ("王 伟", "a"), ("王伟", "a"), ("王伟", "b"),
    ]  # fmt: skip


def test_a_record_is_placed_in_its_district_and_kind_whether_or_not_it_has_a_number():
    assert place(record("王伟"))[0] == "byname#wendeng#person"
    assert place(record("王伟", district="rushan", kind="unit"))[0] == "byname#rushan#unit"
