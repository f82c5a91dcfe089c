"""The recipients of follow-up send requests in ``SENDS_TABLE``; the only code that touches them.

``pk = "followup#<request id>"``, ``sk = "r#<nnnn>"``: a page of up to ``REFS_PER_PAGE`` address-book
references (opaque keyed-hash references, never an ID number or a phone number in clear), written
once when the follow-up is proposed; the fan-out reads them page by page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sms_platform import aws
from sms_platform.foundation.settings import settings

REFS_PER_PAGE = 100


def _table() -> Any:
    return aws.table(settings().sends_table)


def _key(request_id: str, page: int) -> dict[str, str]:
    return {"pk": f"followup#{request_id}", "sk": f"r#{page:05d}"}


def page_count(recipients: int) -> int:
    return -(-recipients // REFS_PER_PAGE)


def save_refs(request_id: str, refs: Sequence[str]) -> int:
    """Keep the follow-up's recipients, a page an item; how many pages."""
    with _table().batch_writer() as batch:
        for page, start in enumerate(range(0, len(refs), REFS_PER_PAGE)):
            batch.put_item(Item={**_key(request_id, page), "refs": list(refs[start : start + REFS_PER_PAGE])})
    return page_count(len(refs))


def refs_page(request_id: str, page: int) -> list[str]:
    """The references of one page (none when there is no such page)."""
    item = _table().get_item(Key=_key(request_id, page), ConsistentRead=True).get("Item")
    return list(item.get("refs") or []) if item else []
