"""Reading every page of a DynamoDB query or scan, so no store writes its own
``LastEvaluatedKey`` loop."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def pages(call: Callable[..., dict[str, Any]], **arguments: Any) -> Iterator[dict[str, Any]]:
    """Each answer of ``call`` (a table's or client's ``query`` or ``scan``) from the first page
    to the last, following ``LastEvaluatedKey``."""
    while True:
        answer = call(**arguments)
        yield answer
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        arguments = {**arguments, "ExclusiveStartKey": last}


def items(call: Callable[..., dict[str, Any]], **arguments: Any) -> Iterator[dict[str, Any]]:
    """Every item ``call`` finds, page after page."""
    for answer in pages(call, **arguments):
        yield from answer.get("Items", [])
