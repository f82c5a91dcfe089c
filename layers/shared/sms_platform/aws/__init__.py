"""boto3 clients and tables, made once per process and reused across invocations.

Only repositories and a few adapters (queues, secrets, storage) call these; code above them
never touches boto3. ``AWS_ENDPOINT_URL`` (honoured by boto3 itself) points them at moto
locally. Tests call ``reset()`` when they start a fresh moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _session() -> Any:
    import boto3  # deferred: ~18 ms of a handler's cold import (botocore is there already), paid on first use

    return boto3.session.Session()


@cache
def client(service: str) -> Any:
    from botocore.config import Config  # deferred with boto3 (see _session)

    config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2, read_timeout=10)
    return _session().client(service, config=config)


@cache
def table(name: str) -> Any:
    """The DynamoDB table ``name`` (callers pass a name from ``foundation.settings``, which
    this package sits below)."""
    if not name:
        raise ValueError("no table name: its variable is not set (see foundation.settings)")
    return _session().resource("dynamodb").Table(name)


def error_code(error: Exception) -> str:
    """The AWS error code of a refused call (``""`` for any other exception): the one place
    that reads it, so callers compare codes, never message texts."""
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def condition_failed(error: Exception) -> bool:
    """Whether a DynamoDB call was refused because its condition did not hold."""
    return error_code(error) == "ConditionalCheckFailedException"


def put_new(table: Any, item: dict[str, Any]) -> bool:
    """Write ``item`` unless an item with its key is there; False when one was (written first by
    another writer, or by an earlier try of the same work)."""
    try:
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except Exception as error:
        if condition_failed(error):
            return False
        raise
    return True


def reset() -> None:
    """Forget cached clients (tests start a new moto for each case)."""
    table.cache_clear()
    client.cache_clear()
    _session.cache_clear()
