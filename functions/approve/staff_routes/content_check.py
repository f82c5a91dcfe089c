"""The content check while a template is written: the findings the reviewer will see on
submission (forbidden words from the reviewers' current list, links, the opt-out line,
relevance), the variable declarations, and the length and parts with the owning office's
signature. Allowed to the roles that write templates; a check stores nothing and is not audited.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, Field
from sms_platform.staff.context import Office, Role
from sms_platform.staff.rights import allow, current_staff
from sms_platform.templates.models import ContentCheckOut
from sms_platform.text.templating import VariableSpec

router = Router()
TAGS = ["短信模板"]
AUTHORS = (Role.city_operator, Role.district_operator, Role.hotline_manager, Role.it_ops)  # as the templates routes

Category = Literal["triggered", "targeted", "publicity", "hangup", "subscription", "system"]


class ContentCheckIn(BaseModel):
    text: str = Field(max_length=1000, description="短信内容（不含签名），变量写作 ${name}")
    category: Category = Field(description="模板类别")
    office: Office = Field(description="所属单位（决定签名）")
    variables: list[VariableSpec] = Field(default_factory=list, max_length=20, description="已声明的变量")


@router.post("/templates/content-check", summary="编写模板时的内容检查（不保存）", tags=TAGS)
@allow(*AUTHORS)
def content_check(body: Annotated[ContentCheckIn, Body()]) -> ContentCheckOut:
    from sms_platform.templates import template_check

    return template_check.check(
        current_staff(),
        text=body.text,
        category=body.category,
        office=body.office,
        variables=[v.model_dump() for v in body.variables],
    )
