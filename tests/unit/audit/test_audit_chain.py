"""Pure rules of the audit chain: canonical JSON, entry hashes, shards, and chain checking."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sms_platform.audit import chain as audit_chain


def chain(n: int, pk: str = "chain#2024-05-10#3") -> list[dict]:
    items, prev = [], audit_chain.GENESIS
    for seq in range(1, n + 1):
        body = {
            "chain": pk,
            "seq": seq,
            "at": f"2024-05-10T01:00:0{seq}.000000Z",
            "actor": {
                "account_id": "a1",
                "username": "u1",
                "real_name": "张三",
                "roles": ["auditor"],
                "office": "city",
            },
            "action": "x.do",
            "target": f"thing:{seq}",
            "office": "city",
            "template_id": None,
            "before": None,
            "after": audit_chain.canonical_json({"n": seq}),
            "prev_hash": prev,
        }
        digest = audit_chain.entry_hash(body)
        item = {k: v for k, v in body.items() if k != "chain" and v is not None}
        item.update(pk=pk, sk=audit_chain.seq_key(seq), hash=digest, seq=Decimal(seq), **audit_chain.index_keys(body))
        items.append(item)
        prev = digest
    return items


def test_an_untouched_chain_holds():
    assert audit_chain.check_chain("chain#2024-05-10#3", chain(4)) is None
    assert audit_chain.check_chain("chain#2024-05-10#3", []) is None


def _edit(items, **changes):
    items[1] = {**items[1], **changes}
    return items


@pytest.mark.parametrize(
    ("tamper", "seq", "reason"),
    [
        (lambda items: _edit(items, action="x.other"), 2, "hash_mismatch"),
        (lambda items: _edit(items, after='{"n":9}'), 2, "hash_mismatch"),
        (lambda items: _edit(items, at="2024-05-10T02:00:00.000000Z"), 2, "hash_mismatch"),
        (lambda items: _edit(items, prev_hash="f" * 64), 2, "prev_hash_mismatch"),
        (lambda items: _edit(items, hash="0" * 64), 2, "hash_mismatch"),
        (lambda items: _edit(items, gsi2pk="office#wendeng"), 2, "index_mismatch"),
        (lambda items: items[:1] + items[2:], 2, "sequence_gap"),
        (lambda items: [items[0], items[2], items[1], items[3]], 2, "sequence_gap"),
        (lambda items: items[1:], 1, "sequence_gap"),
    ],
)
def test_a_tampered_chain_names_its_first_broken_entry(tamper, seq, reason):
    broken = audit_chain.check_chain("chain#2024-05-10#3", tamper(chain(4)))
    assert broken is not None and (broken.seq, broken.reason) == (seq, reason)
    assert broken.message


def test_an_entry_moved_to_another_chain_is_found():
    broken = audit_chain.check_chain("chain#2024-05-10#4", chain(2))
    assert broken is not None and broken.reason == "index_mismatch"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"b": 1, "a": "中"}, '{"a":"中","b":1}'),
        ({"n": Decimal("3")}, '{"n":3}'),
        ({"n": Decimal("3.5")}, '{"n":"3.5"}'),
        ({"d": date(2024, 5, 10)}, '{"d":"2024-05-10"}'),
        ({"s": {"b", "a"}}, '{"s":["a","b"]}'),
        ([1, None, True], "[1,null,true]"),
    ],
)
def test_canonical_json(value, text):
    assert audit_chain.canonical_json(value) == text


@pytest.mark.parametrize("key", ["a", "b", "batch#B1", "a-op#template:T1", "系统"])
def test_shards_are_stable_and_in_range(key):
    assert audit_chain.shard_of(key) == audit_chain.shard_of(key)
    assert 0 <= audit_chain.shard_of(key) < audit_chain.SHARDS


@pytest.mark.parametrize(
    ("at", "day"),
    [
        (datetime(2024, 5, 9, 15, 59, tzinfo=UTC), date(2024, 5, 9)),
        (datetime(2024, 5, 9, 16, 0, tzinfo=UTC), date(2024, 5, 10)),
    ],
)
def test_days_are_beijing_days(at, day):
    assert audit_chain.beijing_day(at) == day


@pytest.mark.parametrize(
    ("target", "template_id"),
    [("template:T1", "T1"), ("template:T1:v2", "T1"), ("signature:city", None), ("batch:B1", None)],
)
def test_template_of_target(target, template_id):
    assert audit_chain.template_of(target) == template_id


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (None, audit_chain.SYSTEM),
        (
            {"account_id": "a", "username": "u", "real_name": "李四", "roles": "b_role,a_role", "office": "city"},
            audit_chain.AuditActor("a", "u", "李四", ("a_role", "b_role"), "city"),
        ),
    ],
)
def test_actor_of(actor, expected):
    assert audit_chain.actor_of(actor) == expected


def test_actor_of_a_staff_context():
    from sms_platform.staff.context import Office, Role, StaffContext

    ctx = StaffContext("a9", "u9", "王五", "S9", Office.wendeng, frozenset({Role.district_operator}))
    assert audit_chain.actor_of(ctx) == audit_chain.AuditActor("a9", "u9", "王五", ("district_operator",), "wendeng")


def test_next_item_links_to_its_head_as_a_writer_must():
    """``next_item`` builds each entry as ``chain`` above does by hand: numbered after its head,
    linked to its hash, hashed and indexed from its content."""
    expected = chain(3)
    head = None
    for seq, by_hand in enumerate(expected, start=1):
        content = {
            "chain": "chain#2024-05-10#3",
            "at": f"2024-05-10T01:00:0{seq}.000000Z",
            "actor": by_hand["actor"],
            "action": "x.do",
            "target": f"thing:{seq}",
            "office": "city",
            "template_id": None,
            "before": None,
            "after": audit_chain.canonical_json({"n": seq}),
        }
        head = audit_chain.next_item(head, content)
        assert head == by_hand
    assert audit_chain.check_chain("chain#2024-05-10#3", expected) is None
