"""The audit trail on moto: chained entries, tamper detection, search, nightly archive, concurrency."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sms_platform.audit import archive as audit_archive
from sms_platform.audit import chain as audit_chain
from sms_platform.audit import search as audit_search
from sms_platform.audit import store, trail
from sms_platform.audit.__main__ import main
from sms_platform.foundation.clock import BEIJING, FixedClock, set_clock

from tests.events import schedule_event

DAY = date(2024, 5, 10)
START = datetime(2024, 5, 10, 9, 0, tzinfo=BEIJING)


def staff(account_id: str, office: str, *roles: str) -> audit_chain.AuditActor:
    return audit_chain.AuditActor(account_id, f"user-{account_id}", f"职员{account_id}", tuple(roles), office)


REVIEWER = staff("a-rev", "city", "city_reviewer")
OPERATOR = staff("a-op", "city", "city_operator")
DISTRICT = staff("a-hc", "huancui", "district_operator")


@pytest.fixture
def clock(aws):
    fixed = FixedClock(START)
    set_clock(fixed)
    yield fixed
    set_clock(None)


def audit_items(aws_env, chain: str | None = None) -> list[dict]:
    from sms_platform import aws as platform_aws

    table = platform_aws.table(os.environ["AUDIT_TABLE"])
    items = table.scan()["Items"]
    return sorted((i for i in items if chain is None or i["pk"] == chain), key=lambda i: (i["pk"], i["sk"]))


def test_entries_are_chained_and_verify(clock):
    first = trail.record(OPERATOR, "template.create", "template:T1:v1", after={"text": "您好"})
    clock.advance(seconds=1)
    second = trail.record(OPERATOR, "template.submit", "template:T1:v1", before={"status": "draft"})
    clock.advance(seconds=1)
    third = trail.record(OPERATOR, "template.update", "template:T1:v1", before={"a": 1}, after={"a": 2})

    assert first["chain"] == second["chain"] == third["chain"]  # same writer and target, same shard
    assert [first["seq"], second["seq"], third["seq"]] == [1, 2, 3]
    assert first["prev_hash"] == audit_chain.GENESIS
    assert second["prev_hash"] == first["hash"] and third["prev_hash"] == second["hash"]
    assert third["actor"]["real_name"] == "职员a-op" and third["actor"]["roles"] == ["city_operator"]
    assert third["office"] == "city" and third["template_id"] == "T1"
    assert third["before"] == {"a": 1} and third["after"] == {"a": 2}
    assert third["at"] == "2024-05-10T01:00:02.000000Z"
    assert trail.verify(DAY) is None


def test_chains_are_sharded_per_day_and_writer(clock):
    chains = {trail.record(staff(f"u{n}", "city", "city_operator"), "x.do", f"thing:{n}")["chain"] for n in range(40)}
    assert len(chains) > 1
    assert all(chain.startswith("chain#2024-05-10#") for chain in chains)
    clock.advance(days=1)
    assert trail.record(OPERATOR, "x.do", "thing:1")["chain"].startswith("chain#2024-05-11#")


def _tamper_after(item, table):
    table.update_item(
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET #a = :v",
        ExpressionAttributeNames={"#a": "after"},
        ExpressionAttributeValues={":v": '{"status":"approved"}'},
    )


def _tamper_actor(item, table):
    table.update_item(
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET actor.real_name = :v",
        ExpressionAttributeValues={":v": "别人"},
    )


def _delete(item, table):
    table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})


def _rehash(item, table):
    # An editor who also recomputes the entry's own hash still breaks the next entry's link.
    body = audit_chain.body_of(item)
    body["action"] = "template.nothing"
    table.update_item(
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET #a = :a, #h = :h",
        ExpressionAttributeNames={"#a": "action", "#h": "hash"},
        ExpressionAttributeValues={":a": "template.nothing", ":h": audit_chain.entry_hash(body)},
    )


def _hide_from_operator_search(item, table):
    table.update_item(
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET gsi1pk = :v",
        ExpressionAttributeValues={":v": "operator#someone-else"},
    )


@pytest.mark.parametrize(
    ("tamper", "broken_seq", "reason"),
    [
        (_tamper_after, 2, "hash_mismatch"),
        (_tamper_actor, 2, "hash_mismatch"),
        (_delete, 2, "sequence_gap"),
        (_rehash, 3, "prev_hash_mismatch"),
        (_hide_from_operator_search, 2, "index_mismatch"),
    ],
)
def test_a_tampered_entry_is_found_by_verification(clock, aws, tamper, broken_seq, reason, capsys):
    from sms_platform import aws as platform_aws

    entries = []
    for n in range(4):
        clock.advance(seconds=1)
        entries.append(trail.record(REVIEWER, "template.approve", "template:T9:v1", after={"n": n}))
    # Another chain the same day stays intact and does not hide the break.
    trail.record(DISTRICT, "template.create", "template:T8:v1")
    assert trail.verify(DAY) is None

    table = platform_aws.table(os.environ["AUDIT_TABLE"])
    target = next(i for i in audit_items(aws, entries[0]["chain"]) if int(i["seq"]) == 2)
    tamper(target, table)

    broken = trail.verify(DAY)
    assert broken is not None
    assert (broken.chain, broken.seq, broken.reason) == (entries[0]["chain"], broken_seq, reason)

    assert main(["verify", "--day", DAY.isoformat()]) == 1
    assert f"第 {broken_seq} 条" in capsys.readouterr().out


def test_verify_command_reports_an_intact_day(clock, capsys):
    trail.record(OPERATOR, "signature.update", "signature:city")
    assert main(["verify", "--day", DAY.isoformat()]) == 0
    assert "完整" in capsys.readouterr().out


@pytest.fixture
def atomic_conditional_puts(monkeypatch):
    """DynamoDB checks a put's condition and writes in one step; moto does not when threads
    race, so two writers could both "win" one sequence number. Make moto's step atomic."""
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.Lock()
    original = DynamoDBBackend.put_item

    def put_item(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "put_item", put_item)


