"""powertools Idempotency over ``IDEMPOTENCY_TABLE``, wired the same way for every handler that
uses it (business events, payments, contact batches).

powertools is imported on first use, not at the handler's import, so a cold start that never
reaches an idempotent path does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sms_platform import aws
from sms_platform.foundation.settings import settings


def idempotent(
    function: Callable[..., Any],
    *,
    data_keyword_argument: str,
    expires_after_seconds: int,
    key_path: str | None = None,
    hash_function: str = "md5",
) -> tuple[Callable[..., Any], Any]:
    """``function`` made idempotent on its keyword argument ``data_keyword_argument``, and the
    ``IdempotencyConfig`` the handler registers its Lambda context with.

    ``key_path`` is the JMESPath of the key inside that argument; ``None`` keys on a hash of the
    whole argument. ``hash_function`` is powertools' (md5 unless told): the record's key is its
    hash of the key, so a caller keeps the one its records were written with. The key also
    names ``function``'s module and qualified name, so callers keep those stable too: a renamed
    function would not find the records written before.
    """
    # deferred: the idempotency utility costs ~34 ms of the intakes' cold import (they make it on first use)
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    persistence = DynamoDBPersistenceLayer(
        table_name=settings().value("IDEMPOTENCY_TABLE"), boto3_client=aws.client("dynamodb")
    )
    options: dict[str, Any] = {"expires_after_seconds": expires_after_seconds, "hash_function": hash_function}
    if key_path is not None:
        options["event_key_jmespath"] = key_path
    config = IdempotencyConfig(**options)
    wrapped = idempotent_function(
        data_keyword_argument=data_keyword_argument, persistence_store=persistence, config=config
    )(function)
    return wrapped, config
