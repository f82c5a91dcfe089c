"""Send requests (R5, R7): targeted notices and publicity proposed by an office, approved by a
city reviewer who is not the author, released at their time, cancelled or stopped.

Every change is made and audited by ``sms_platform.sources.send_requests`` itself; an author's
phone for test sends is proved in ``sms_platform.sources.staff_phones``.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from pydantic import BaseModel, ConfigDict, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.foundation.text_rules import Visible
from sms_platform.foundation.validation_messages import labels
from sms_platform.reports import delivery_reports
from sms_platform.sources import send_requests, staff_phones
from sms_platform.sources.send_request_models import (
    RequestDetail,
    RequestList,
    SendRequest,
    SendRequestIn,
    TestSendOut,
)
from sms_platform.sources.staff_phones import StaffPhoneOut
from sms_platform.staff.context import Role
from sms_platform.staff.rights import allow, current_staff

router = Router()
TAGS = ["发送申请"]
PROPOSERS = (Role.city_operator, Role.district_operator)
READERS = (Role.city_operator, Role.district_operator, Role.city_reviewer, Role.auditor)


class ReasonIn(BaseModel):
    reason: Annotated[str, Visible("原因", multiline=True)] = Field(min_length=2, max_length=300)


class PhoneIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"phone": "手机号码"}))

    phone: str = Field(min_length=11, max_length=20, description="接收测试短信的本人手机号")


class CodeIn(BaseModel):
    model_config = ConfigDict(field_title_generator=labels({"code": "验证码"}))

    code: str = Field(pattern=r"^\d{6}$")


@router.post("/send-requests", summary="提交发送申请（定向通知或宣传公告）", tags=TAGS)
@allow(*PROPOSERS)
def propose(body: Annotated[SendRequestIn, Body()]) -> SendRequest:
    return send_requests.propose(current_staff(), body, now=get_clock().now())


@router.get("/send-requests", summary="发送申请列表", tags=TAGS)
@allow(*READERS)
def list_requests(status: Annotated[str | None, Query()] = None) -> RequestList:
    return send_requests.list_requests(current_staff(), status, now=get_clock().now())


@router.get("/send-requests/<request_id>", summary="发送申请详情：样例、对象数量、条数、时间与发送进度", tags=TAGS)
@allow(*READERS)
def detail(request_id: str) -> RequestDetail:
    # The progress is counted by the delivery reports, a package above the send requests'.
    return send_requests.review_view(
        current_staff(), request_id, now=get_clock().now(), progress=delivery_reports.progress
    )


@router.post("/send-requests/<request_id>/approval", summary="审核通过（审核人不能是申请人）", tags=TAGS)
@allow(Role.city_reviewer)
def approve(request_id: str) -> SendRequest:
    return send_requests.approve(current_staff(), request_id, now=get_clock().now())


@router.post("/send-requests/<request_id>/rejection", summary="审核不通过", tags=TAGS)
@allow(Role.city_reviewer)
def reject(request_id: str, body: Annotated[ReasonIn, Body()]) -> SendRequest:
    return send_requests.reject(current_staff(), request_id, body.reason, now=get_clock().now())


@router.post(
    "/send-requests/<request_id>/cancellation",
    summary="取消（发送开始前；分轮提醒的第 1 轮发出后，取消尚未发送的后续各轮）",
    tags=TAGS,
)
@allow(*PROPOSERS, Role.city_reviewer)
def cancel(request_id: str) -> SendRequest:
    return send_requests.cancel(current_staff(), request_id, now=get_clock().now())


@router.post("/send-requests/<request_id>/stop", summary="停止发送（未发出的短信不再发送）", tags=TAGS)
@allow(Role.city_reviewer)
def stop(request_id: str, body: Annotated[ReasonIn, Body()]) -> SendRequest:
    return send_requests.stop(current_staff(), request_id, body.reason, now=get_clock().now())


@router.post("/send-requests/<request_id>/test-send", summary="发送测试短信到本人已验证的手机", tags=TAGS)
@allow(*PROPOSERS)
def test_send(request_id: str) -> TestSendOut:
    return send_requests.send_test(current_staff(), request_id, now=get_clock().now())


@router.get("/send-requests/<request_id>/report", summary="单次发送的送达报告", tags=TAGS)
@allow(*READERS)
def report(request_id: str) -> dict:
    request = send_requests.get_visible(current_staff(), request_id)
    return delivery_reports.send_report(request)


@router.post("/me/test-phone", summary="获取验证码以验证接收测试短信的手机号", tags=TAGS)
@allow(*PROPOSERS)
def request_code(body: Annotated[PhoneIn, Body()]) -> StaffPhoneOut:
    return staff_phones.request_phone_code(current_staff(), body.phone, now=get_clock().now())


@router.post("/me/test-phone/verification", summary="提交验证码", tags=TAGS)
@allow(*PROPOSERS)
def verify_code(body: Annotated[CodeIn, Body()]) -> StaffPhoneOut:
    return staff_phones.verify_phone_code(current_staff(), body.code, now=get_clock().now())