def test_concurrent_appends_keep_every_chain_whole(clock, atomic_conditional_puts):
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for k in range(6):
                trail.record(OPERATOR, "template.view", "template:T1", after={"writer": n, "k": k})
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    chain = audit_chain.chain_key(DAY, audit_chain.shard_of("a-op#template:T1"))
    seqs = [int(item["seq"]) for item in store.chain_items(chain)]
    assert seqs == list(range(1, 37)), chain
    assert trail.verify(DAY) is None


def test_an_append_that_loses_the_race_retries_on_the_new_head(clock, monkeypatch):
    trail.record(OPERATOR, "template.view", "template:T1")
    real_head = store.head
    raced = []

    def head_then_someone_else_writes(chain):
        head = real_head(chain)
        if not raced:
            raced.append(True)
            trail.record(OPERATOR, "template.view", "template:T1", after={"other": True})
        return head

    monkeypatch.setattr(store, "head", head_then_someone_else_writes)
    mine = trail.record(OPERATOR, "template.view", "template:T1", after={"mine": True})
    assert mine["seq"] == 3
    assert trail.verify(DAY) is None


def test_send_batches_are_one_entry_each_with_masked_numbers(clock):
    entry = trail.record_send(
        batch_id="B1-0001",
        source="broadcast:B1",
        office="wendeng",
        template_id="T5",
        template_version=2,
        lane="bulk",
        signature="文登区社会保险事业中心",
        recipients=["13812341234", "13912345678"],
    )
    assert entry["action"] == "send.queued" and entry["target"] == "batch:B1-0001"
    assert entry["actor"]["account_id"] == "system"
    assert entry["after"]["recipients"] == ["138****1234", "139****5678"]
    assert entry["after"]["recipient_count"] == 2
    stored = json.dumps(audit_items(None), default=str, ensure_ascii=False)
    assert "13812341234" not in stored and "13912345678" not in stored


def test_snapshots_never_keep_phone_or_id_numbers_in_clear(clock):
    entry = trail.record(DISTRICT, "contact.update", "contact:C1", before={"phone": "13812341234"})
    assert entry["before"] == {"phone": "138****1234"}


def test_snapshots_keep_identifiers_whose_hex_digits_look_like_a_phone_number(clock):
    after = {"template_id": "tpl-c16675232156", "rule_id": "16675232156e"}
    entry = trail.record(DISTRICT, "trigger_rule.create", "trigger_rule:16675232156e", after=after)
    assert entry["after"] == after


def _seed_search(clock):
    entries = []
    plan = [
        (OPERATOR, "template:T1:v1", "city"),
        (DISTRICT, "template:T2:v1", "huancui"),
        (REVIEWER, "template:T1:v1", "city"),
        (DISTRICT, "contact:C9", "huancui"),
        (OPERATOR, "template:T2:v1", "huancui"),
        (REVIEWER, "template:T2:v1", "huancui"),
    ]
    for actor, target, office in plan:
        clock.advance(minutes=10)
        entries.append(trail.record(actor, "x.act", target, office=office))
    return entries


