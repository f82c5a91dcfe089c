"""Address-book rules without AWS: each validation rule, the number in use, counters, chunking."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.contacts import audiences, collection, imports, records
from sms_platform.contacts.chunks import ChunkSpec
from sms_platform.contacts.models import DISTRICTS, Contact, PhoneEntry
from sms_platform.foundation.clock import FixedClock, set_clock

from tests.contacts_support import credit_code, id_number, person, unit

NOW = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    set_clock(FixedClock(NOW))
    yield
    set_clock(None)


def _fields(errors: list[dict[str, str]]) -> set[str]:
    return {error["field"] for error in errors}


GOOD_ID = id_number(7)
BAD_CHECK_ID = GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1")
GOOD_CODE = credit_code(7)
BAD_CHECK_CODE = GOOD_CODE[:17] + ("1" if GOOD_CODE[17] != "1" else "2")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (person(1, id=BAD_CHECK_ID), "id"),
        (person(1, id=GOOD_ID[:17]), "id"),
        (person(1, id="371002" + "19801301" + "0013"), "id"),  # month 13
        (person(1, id=id_number(1, birth="20990101")), "id"),  # born in the future
        (unit(1, id=BAD_CHECK_CODE), "id"),
        (unit(1, id="91371000MA0000001I"), "id"),  # I is not in the code's character set
        (unit(1, id=GOOD_ID), "id"),  # an ID number is not a credit code
        (person(1, kind="citizen"), "kind"),
        (person(1, name=""), "name"),
        (person(1, name="名" * 101), "name"),
        (person(1, district="济南市"), "district"),
        (person(1, phones=[]), "phones"),
        (person(1, phones=[{"number": "1381234567", "source": "kiosk"}]), "phones.0.number"),
        (person(1, phones=[{"number": "12812341234", "source": "kiosk"}]), "phones.0.number"),
        (person(1, phones=[{"number": "0631-5201234", "source": "kiosk"}]), "phones.0.number"),
        (person(1, phones=[{"number": "13812341234", "source": "wechat"}]), "phones.0.source"),
        (
            person(
                1, phones=[{"number": "13812341234", "source": "kiosk", "collected_at": "2024-05-07T00:00:00+08:00"}]
            ),
            "phones.0.collected_at",
        ),
        (person(1, phones=[{"number": "13812341234", "source": "kiosk", "verified": "maybe"}]), "phones.0.verified"),
        (person(1, insurance_types=["housing_fund"]), "insurance_types.0"),
        (person(1, tags=["a#b"]), "tags.0"),
        (person(1, tags=["t1", "t2", "t3", "t4", "t5", "t6"]), "tags"),
        (person(1, salary=100), "salary"),
    ],
)
def test_each_rule_refuses_its_bad_value_without_repeating_it(record, field):
    contact, errors = collection.validate(record)
    assert contact is None
    assert field in _fields(errors)
    shown = str(errors)
    for value in (record["id"], record["phones"][0]["number"] if record["phones"] else "x" * 40):
        assert value not in shown


@pytest.mark.parametrize(
    ("record", "check"),
    [
        (person(1), lambda c: c.id == id_number(1, birth="19500101")),
        (person(1, id=GOOD_ID.lower()), lambda c: c.id == GOOD_ID),  # a lower-case x is accepted
        (unit(1), lambda c: c.id == credit_code(1)),
        (person(1, district="文登区"), lambda c: c.district == "wendeng"),
        (person(1, kind="参保人员"), lambda c: c.kind.value == "person"),
        (
            person(1, insurance_types=["医疗保险", "pension", "pension"]),
            lambda c: c.insurance_types == ["medical", "pension"],
        ),
        (
            person(1, phones=[{"number": "+86 139-0000-0001", "source": "12333"}]),
            lambda c: c.phones[0].number == "13900000001" and c.phones[0].source.value == "hotline_12333",
        ),
        (
            person(1, phones=[{"number": "13900000001", "source": "kiosk", "collected_at": "2024-05-06T10:00:00"}]),
            lambda c: c.phones[0].collected_at == NOW,  # no zone: Beijing time
        ),
        (person(1, tags=["退休", "异地就医"]), lambda c: c.tags == ["异地就医", "退休"]),
    ],
)
def test_good_values_are_accepted_in_their_normal_form(record, check):
    contact, errors = collection.validate(record)
    assert errors == []
    assert check(contact)


def _entry(n: int, *, verified: bool, hours: int, who: str | None = None) -> PhoneEntry:
    return PhoneEntry(
        hash=f"{n:064x}",
        token=f"token{n}",
        masked=f"139****{n:04d}",
        source="kiosk",
        collected_at=NOW - timedelta(hours=hours),
        verified=verified,
        contact_name=who,
    )


@pytest.mark.parametrize(
    ("phones", "expected"),
    [
        ([], None),
        ([_entry(1, verified=False, hours=5)], 1),
        ([_entry(1, verified=True, hours=5), _entry(2, verified=False, hours=1)], 1),  # verified beats newer
        ([_entry(1, verified=True, hours=5), _entry(2, verified=True, hours=1)], 2),  # latest verified
        ([_entry(1, verified=False, hours=5), _entry(2, verified=False, hours=1)], 2),  # none verified: latest
    ],
)
def test_the_number_in_use_is_the_latest_verified(phones, expected):
    chosen = records.current_phone(phones)
    assert (chosen.masked if chosen else None) == (f"139****{expected:04d}" if expected else None)


def test_a_number_collected_again_is_not_duplicated_and_keeps_being_verified():
    history = [_entry(1, verified=True, hours=5)]
    again = [_entry(1, verified=False, hours=1)]
    merged = records.merge_phones(history, again)
    assert len(merged) == 1
    assert merged[0].verified is True
    assert merged[0].collected_at == NOW - timedelta(hours=1)


@pytest.mark.parametrize(
    ("history", "sent", "dated", "times"),
    [
        # the same numbers again, no time given: they keep the times they were held at
        ([_entry(1, verified=True, hours=5)], [_entry(1, verified=True, hours=0)], [False], [5]),
        ([_entry(1, verified=False, hours=5), _entry(2, verified=False, hours=5)],
         [_entry(1, verified=False, hours=0), _entry(2, verified=False, hours=0)], [False, False], [5, 5]),
        # a time given is news
        ([_entry(1, verified=True, hours=5)], [_entry(1, verified=True, hours=1)], [True], [1]),
        # a number not held yet is collected now
        ([_entry(1, verified=True, hours=5)], [_entry(2, verified=True, hours=0)], [False], [0]),
        # an older number sent again becomes the one in use: collected now
        ([_entry(1, verified=False, hours=5), _entry(2, verified=False, hours=1)],
         [_entry(1, verified=False, hours=0)], [False], [0]),
    ],
)  # fmt: skip
def test_a_number_sent_again_without_a_time_keeps_its_held_time_unless_it_changes_the_number_in_use(
    history, sent, dated, times
):
    kept = records.keep_held_times(history, sent, dated)
    assert [NOW - entry.collected_at for entry in kept] == [timedelta(hours=hours) for hours in times]


def test_old_numbers_stay_in_history_but_the_number_in_use_is_never_dropped():
    history = [_entry(0, verified=True, hours=1000)]
    newer = [_entry(n, verified=False, hours=100 - n) for n in range(1, 30)]
    merged = records.merge_phones(history, newer)
    assert len(merged) == records.MAX_HISTORY
    assert records.current_phone(merged).masked == "139****0000"


def test_each_contact_person_of_a_unit_has_a_number_in_use():
    phones = [
        _entry(1, verified=True, hours=5, who="王"),
        _entry(2, verified=True, hours=1, who="王"),
        _entry(3, verified=False, hours=3, who="李"),
    ]
    chosen = records.current_by_contact_person(phones)
    assert {who: entry.masked for who, entry in chosen.items()} == {"王": "139****0002", "李": "139****0003"}


def _contact(district: str, ins: list[str], tags: list[str], phones: list[PhoneEntry] | None = None) -> Contact:
    return Contact(
        kind="person",
        id_hash="ab" * 32,
        id_token="t",
        id_masked="m",
        name="n",
        district=district,
        insurance_types=ins,
        tags=tags,
        phones=phones if phones is not None else [_entry(1, verified=True, hours=1)],
    )


@pytest.mark.parametrize(
    ("before", "after", "moves"),
    [
        (None, _contact("wendeng", ["pension"], []), {("all", "wendeng"): 1, ("ins=pension", "wendeng"): 1}),
        (
            _contact("wendeng", ["pension"], []),
            _contact("rushan", ["pension"], []),
            {
                ("all", "wendeng"): -1,
                ("ins=pension", "wendeng"): -1,
                ("all", "rushan"): 1,
                ("ins=pension", "rushan"): 1,
            },
        ),
        (
            _contact("wendeng", ["pension"], []),
            _contact("wendeng", ["pension"], ["退休"]),
            {("tag=退休", "wendeng"): 1, ("ins=pension&tag=退休", "wendeng"): 1},
        ),
        (_contact("wendeng", ["pension"], []), _contact("wendeng", ["pension"], []), {}),
        (_contact("wendeng", [], []), _contact("wendeng", [], [], phones=[]), {("all", "wendeng"): -1}),
    ],
)
def test_a_change_moves_the_record_between_counters(before, after, moves):
    deltas = records.counter_deltas(before, after)
    readable = {(pk.split("#", 2)[2], sk.split("#")[0]): delta for (pk, sk), delta in deltas.items()}
    assert readable == moves


@pytest.mark.parametrize("n", [1, 7, 128, 300, 1000])
def test_plan_chunks_covers_every_partition_and_hash_once(n):
    segment = audiences.Segment(kind="person", districts=["wendeng", "rushan"])
    chunks = audiences.plan_chunks(segment, n)
    assert len(chunks) == n
    ranges = [r for chunk in chunks for r in chunk.ranges]
    by_partition: dict[str, list[tuple[str, str]]] = {}
    for r in ranges:
        by_partition.setdefault(r.partition, []).append((r.low, r.high))
    assert len(by_partition) == 2 * records.AUDIENCE_SHARDS
    for spans in by_partition.values():
        spans.sort()
        assert spans[0][0] == "00" and spans[-1][1] == "ff~"
        for (_, high), (low, _) in zip(spans, spans[1:], strict=False):
            assert int(high[:2], 16) + 1 == int(low, 16)  # contiguous, no overlap
    sizes = [len(chunk.ranges) for chunk in chunks]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize(
    ("segment", "index_dim", "count_dim"),
    [
        ({"kind": "unit"}, "all", "all"),
        ({"kind": "person", "insurance_type": "medical"}, "ins=medical", "ins=medical"),
        ({"kind": "person", "tag": "退休"}, "tag=退休", "tag=退休"),
        ({"kind": "person", "tag": "退休", "insurance_type": "medical"}, "tag=退休", "ins=medical&tag=退休"),
    ],
)
def test_segments_read_one_index_and_count_one_counter(segment, index_dim, count_dim):
    parsed = audiences.Segment.model_validate(segment)
    assert parsed.index_dimension == index_dim
    assert parsed.count_dimension == count_dim
    assert parsed.district_codes == tuple(DISTRICTS)  # no district named: the whole city


def test_chunk_spec_survives_a_queue_message():
    chunk = audiences.plan_chunks(audiences.Segment(kind="person"), 3)[1]
    assert ChunkSpec.from_dict(chunk.to_dict()) == chunk


@pytest.mark.parametrize(("rows", "per_chunk"), [(0, 2), (1, 2), (5, 2), (6, 3), (7, 10)])
def test_import_file_is_cut_into_chunks_of_whole_lines(rows, per_chunk):
    text = "kind,id\n" + "".join(f"person,{i:05d}\n" for i in range(rows))
    data = text.encode()
    chunks = list(imports.chunk_bounds(imports.line_offsets(iter([data[:7], data[7:]])), len(data), per_chunk))
    assert sum(c[3] for c in chunks) == rows
    lines = []
    for start, end, first_line, count in chunks:
        piece = data[start:end].decode().splitlines()
        assert len(piece) == count
        lines.extend((first_line + i, line) for i, line in enumerate(piece))
    assert lines == [(i + 2, f"person,{i:05d}") for i in range(rows)]


def test_csv_rows_with_chinese_headers_and_names():
    fields = collection.header_columns(["类型", "证件号码", "姓名", "区县", "手机号码", "险种", "已核验", "标签"])
    record = collection.row_record(
        fields, ["参保人员", GOOD_ID, "张三", "文登区", "139 0000 0001", "养老保险、医疗保险", "是", "退休"]
    )
    contact, errors = collection.validate(record)
    assert errors == []
    assert contact.district == "wendeng" and contact.phones[0].verified is True
    assert [t.value for t in contact.insurance_types] == ["medical", "pension"]


def test_a_file_without_a_required_column_is_refused_by_name():
    with pytest.raises(Exception) as refused:
        collection.header_columns(["kind", "id", "name", "district"])
    assert "手机号码" in str(refused.value.message)


def test_rejected_rows_show_only_masked_values_and_a_reason():
    fields = collection.header_columns(["kind", "id", "name", "district", "phone"])
    lines = [
        (2, ["person", GOOD_ID, "张三", "wendeng", "13900000001"]),
        (3, ["person", BAD_CHECK_ID, "李四", "wendeng", "13900000002"]),
        (4, ["person", GOOD_ID, "王五", "wendeng", "1390000"]),
    ]
    accepted, rejected = imports.check_rows(["kind", "id", "name", "district", "phone"], lines)
    assert [line for line, _ in accepted] == [2]
    assert [row[0] for row in rejected] == ["3", "4"]
    assert "校验" in rejected[0][4] and "手机号码" in rejected[1][4]
    report = io.StringIO(str(rejected))
    for secret in (BAD_CHECK_ID, "13900000002", "1390000"):
        assert secret not in report.getvalue()
    assert rejected[0][2] == BAD_CHECK_ID[:3] + "*" * 13 + BAD_CHECK_ID[-2:]
    assert rejected[0][3] == "139****0002"
    assert fields[4] == "phone"


# ------------------------------------------------------------------ bulk writes

C1, C2, C3 = ("cnt#person#all", "wendeng#01"), ("cnt#person#ins=pension", "wendeng#01"), ("cnt#unit#all", "rushan#02")


@pytest.mark.parametrize(
    ("writes", "limit", "groups"),
    [
        pytest.param([], 25, [], id="nothing to write"),
        pytest.param([(3, [C1, C2])] * 4, 25, [[0, 1, 2, 3]], id="shared counters cost one action each"),
        pytest.param([(3, [C1, C2])] * 8, 25, [[0, 1, 2, 3, 4, 5, 6], [7]], id="7 x 3 items + 2 counters = 23"),
        pytest.param([(3, [C1]), (3, [C3]), (3, [C1])], 8, [[0, 1], [2]], id="a new counter costs an action"),
        pytest.param([(2, []), (30, [C1]), (2, [])], 25, [[0], [1], [2]], id="an oversized write stands alone"),
        pytest.param([(12, [C1]), (12, [C1])], 25, [[0, 1]], id="exactly at the limit"),
        pytest.param([(12, [C1]), (12, [C1, C2])], 25, [[0], [1]], id="one over the limit"),
    ],
)
def test_record_writes_are_packed_into_transactions_within_the_limit(writes, limit, groups):
    packed = list(records.pack_writes(writes, limit))
    assert packed == groups
    for group in packed:
        counters = {key for position in group for key in writes[position][1]}
        actions = sum(writes[position][0] for position in group) + len(counters)
        assert actions <= limit or len(group) == 1


def test_packing_reads_at_most_one_write_past_the_group_it_yields():
    read = []

    def writes():
        for position in range(10):
            read.append(position)
            yield 10, [C1]

    packing = records.pack_writes(writes(), 25)
    assert next(packing) == [0, 1] and read == [0, 1, 2]
    assert next(packing) == [2, 3] and read == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("changes", "total"),
    [
        ([{C1: 1, C2: 1}, {C1: 1}], {C1: 2, C2: 1}),
        ([{C1: 1}, {C1: -1, C3: 1}], {C3: 1}),  # one record joins, another leaves: no update at all
        ([], {}),
    ],
)
def test_a_groups_counter_moves_are_summed_per_counter(changes, total):
    assert records.sum_deltas(changes) == total


def test_records_sharing_kind_district_and_shard_share_a_counter_group():
    a = _contact("wendeng", ["pension"], [])
    key = records.counter_group_key("person", "wendeng", a.id_hash)
    assert key == ("person", "wendeng", int(a.id_hash[:8], 16) % records.COUNTER_SHARDS)
    assert {k[1] for k in records.counter_keys(a)} == {f"wendeng#{key[2]:02d}"}


# ------------------------------------------------------------------ channel batches


@pytest.mark.parametrize(("size", "refused"), [(1, False), (500, False), (501, True)])
def test_a_batch_holds_at_most_500_records(size, refused):
    from sms_platform.foundation.errors import PayloadTooLarge

    batch = [{"kind": "person"}] * size  # each one invalid, so nothing reaches storage
    if refused:
        with pytest.raises(PayloadTooLarge):
            collection.upsert_batch(batch, at=NOW)
    else:
        results = collection.upsert_batch(batch, at=NOW)
        assert [r.index for r in results] == list(range(size))
        assert {r.status for r in results} == {"rejected"}


@pytest.mark.parametrize(
    ("phones", "granted", "filled"),
    [
        ([{"number": "13900000001"}], ["kiosk"], ["kiosk"]),
        ([{"number": "13900000001", "source": ""}], ["kiosk"], ["kiosk"]),
        ([{"number": "13900000001", "source": "mobile_app"}], ["kiosk"], ["mobile_app"]),  # checked later
        ([{"number": "13900000001"}], ["kiosk", "mobile_app"], [None]),  # which one? left to refuse
    ],
)
def test_a_number_without_a_source_takes_the_keys_only_channel(phones, granted, filled):
    from sms_platform.contacts import channels

    record = channels.with_default_source(person(1, phones=phones), granted)
    assert [phone.get("source") for phone in record["phones"]] == filled


@pytest.mark.parametrize(
    ("sources", "granted", "refused"),
    [
        (["kiosk"], ["kiosk"], []),
        (["kiosk", "服务大厅"], ["kiosk"], ["phones.1.source"]),
        (["personal_online", "online_declaration"], ["online_declaration", "personal_online"], []),
        (["import"], ["kiosk"], ["phones.0.source"]),
    ],
)
def test_each_number_must_come_from_a_channel_granted_to_the_key(sources, granted, refused):
    from sms_platform.contacts import channels

    phones = [{"number": f"1390000000{i}", "source": source} for i, source in enumerate(sources)]
    contact, errors = collection.validate(person(1, phones=phones))
    assert errors == []
    assert [error["field"] for error in channels.source_errors(contact, granted)] == refused


@pytest.mark.parametrize(
    ("value", "code"), [("kiosk", "kiosk"), ("手机APP", "mobile_app"), ("12333", "hotline_12333"), ("wechat", None)]
)
def test_grants_name_a_source_channel_by_code_or_chinese_name(value, code):
    from sms_platform.contacts import channels
    from sms_platform.foundation.errors import ValidationFailed

    if code is None:
        with pytest.raises(ValidationFailed):
            channels.source_channel(value)
    else:
        assert channels.source_channel(value).value == code


def test_the_models_import_nothing_of_the_package_built_on_them():
    """Imports inside the package run one way, models -> records (-> repository...): the models
    module imports neither ``records`` nor anything that imports it, at its top or in a function."""
    import ast
    import inspect

    from sms_platform.contacts import models

    tree = ast.parse(inspect.getsource(models))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
    prefix = "sms_platform.contacts."
    own = {name.removeprefix(prefix) for name in imported if name.startswith(prefix)}
    assert own <= {"validation"}, own
    assert records.current_phone is models.current_phone  # one rule, named in both places
