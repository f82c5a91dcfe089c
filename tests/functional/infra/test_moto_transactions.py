"""The test harness's cheaper moto transactions (infra/patches/transactions.py) still behave as
DynamoDB's: a cancelled transaction leaves every item as it was, a committed one writes all,
and what the transaction did not name is never touched. With the patches switched off
(PLATFORM_MOTO_PATCHES=off) they hold moto's own transactions to the same."""

from __future__ import annotations

import os

import boto3
import pytest


def _client():
    return boto3.client("dynamodb", region_name="us-east-1")


def _put(table: str, pk: str, sk: str, **values: int) -> dict:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"N": str(v)} for k, v in values.items()}}
    return {"Put": {"TableName": table, "Item": item}}


def _items(table: str) -> dict[tuple[str, str], dict]:
    found = _client().scan(TableName=table, ConsistentRead=True)["Items"]
    return {(i["pk"]["S"], i["sk"]["S"]): {k: v for k, v in i.items() if k not in ("pk", "sk")} for i in found}


@pytest.fixture
def table(aws):
    name = os.environ["SENDS_TABLE"]
    _client().transact_write_items(
        TransactItems=[_put(name, "a", "1", n=1), _put(name, "a", "2", n=2), _put(name, "b", "1", n=3)]
    )
    return name


def _update(table: str, pk: str, sk: str) -> dict:
    key = {"pk": {"S": pk}, "sk": {"S": sk}}
    values = {":one": {"N": "1"}}
    return {"Update": {"TableName": table, "Key": key, "UpdateExpression": "ADD n :one",
                       "ExpressionAttributeValues": values}}  # fmt: skip


@pytest.mark.parametrize(
    "first_op",
    ["update", "put_new", "put_over", "delete"],
)
def test_a_cancelled_transaction_leaves_every_item_as_it_was(table, first_op):
    before = _items(table)
    first = {
        "update": _update(table, "a", "1"),
        "put_new": _put(table, "c", "1", n=9),
        "put_over": _put(table, "a", "2", n=99),
        "delete": {"Delete": {"TableName": table, "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}},
    }[first_op]
    failing = {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "a"}, "sk": {"S": "3"}},
                                  "ConditionExpression": "attribute_exists(pk)"}}  # fmt: skip

    with pytest.raises(_client().exceptions.TransactionCanceledException) as refused:
        _client().transact_write_items(TransactItems=[first, failing])

    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert _items(table) == before
    # The table taken back is still a working table: later writes land, queries find them.
    _client().transact_write_items(TransactItems=[_update(table, "a", "1")])
    answer = _client().query(TableName=table, KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": "a"}}, ConsistentRead=True)  # fmt: skip
    assert [i["n"]["N"] for i in answer["Items"]] == ["2", "2"]


def test_a_committed_transaction_writes_every_item_and_nothing_else(table):
    _client().transact_write_items(
        TransactItems=[_update(table, "a", "1"), _put(table, "c", "1", n=7),
                       {"Delete": {"TableName": table, "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}]
    )  # fmt: skip

    expected = {("a", "1"): {"n": {"N": "2"}}, ("a", "2"): {"n": {"N": "2"}}, ("c", "1"): {"n": {"N": "7"}}}
    assert _items(table) == expected


def test_an_item_named_twice_is_refused_and_nothing_changes(table):
    before = _items(table)

    with pytest.raises(_client().exceptions.ClientError) as refused:
        _client().transact_write_items(TransactItems=[_update(table, "a", "1"), _update(table, "a", "1")])

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert _items(table) == before


def test_a_cancelled_transaction_leaves_a_table_without_range_key_as_it_was(aws):
    """The frequency counters' table has a hash key only: a counter the cancelled transaction
    created is gone again, one it added to holds its old value."""
    name = os.environ["LIMITS_TABLE"]
    _client().put_item(TableName=name, Item={"pk": {"S": "old"}, "n": {"N": "1"}})
    add = {":one": {"N": "1"}}
    refused_transaction = [
        {"Update": {"TableName": name, "Key": {"pk": {"S": "old"}}, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": add}},
        {"Update": {"TableName": name, "Key": {"pk": {"S": "new"}}, "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": add}},
        {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "absent"}},
                            "ConditionExpression": "attribute_exists(pk)"}},
    ]  # fmt: skip

    with pytest.raises(_client().exceptions.TransactionCanceledException):
        _client().transact_write_items(TransactItems=refused_transaction)

    items = _client().scan(TableName=name, ConsistentRead=True)["Items"]
    assert items == [{"pk": {"S": "old"}, "n": {"N": "1"}}]
