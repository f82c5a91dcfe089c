"""Calling the staff API as API Gateway does after the authorizer allowed a request: a REST proxy
event whose ``requestContext.authorizer`` carries the staff member's account context."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sms_platform.staff.context import Office, Role, StaffContext

from tests.events import api_event


def member(account_id: str, office: Office, *roles: Role, real_name: str | None = None) -> StaffContext:
    return StaffContext(
        account_id=account_id,
        username=f"user-{account_id}",
        real_name=real_name or f"职员{account_id}",
        staff_number=f"S{account_id}",
        office=office,
        roles=frozenset(roles),
    )


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]


def call(ctx: StaffContext | None, method: str, path: str, body: Any = None, query: dict | None = None) -> Answer:
    import staff_api

    from tests.conftest import LambdaContext

    event = api_event(
        method,
        path,
        resource="/v1/staff/{proxy+}",
        body=body,
        query=query,
        path_parameters={"proxy": path.removeprefix("/v1/staff/")},
        authorizer=ctx.to_authorizer_context() if ctx else None,
    )
    answer = staff_api.handler(event, LambdaContext())
    text = answer.get("body") or "null"
    return Answer(answer["statusCode"], json.loads(text))