def _all_pages(query: audit_search.AuditQuery) -> list[dict]:
    found = []
    while True:
        page = audit_search.search(query)
        assert len(page.entries) <= query.limit
        found.extend(page.entries)
        if not page.cursor:
            return found
        query.cursor = page.cursor


def _ids(entries):
    return [(e["actor"]["account_id"], e["target"], e["office"]) for e in entries]


@pytest.mark.parametrize("limit", [1, 50])
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [0, 1, 2, 3, 4, 5]),
        ({"operator": "a-hc"}, [1, 3]),
        ({"office": "huancui"}, [1, 3, 4, 5]),
        ({"template_id": "T2"}, [1, 4, 5]),
        ({"operator": "a-rev", "template_id": "T2"}, [5]),
        ({"office": "huancui", "operator": "a-op"}, [4]),
        ({"office": "city", "template_id": "T1"}, [0, 2]),
    ],
)
def test_search_by_operator_office_template_and_time(clock, filters, expected, limit):
    entries = _seed_search(clock)
    query = audit_search.AuditQuery(start=START, end=START + timedelta(hours=2), limit=limit, **filters)
    assert _ids(_all_pages(query)) == _ids([entries[n] for n in expected])


def test_search_time_range_cuts_both_ends_and_spans_days(clock):
    entries = _seed_search(clock)
    window = audit_search.AuditQuery(start=START + timedelta(minutes=25), end=START + timedelta(minutes=45))
    assert _ids(_all_pages(window)) == _ids(entries[2:4])
    clock.advance(days=1)
    later = trail.record(OPERATOR, "x.act", "template:T1:v2")
    two_days = audit_search.AuditQuery(start=START, end=START + timedelta(days=2), limit=4)
    assert _ids(_all_pages(two_days)) == _ids([*entries, later])


@pytest.mark.parametrize(
    ("start", "end", "limit", "cursor", "message"),
    [
        (START, START - timedelta(hours=1), 10, None, "结束时间不能早于开始时间"),
        (START, START + timedelta(days=400), 10, None, "一次最多查询"),
        (START, START + timedelta(hours=1), 0, None, "每页条数"),
        (START, START + timedelta(hours=1), 10, "not-a-cursor!", "无效的翻页标记"),
    ],
)
def test_bad_searches_are_refused_clearly(clock, start, end, limit, cursor, message):
    from sms_platform.foundation.errors import PlatformError

    with pytest.raises(PlatformError) as refused:
        audit_search.search(audit_search.AuditQuery(start=start, end=end, limit=limit, cursor=cursor))
    assert message in refused.value.message
    assert 400 <= refused.value.status < 500


def test_nightly_export_lands_in_the_locked_archive_with_the_chain(clock, aws, lambda_context):
    import archive
    from sms_platform import aws as platform_aws

    for n in range(5):
        trail.record(staff(f"u{n}", "city", "city_operator"), "x.act", f"template:T{n}:v1", after={"n": n})
    clock.set(datetime(2024, 5, 11, 0, 30, tzinfo=BEIJING))  # the nightly run, next day
    answer = archive.handler(schedule_event(), lambda_context)
    assert answer["day"] == "2024-05-10" and answer["entries"] == 5 and answer["verified"] is True

    s3 = platform_aws.client("s3")
    bucket = aws.environment["ARCHIVE_BUCKET"]
    obj = s3.get_object(Bucket=bucket, Key=answer["key"])
    lines = [json.loads(line) for line in obj["Body"].read().decode().splitlines()]
    header, entries = lines[0], lines[1:]
    assert header["type"] == "audit-archive" and header["day"] == "2024-05-10" and header["verified"] is True
    assert len(entries) == 5
    for chain in header["chains"]:
        links = [e for e in entries if e["chain"] == chain["chain"]]
        assert links[0]["prev_hash"] == audit_chain.GENESIS
        assert all(b["prev_hash"] == a["hash"] for a, b in zip(links, links[1:], strict=False))
        assert links[-1]["hash"] == chain["head_hash"]

    head = s3.head_object(Bucket=bucket, Key=answer["key"])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = head["ObjectLockRetainUntilDate"]
    assert until.astimezone(UTC).date() == (clock.now() + timedelta(days=1825)).date()

    # A second run with nothing new writes nothing; a late entry adds a version, never overwrites.
    assert archive.handler({"day": "2024-05-10"}, lambda_context)["written"] is False
    clock.set(datetime(2024, 5, 10, 23, 59, tzinfo=BEIJING))
    trail.record(OPERATOR, "x.late", "template:T1:v1")
    assert archive.handler({"day": "2024-05-10"}, lambda_context)["written"] is True
    versions = s3.list_object_versions(Bucket=bucket, Prefix=answer["key"])["Versions"]
    assert len(versions) == 2


