"""Office signatures (R13): every office's signature as messages show it; a city operator may
change one (checked to name the office, never a person; audited by
``sms_platform.templates.signatures``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field
from sms_platform.foundation.clock import get_clock
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow, current_staff, signed_in
from sms_platform.templates import signatures
from sms_platform.templates.signatures import Signature, SignaturesOut

router = Router()
TAGS = ["单位签名"]


class SignatureIn(BaseModel):
    name: str = Field(min_length=1, max_length=30, description="签名（不含【】），2-12 个字，须为单位名称")
    version: int | None = Field(default=None, ge=0, description="读取时的版本号；他人已修改时拒绝")


@router.get("/signatures", summary="各单位的短信签名", tags=TAGS)
@signed_in
def list_signatures() -> SignaturesOut:
    return signatures.signature_list(current_staff())


@router.put("/signatures/<office>", summary="修改单位的短信签名", tags=TAGS)
@allow(Role.city_operator)
def update_signature(office: Office, body: Annotated[SignatureIn, Body()]) -> Signature:
    return signatures.update_signature(
        current_staff(), office, body.name, expected_version=body.version, now=get_clock().now()
    )
