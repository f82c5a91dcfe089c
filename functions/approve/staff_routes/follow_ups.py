"""Follow-up sends (对未送达人员再次发送): how many of a released send's recipients it did not
reach (failed or undeliverable), and a new send request to only those, proposed by an operator of
the office that made the send and reviewed like any other.

``sms_platform.sources.follow_ups`` finds the recipients, checks the office and proposes the
request (audited as a submitted send request naming the send it follows).
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from sms_platform.foundation.clock import get_clock
from sms_platform.sources.follow_up_models import REQUEST_ID, FollowUpIn, FollowUpPreview
from sms_platform.sources.send_request_models import SendRequest
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["发送申请"]
PROPOSERS = (Role.city_operator, Role.district_operator)


# The send it follows up is named in the query, not the path: its 404 is declared here.
@router.get(
    "/follow-ups/preview",
    summary="对未送达人员再次发送：原发送未送达的人数",
    tags=TAGS,
    responses={200: {"description": "原发送未送达的人数"}, 404: {"description": "原发送申请不存在或无权查看"}},
)
@allow(*PROPOSERS)
def preview(of: Annotated[str, Query(pattern=REQUEST_ID, description="原发送申请编号")]) -> FollowUpPreview:
    from sms_platform.sources import follow_ups

    return follow_ups.preview(current_staff(), of)


@router.post("/follow-ups", summary="对未送达人员再次发送：提交新的发送申请（同样须经审核）", tags=TAGS)
@allow(*PROPOSERS)
def propose(body: Annotated[FollowUpIn, Body()]) -> SendRequest:
    from sms_platform.sources import follow_ups

    return follow_ups.propose(current_staff(), body, now=get_clock().now())
