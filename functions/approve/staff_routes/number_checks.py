"""Numbers to verify and blocked numbers (R10 ↔ R16): each district office's worklist of records
whose number failed permanently too often, with counts for the dashboard; confirming a number or
entering a new one; and the block list (黑名单).

Numbers travel only in request bodies; records are named by their opaque reference. The services
(``sms_platform.contacts.number_checks`` and ``number_blocks``) check districts, audit every
change and shape the answers.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from sms_platform.contacts.number_check_models import (
    BlockIn,
    BlockPage,
    NewNumberIn,
    NumberBlock,
    NumberCheckCounts,
    NumberCheckDone,
    NumberCheckPage,
)
from sms_platform.foundation.clock import get_clock
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["号码核实与黑名单"]
READ = (Role.city_operator, Role.city_reviewer, Role.district_operator)
WRITE = (Role.city_operator, Role.district_operator)


@router.get("/number-checks", summary="待核实号码名单（按区县，号码已脱敏）", tags=TAGS)
@allow(*READ)
def worklist(
    district: Annotated[str | None, Query(max_length=32, description="区县代码；区县用户默认本区县")] = None,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NumberCheckPage:
    from sms_platform.contacts import number_checks

    return number_checks.worklist(current_staff(), district, cursor=cursor, limit=limit)


@router.get("/number-checks/counts", summary="各区县待核实号码数量", tags=TAGS)
@allow(*READ)
def counts() -> NumberCheckCounts:
    from sms_platform.contacts import number_checks

    return number_checks.counts(current_staff())


@router.post("/number-checks/<ref>/confirmation", summary="号码有效：已联系本人核实", tags=TAGS)
@allow(*WRITE)
def confirm(ref: str) -> NumberCheckDone:
    from sms_platform.contacts import number_checks

    return number_checks.confirm(current_staff(), ref, now=get_clock().now())


@router.post("/number-checks/<ref>/new-number", summary="录入本人提供的新号码（号码放在请求体中）", tags=TAGS)
@allow(*WRITE)
def new_number(ref: str, body: Annotated[NewNumberIn, Body()]) -> NumberCheckDone:
    from sms_platform.contacts import number_checks

    return number_checks.replace_number(current_staff(), ref, body.phone, body.source, now=get_clock().now())


@router.get("/number-blocks", summary="黑名单（号码已脱敏）", tags=TAGS)
@allow(*WRITE)
def list_blocks(
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> BlockPage:
    from sms_platform.contacts import number_blocks

    return number_blocks.blocks(current_staff(), cursor=cursor, limit=limit)


@router.post("/number-blocks", summary="将号码列入黑名单（不再向其发送任何短信，须填写原因）", tags=TAGS)
@allow(*WRITE)
def block(body: Annotated[BlockIn, Body()]) -> NumberBlock:
    from sms_platform.contacts import number_blocks

    return number_blocks.block(current_staff(), body, now=get_clock().now())


@router.post("/number-blocks/release", summary="解除黑名单（须填写原因）", tags=TAGS)
@allow(*WRITE)
def unblock(body: Annotated[BlockIn, Body()]) -> NumberBlock:
    from sms_platform.contacts import number_blocks

    return number_blocks.unblock(current_staff(), body, now=get_clock().now())
