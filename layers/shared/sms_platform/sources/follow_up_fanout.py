"""The fan-out of a follow-up send: the stored pages of its recipients' address-book references
(``follow_up_store``), each page looked up in the address book when its turn comes, so every
recipient is reached at the number in use then, a number entered since the first send included.

Chunks are ranges of those pages (``ChunkSpec``'s list range, in pages); a page's cursor names the
next page. A record gone from the address book or left without a number counts as skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sms_platform.contacts import lookups
from sms_platform.contacts.chunks import ChunkSpec, Page
from sms_platform.sources import follow_up_store
from sms_platform.sources.send_request_models import SendRequest, chunk_count


def plan_chunks(request: SendRequest, per_chunk: int) -> list[ChunkSpec]:
    """Parallel chunks of similar size over the follow-up's pages of recipients."""
    stored = follow_up_store.page_count(request.audience_size)
    n = max(1, min(chunk_count(request.audience_size, per_chunk), stored))
    bounds = [round(i * stored / n) for i in range(n + 1)]
    return [ChunkSpec(list_start=bounds[i], list_end=bounds[i + 1]) for i in range(n)]


def pages(request: SendRequest, chunk: ChunkSpec, cursor: dict[str, Any] | None) -> Iterator[Page]:
    """The chunk's recipients a stored page at a time, each page with the cursor to resume after it."""
    end = int(chunk.list_end or 0)
    first = int(cursor["page"]) if cursor else int(chunk.list_start or 0)
    if first >= end:
        yield Page([], None)
        return
    for page in range(first, end):
        recipients, skipped = lookups.recipients_by_refs(follow_up_store.refs_page(request.request_id, page))
        yield Page(recipients, {"page": page + 1} if page + 1 < end else None, skipped)
