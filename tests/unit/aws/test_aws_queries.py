"""Reading every page of a query (``sms_platform.aws.queries``) and reading error codes."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from sms_platform import aws
from sms_platform.aws import queries


class PagedTable:
    """A query answering ``pages`` one after another, recording the start key of each call."""

    def __init__(self, pages: list[list[int]]) -> None:
        self.pages, self.starts = pages, []

    def query(self, **arguments):
        self.starts.append(arguments.get("ExclusiveStartKey"))
        index = len(self.starts) - 1
        answer = {"Items": self.pages[index]}
        if index + 1 < len(self.pages):
            answer["LastEvaluatedKey"] = {"pk": f"after-{index}"}
        return answer


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ([[1, 2]], [1, 2]),
        ([[1], [], [2, 3]], [1, 2, 3]),  # an empty page in the middle is not the end
        ([[]], []),
    ],
)
def test_items_follow_every_page(pages, expected):
    table = PagedTable(pages)
    assert list(queries.items(table.query, KeyConditionExpression="pk = :p")) == expected
    assert table.starts == [None] + [{"pk": f"after-{n}"} for n in range(len(pages) - 1)]


@pytest.mark.parametrize(
    ("error", "code", "condition"),
    [
        (
            ClientError({"Error": {"Code": "ConditionalCheckFailedException"}}, "PutItem"),
            "ConditionalCheckFailedException",
            True,
        ),
        (ClientError({"Error": {"Code": "ValidationException"}}, "Query"), "ValidationException", False),
        (ValueError("not from AWS"), "", False),
    ],
)
def test_error_codes_are_read_from_the_answer(error, code, condition):
    assert aws.error_code(error) == code
    assert aws.condition_failed(error) is condition