def test_archived_entry_hashes_recompute(clock, aws):
    trail.record(OPERATOR, "x.act", "template:T1:v1", before={"s": "draft"}, after={"s": "submitted"})
    lines, count, broken = audit_archive.archive_lines(DAY, clock.now())
    entry = json.loads(lines[1])
    body = {k: v for k, v in entry.items() if k not in ("hash", "type")}
    for name in ("before", "after"):
        body[name] = audit_chain.canonical_json(body[name])
    assert count == 1 and broken is None
    assert audit_chain.entry_hash(body) == entry["hash"]


def test_auditors_search_and_verify_through_the_staff_api(clock, aws):
    from sms_platform import aws as platform_aws
    from sms_platform.staff.context import Office, Role

    from tests.staff_calls import call, member

    auditor = member("aud", Office.city, Role.auditor)
    for n in range(3):
        clock.advance(minutes=1)
        trail.record(DISTRICT, "template.create", f"template:T{n}:v1")
    query = {"start": START.isoformat(), "end": (START + timedelta(hours=1)).isoformat(), "limit": "2"}

    first = call(auditor, "GET", "/v1/staff/audit/entries", query={**query, "office": "huancui"})
    assert first.status == 200 and len(first.body["entries"]) == 2 and first.body["cursor"]
    rest = call(
        auditor, "GET", "/v1/staff/audit/entries", query={**query, "office": "huancui", "cursor": first.body["cursor"]}
    )
    assert [e["target"] for e in first.body["entries"] + rest.body["entries"]] == [
        "template:T0:v1",
        "template:T1:v1",
        "template:T2:v1",
    ]
    assert rest.body["cursor"] is None

    others = [
        member("op", Office.city, Role.city_operator),
        member("rev", Office.city, Role.city_reviewer),
        member("adm", Office.it, Role.permission_admin),
    ]
    for who in others:
        assert call(who, "GET", "/v1/staff/audit/entries", query=query).status == 403
        assert call(who, "GET", "/v1/staff/audit/verification", query={"day": DAY.isoformat()}).status == 403
    assert call(auditor, "GET", "/v1/staff/audit/entries", query={"start": "yesterday"}).status == 422

    intact = call(auditor, "GET", "/v1/staff/audit/verification", query={"day": DAY.isoformat()})
    assert intact.status == 200 and intact.body == {"day": "2024-05-10", "intact": True, "broken": None}
    item = next(i for i in audit_items(aws) if int(i["seq"]) == 2)
    platform_aws.table(os.environ["AUDIT_TABLE"]).update_item(
        Key={"pk": item["pk"], "sk": item["sk"]},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "target"},
        ExpressionAttributeValues={":t": "template:T9:v1"},
    )
    broken = call(auditor, "GET", "/v1/staff/audit/verification", query={"day": DAY.isoformat()})
    assert broken.body["intact"] is False
    assert (broken.body["broken"]["seq"], broken.body["broken"]["reason"]) == (2, "hash_mismatch")


def test_an_auditors_export_is_the_archive_and_audits_itself_at_the_time_given(clock, aws):
    from sms_platform.foundation.errors import ValidationFailed

    auditor = staff("aud", "city", "auditor")
    trail.record(OPERATOR, "x.act", "template:T1:v1", after={"s": "submitted"})
    at = clock.now() + timedelta(minutes=3)  # the service's now, not the platform's clock
    expected, count, _ = audit_archive.archive_lines(DAY, at)

    exported = audit_archive.export(auditor, DAY, now=at)
    with pytest.raises(ValidationFailed, match="未来日期") as refused:
        audit_archive.export(auditor, DAY + timedelta(days=1), now=at)

    assert exported.lines == expected and (exported.entries, exported.verified) == (count, True) == (1, True)
    assert exported.body == "\n".join(expected) + "\n" and exported.filename == "audit-2024-05-10.jsonl"
    assert refused.value.field == "day"
    [entry] = [i for i in audit_items(aws) if i["action"] == "audit.export"]  # the refused export left none
    assert (entry["target"], entry["office"], entry.get("before")) == ("audit-day:2024-05-10", "city", None)
    assert json.loads(entry["after"]) == {"entries": 1, "verified": True}
    assert entry["at"] == audit_chain.time_key(at)
