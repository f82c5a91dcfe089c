"""Which staff may call which route, declared on the route itself.

A staff router declares the roles allowed under its powertools route decorator::

    from sms_platform.staff.rights import allow, current_staff
    from sms_platform.staff.context import Role

    @router.post("/templates/<template_id>/approval")
    @allow(Role.city_reviewer)
    def approve(template_id: str, body: ApprovalIn) -> TemplateOut:
        staff = current_staff()
        ...

``allow`` only marks the function (its signature stays as it is for validation and OpenAPI).
The staff API's resolver (``staff_resolver``) checks the mark before anything else, request
validation included, so a caller without the right gets 403 whatever the body. A route with
no mark is refused for everyone: forgetting to declare rights fails closed, and the rights
matrix test names the route.

- ``allow(*roles)``: staff holding any of ``roles``.
- ``signed_in``: any active staff account.
- ``self_service=True``: also while the account must first change its password or enrol
  TOTP (``/me``, the password change, TOTP enrolment).
- ``public``: no token at all (sign-in); the template routes it with ``Authorizer: NONE``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from sms_platform.foundation.errors import Forbidden, PlatformError, Unauthenticated
from sms_platform.staff.context import ROLE_NAMES, Role, StaffContext

F = TypeVar("F", bound=Callable[..., Any])
MARK = "__staff_rights__"

RESTRICTION_MESSAGES = {
    "password_change": "密码已过期或已被重置，请先修改密码",
    "totp_enrolment": "权限管理员须先绑定动态口令（TOTP）才能进行其他操作",
}


@dataclass(frozen=True)
class Rights:
    roles: frozenset[Role] | None  # None: any signed-in account
    public: bool = False
    self_service: bool = False

    def allows(self, ctx: StaffContext | None) -> bool:
        """Whether ``ctx`` passes (pure; the matrix test compares answers with this)."""
        if self.public:
            return True
        if ctx is None or ctx.status != "active":
            return False
        if ctx.restriction and not self.self_service:
            return False
        return self.roles is None or ctx.has(*self.roles)

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.roles is None:
            return "signed_in"
        return ",".join(sorted(role.value for role in self.roles))


def allow(*roles: Role, self_service: bool = False) -> Callable[[F], F]:
    """Staff holding any of ``roles`` may call the route below."""
    if not roles:
        raise ValueError("allow() needs at least one role; use signed_in for any account")
    rights = Rights(roles=frozenset(Role(role) for role in roles), self_service=self_service)

    def mark(func: F) -> F:
        setattr(func, MARK, rights)
        return func

    return mark


def signed_in(func: F | None = None, *, self_service: bool = False) -> Any:
    """Any active staff account may call the route below."""
    rights = Rights(roles=None, self_service=self_service)

    def mark(inner: F) -> F:
        setattr(inner, MARK, rights)
        return inner

    return mark(func) if func is not None else mark


def public(func: F) -> F:
    """No token needed (the template must route this path with ``Authorizer: NONE``)."""
    setattr(func, MARK, Rights(roles=None, public=True))
    return func


def rights_of(func: Callable[..., Any]) -> Rights | None:
    return getattr(func, MARK, None)


_current: ContextVar[StaffContext | None] = ContextVar("current_staff", default=None)


def current_staff() -> StaffContext:
    """The staff member making the current request (set by the rights check)."""
    ctx = _current.get()
    if ctx is None:
        raise Unauthenticated("未登录或登录已失效，请重新登录")
    return ctx


def staff_from_event(raw_event: Mapping[str, Any]) -> StaffContext | None:
    """The StaffContext the authorizer put into an API Gateway proxy event, if any."""
    context = (raw_event.get("requestContext") or {}).get("authorizer") or {}
    try:
        return StaffContext.from_authorizer_context(context)
    except ValueError:
        return None


def check(rights: Rights | None, raw_event: Mapping[str, Any]) -> StaffContext | None:
    """The caller's StaffContext if ``rights`` let them in; else the refusal to give."""
    if rights is None:
        raise Forbidden("该接口尚未声明访问权限，已拒绝")
    if rights.public:
        return staff_from_event(raw_event)
    ctx = staff_from_event(raw_event)
    if ctx is None:
        raise Unauthenticated("未登录或登录已失效，请重新登录")
    if ctx.status != "active":
        raise Forbidden("账号已停用")
    if ctx.restriction and not rights.self_service:
        raise Forbidden(RESTRICTION_MESSAGES.get(ctx.restriction, "请先完成账号安全设置"), details=ctx.restriction)
    if rights.roles is not None and not ctx.has(*rights.roles):
        names = "、".join(ROLE_NAMES[role] for role in sorted(rights.roles))
        raise Forbidden(f"无权执行此操作，需要以下角色之一：{names}")
    return ctx


@dataclass(frozen=True)
class RouteRight:
    method: str
    path: str  # API Gateway form: /v1/staff/accounts/{username}
    rights: Rights | None


def route_rights(app: Any) -> list[RouteRight]:
    """Every route of ``app`` with the rights it declares (None when it declares none)."""
    routes = list(app._static_routes) + list(app._dynamic_routes)
    found = [RouteRight(route.method, route.openapi_path, rights_of(route.func)) for route in routes]
    return sorted(found, key=lambda r: (r.path, r.method))


def staff_resolver(**kwargs: Any) -> Any:
    """An APIGatewayRestResolver that checks each route's declared rights before validation."""
    # deferred: the event handler (~15 ms) loads with the area's router, not with the staff API's cold import
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    class StaffResolver(APIGatewayRestResolver):
        def _call_route(self, route: Any, route_arguments: dict[str, str]) -> Any:
            if not any(route is known for known in self._static_routes + self._dynamic_routes):
                return super()._call_route(route, route_arguments)  # the not-found answer
            # Rights first: someone who may not call the route learns nothing from validation.
            try:
                _current.set(check(rights_of(route.func), self.current_event.raw_event))
            except PlatformError as refusal:
                _current.set(None)
                handled = self._call_exception_handler(refusal, route)
                if handled:
                    return handled
                raise
            return super()._call_route(route, route_arguments)

    return StaffResolver(**kwargs)
