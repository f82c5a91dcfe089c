"""The replies inbox: citizens' replies to the platform's messages that are not opt-outs (those
are applied automatically), month by month, newest first, with the number masked.

Who reads it: the city office's operators and reviewers, who publish the notices citizens answer,
and the 12333 centre's manager and agents, who answer citizens' questions. The IT office, the
districts and auditors do not: a reply is a citizen's own words (R15), and auditors see what staff
did through the audit trail instead.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from sms_platform.sending import inbox
from sms_platform.sending.inbox import Replies
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow

router = Router()
TAGS = ["市民回复"]
READERS = (Role.city_operator, Role.city_reviewer, Role.hotline_manager, Role.hotline_agent)


@router.get("/replies", summary="市民回复收件箱（不含退订回复）", tags=TAGS)
@allow(*READERS)
def list_replies(
    month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="月份（北京时间）YYYY-MM")],
    cursor: Annotated[str | None, Query(max_length=4096, description="上一页返回的翻页标记")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Replies:
    return inbox.replies(month, limit=limit, cursor=cursor)
