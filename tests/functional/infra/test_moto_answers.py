"""moto answers the same with ``infra.patches.serializer``'s shortcut through its serializer.

Each call runs twice against the same moto state: with moto's own way of picking values and with
the shortcut; the wire answers must be identical, byte for byte. The shortcut is installed here
whether the patches are switched on or not, and taken away again if this test installed it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.serialize import ResponseSerializer

from infra.patches import serializer


@pytest.fixture
def answers() -> Iterator[list[bytes]]:
    """Every serialised body moto produces during the test."""
    installed_here = serializer.apply()
    bodies: list[bytes] = []
    serialize = ResponseSerializer.serialize

    def recording(self: Any, result: Any) -> Any:
        answer = serialize(self, result)
        bodies.append(answer["body"] if isinstance(answer["body"], bytes) else str(answer["body"]).encode())
        return answer

    ResponseSerializer.serialize = recording  # type: ignore[method-assign]
    try:
        yield bodies
    finally:
        ResponseSerializer.serialize = serialize  # type: ignore[method-assign]
        if installed_here:
            serializer.undo()


def _general_way() -> Any:
    """Turn the shortcut off for a while: moto's own ``get_value`` underneath it."""
    shortcut = ResponseSerializer.get_value
    return shortcut, shortcut.general  # type: ignore[attr-defined]


ITEM = {
    "pk": {"S": "msg#1"},
    "sk": {"S": "msg"},
    "count": {"N": "3"},
    "blob": {"B": base64.b64decode("AAEC")},
    "tags": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2"]},
    "blobs": {"BS": [b"x", b"y"]},
    "nested": {"M": {"list": {"L": [{"S": "x"}, {"BOOL": True}, {"NULL": True}]}}},
}


def _calls(region: str = "us-east-1") -> None:
    dynamodb = boto3.client("dynamodb", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    dynamodb.describe_table(TableName="t")
    dynamodb.get_item(TableName="t", Key={"pk": {"S": "msg#1"}, "sk": {"S": "msg"}})
    dynamodb.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "msg#1"}, "sk": {"S": "msg"}}]}})
    dynamodb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "msg#1"}})
    dynamodb.update_item(
        TableName="t",
        Key={"pk": {"S": "msg#1"}, "sk": {"S": "msg"}},
        UpdateExpression="SET seen = :s",
        ExpressionAttributeValues={":s": {"S": "yes"}},
        ReturnValues="ALL_NEW",
    )
    url = sqs.get_queue_url(QueueName="q")["QueueUrl"]
    sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])


def test_moto_answers_byte_for_byte_the_same_with_the_shortcut(answers: list[bytes]) -> None:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.put_item(TableName="t", Item={**ITEM, "seen": {"S": "yes"}})  # as the update leaves it
        boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="q")
        shortcut, general = _general_way()
        assert shortcut is not general  # the shortcut is installed

        answers.clear()
        _calls()
        with_shortcut = list(answers)

        answers.clear()
        ResponseSerializer.get_value = general  # type: ignore[method-assign]
        try:
            _calls()
        finally:
            ResponseSerializer.get_value = shortcut  # type: ignore[method-assign]
        the_general_way = list(answers)

    assert len(with_shortcut) >= 6
    assert with_shortcut == the_general_way
