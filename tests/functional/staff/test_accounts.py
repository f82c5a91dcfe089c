"""Accounts and rights through the staff API on moto: Cognito users behind the account records,
the authorizer reading the record on every request, lockout, password expiry, idle timeout and
TOTP for permission administrators."""

from __future__ import annotations

import json
import os

import pytest
from sms_platform.staff import account_models
from sms_platform.staff.context import Office, Role

from tests.functional.intake_support import phones_of, queued_batches
from tests.staff_fixtures import PASSWORD, expired_token, totp_code

NEW_PASSWORD = "Another-Strong-Pw-99"


def _idp():
    import boto3

    return boto3.client("cognito-idp", region_name="us-east-1")


def _audit_actions() -> list[tuple[str, str, str]]:
    """(action, target, actor username) of every audit entry."""
    import boto3

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["AUDIT_TABLE"])
    items = table.scan()["Items"]
    return sorted((item["action"], item["target"], item["actor"]["username"]) for item in items)


def _sign_in(staff, username, password):
    return staff.call("POST", "/v1/staff/session", body={"username": username, "password": password})


def _new_password(staff, username, session, new_password=NEW_PASSWORD):
    return staff.call(
        "POST",
        "/v1/staff/session/challenge",
        body={
            "username": username,
            "challenge": "NEW_PASSWORD_REQUIRED",
            "session": session,
            "new_password": new_password,
        },
    )


def test_an_administrator_creates_an_account_that_signs_in_with_its_temporary_password(staff):
    admin = staff.account(Role.permission_admin)

    created = staff.call(
        "POST",
        "/v1/staff/accounts",
        token=admin.token,
        body={
            "username": "Wang.Fang",
            "real_name": "王芳",
            "staff_number": "WD-0012",
            "office": "wendeng",
            "roles": ["district_operator"],
        },
    )

    assert created.status == 201, created.text
    account = created.json["account"]
    assert account["username"] == "wang.fang"
    assert account["office_name"] == "文登区"
    assert account["roles"] == ["district_operator"]
    assert account["restriction"] == "password_change"
    user = _idp().admin_get_user(UserPoolId=os.environ["STAFF_USER_POOL_ID"], Username="wang.fang")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["custom:office"] == "wendeng"
    assert attributes["custom:staff_number"] == "WD-0012"
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"

    first = _sign_in(staff, "wang.fang", created.json["temporary_password"])
    assert first.status == 200
    assert first.json["status"] == "challenge"
    assert first.json["challenge"] == "NEW_PASSWORD_REQUIRED"
    weak = _new_password(staff, "wang.fang", first.json["session"], "weak")
    assert weak.status == 422
    assert weak.json["error"]["field"] == "new_password"
    done = _new_password(staff, "wang.fang", first.json["session"])
    assert done.status == 200, done.text
    assert done.json["status"] == "signed_in"

    me = staff.call("GET", "/v1/staff/me", token=done.json["access_token"])
    assert me.status == 200
    assert me.json["real_name"] == "王芳"
    assert me.json["restriction"] == ""
    assert ("account.create", "account:wang.fang", admin.username) in _audit_actions()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"real_name": "王芳", "staff_number": "1", "office": "city", "roles": []}, "username"),
        ({"username": "wf", "real_name": "王芳", "staff_number": "1", "office": "city"}, "username"),
        ({"username": "wangf", "real_name": "王芳", "staff_number": "1", "office": "mars"}, "office"),
        ({"username": "wangf", "real_name": "王\u202e芳", "staff_number": "1", "office": "city"}, "real_name"),
        ({"username": "wang\u200bf", "real_name": "王芳", "staff_number": "1", "office": "city"}, "username"),
        (
            {"username": "wangf", "real_name": "王芳", "staff_number": "1", "office": "city", "roles": ["king"]},
            "roles.0",
        ),
        (
            {
                "username": "wangf",
                "real_name": "王芳",
                "staff_number": "1",
                "office": "city",
                "roles": ["district_operator"],
            },
            "roles",
        ),
        (
            {
                "username": "wangf",
                "real_name": "王芳",
                "staff_number": "1",
                "office": "city",
                "roles": ["permission_admin", "city_reviewer"],
            },
            "roles",
        ),
    ],
)
def test_bad_accounts_are_refused_and_nothing_is_created(staff, body, field):
    admin = staff.account(Role.permission_admin)

    refused = staff.call("POST", "/v1/staff/accounts", token=admin.token, body=body)

    assert refused.status == 422
    assert refused.json["error"]["field"] == field
    assert refused.json["error"]["message"]
    if "\u202e" in body.get("real_name", ""):
        assert refused.json["error"]["details"] == [{"field": "real_name", "message": "真实姓名含有不可见的控制字符"}]
    listed = staff.call("GET", "/v1/staff/accounts", token=admin.token).json["accounts"]
    assert [a["username"] for a in listed] == [admin.username]
    users = _idp().list_users(UserPoolId=os.environ["STAFF_USER_POOL_ID"])["Users"]
    assert [u["Username"] for u in users] == [admin.username]


def test_usernames_and_staff_numbers_are_unique(staff):
    admin = staff.account(Role.permission_admin)
    body = {"username": "liming", "real_name": "李明", "staff_number": "C-1", "office": "city", "roles": []}
    assert staff.call("POST", "/v1/staff/accounts", token=admin.token, body=body).status == 201

    again = staff.call("POST", "/v1/staff/accounts", token=admin.token, body=body)
    number = staff.call("POST", "/v1/staff/accounts", token=admin.token, body={**body, "username": "liming2"})

    assert (again.status, again.json["error"]["field"]) == (409, "username")
    assert (number.status, number.json["error"]["field"]) == (409, "staff_number")


def test_a_withdrawn_role_is_refused_on_the_very_next_request(staff):
    admin = staff.account(Role.permission_admin)
    other = staff.account(Role.permission_admin)
    assert staff.call("GET", "/v1/staff/accounts", token=other.token).status == 200

    withdrawn = staff.call("DELETE", f"/v1/staff/accounts/{other.username}/roles/permission_admin", token=admin.token)

    assert withdrawn.status == 200
    assert withdrawn.json["roles"] == []
    refused = staff.call("GET", "/v1/staff/accounts", token=other.token)
    assert refused.status == 403
    assert refused.json["error"]["message"] == "无权执行此操作，需要以下角色之一：权限管理员"

    granted = staff.call(
        "POST", f"/v1/staff/accounts/{other.username}/roles", token=admin.token, body={"role": "permission_admin"}
    )
    assert granted.status == 200
    assert staff.call("GET", "/v1/staff/accounts", token=other.token).status == 200
    actions = [action for action, target, _ in _audit_actions() if target == f"account:{other.username}"]
    assert "account.withdraw_role" in actions and "account.grant_role" in actions


def test_a_permission_administrator_cannot_be_given_approve_or_send_roles(staff):
    admin = staff.account(Role.permission_admin, office=Office.city)
    other = staff.account(Role.permission_admin, office=Office.city)

    for role in ("city_reviewer", "city_operator"):
        refused = staff.call(
            "POST", f"/v1/staff/accounts/{other.username}/roles", token=admin.token, body={"role": role}
        )
        assert refused.status == 422
        assert "权限管理员不能同时担任" in refused.json["error"]["message"]
    assert staff.call("GET", f"/v1/staff/accounts/{other.username}", token=admin.token).json["roles"] == [
        "permission_admin"
    ]


def test_an_administrator_cannot_lock_itself_out(staff):
    admin = staff.account(Role.permission_admin)

    suspend = staff.call(
        "POST", f"/v1/staff/accounts/{admin.username}/suspension", token=admin.token, body={"reason": "测试"}
    )
    withdraw = staff.call("DELETE", f"/v1/staff/accounts/{admin.username}/roles/permission_admin", token=admin.token)
    office = staff.call("POST", "/v1/staff/offices/it/suspension", token=admin.token, body={"reason": "测试"})
    reset = staff.call("POST", f"/v1/staff/accounts/{admin.username}/password-reset", token=admin.token)

    assert [suspend.status, withdraw.status, office.status, reset.status] == [403, 403, 403, 403]
    assert "账号安全" in reset.json["error"]["message"]
    assert staff.call("GET", "/v1/staff/me", token=admin.token).json["status"] == "active"  # still signed in
    assert _audit_entries("account.reset_password") == []


def test_a_suspended_account_is_refused_at_once_though_its_token_is_valid(staff):
    admin = staff.account(Role.permission_admin)
    operator = staff.account(Role.city_operator)
    assert staff.call("GET", "/v1/staff/me", token=operator.token).status == 200

    suspended = staff.call(
        "POST",
        f"/v1/staff/accounts/{operator.username}/suspension",
        token=admin.token,
        body={"reason": "违规发送短信"},
    )

    assert suspended.status == 200
    assert suspended.json["status"] == "suspended"
    denied = staff.call("GET", "/v1/staff/me", token=operator.token)
    assert denied.status == 403
    assert denied.json["error"]["code"] == "forbidden"
    again = _sign_in(staff, operator.username, PASSWORD)
    assert again.status == 403
    assert again.json["error"] == {"code": "account_suspended", "message": "账号已被暂停使用，请联系权限管理员"}
    user = _idp().admin_get_user(UserPoolId=os.environ["STAFF_USER_POOL_ID"], Username=operator.username)
    assert user["Enabled"] is False

    reinstated = staff.call("DELETE", f"/v1/staff/accounts/{operator.username}/suspension", token=admin.token)
    assert reinstated.status == 200
    assert staff.sign_in(operator).status == 200
    assert staff.call("GET", "/v1/staff/me", token=operator.token).status == 200


def test_a_suspended_office_can_do_nothing(staff):
    admin = staff.account(Role.permission_admin)
    district = staff.account(Role.district_operator, office=Office.rongcheng)
    neighbour = staff.account(Role.district_operator, office=Office.rushan)

    suspended = staff.call(
        "POST", "/v1/staff/offices/rongcheng/suspension", token=admin.token, body={"reason": "违反短信平台管理办法"}
    )

    assert suspended.status == 200
    assert suspended.json["suspended"] is True
    assert staff.call("GET", "/v1/staff/me", token=district.token).status == 403
    assert staff.call("GET", "/v1/staff/me", token=neighbour.token).status == 200
    refused = _sign_in(staff, district.username, PASSWORD)
    assert refused.status == 403
    assert refused.json["error"]["code"] == "office_suspended"
    assert "荣成市" in refused.json["error"]["message"]
    offices = {o["office"]: o for o in staff.call("GET", "/v1/staff/offices", token=admin.token).json["offices"]}
    assert offices["rongcheng"]["suspended"] is True
    assert offices["rongcheng"]["reason"] == "违反短信平台管理办法"

    assert staff.call("DELETE", "/v1/staff/offices/rongcheng/suspension", token=admin.token).status == 200
    assert staff.call("GET", "/v1/staff/me", token=district.token).status == 200
    twice = staff.call("DELETE", "/v1/staff/offices/rongcheng/suspension", token=admin.token)
    assert twice.status == 409


def _queue_for(office: str, source_id: str, numbers: list[str]) -> None:
    from sms_platform.sending import outbox

    outbox.enqueue("triggered", source_id, office, "荣成市社会保险事业中心", template_code="SMS_100001",
                   template_id="tpl-r18", template_version=1, parts=1,
                   recipients=[(number, None) for number in numbers])  # fmt: skip


def _message_of(source_id: str, number: str) -> dict:
    from sms_platform.foundation import crypto
    from sms_platform.sending import message_store
    from sms_platform.sending.messages import message_id

    return message_store.get(message_id(source_id, crypto.keyed_hash(number)))


def test_a_suspended_offices_queued_messages_are_suppressed_until_reinstatement(
    staff, staff_clock, carrier_simulator, aws, lambda_context
):
    from tests.functional.dispatch_support import LaneRunner

    lanes = LaneRunner(aws, staff_clock, lambda_context)
    admin = staff.account(Role.permission_admin)
    held = ["13900000001", "13900000002"]
    _queue_for("rongcheng", "event-held", held)
    _queue_for("rushan", "event-neighbour", ["13900000009"])

    suspended = staff.call(
        "POST", "/v1/staff/offices/rongcheng/suspension", token=admin.token, body={"reason": "违反短信平台管理办法"}
    )
    lanes.run()

    assert suspended.status == 200
    assert [m.phone for m in carrier_simulator.sent] == ["13900000009"]  # only the other office's
    for number in held:
        message = _message_of("event-held", number)
        assert (message["state"], message["suppress_reason"]) == ("suppressed", "suspended_office")

    assert staff.call("DELETE", "/v1/staff/offices/rongcheng/suspension", token=admin.token).status == 200
    _queue_for("rongcheng", "event-after", held)
    lanes.run()

    assert sorted(m.phone for m in carrier_simulator.sent if m.out_id == "event-after") == held
    assert {_message_of("event-after", n)["state"] for n in held} == {"sent"}
    assert _message_of("event-held", held[0])["state"] == "suppressed"  # nothing held is sent late
    assert len(carrier_simulator.sent) == 3


def test_an_administrator_resets_another_accounts_totp(staff):
    admin = staff.account(Role.permission_admin)
    other = staff.account(Role.permission_admin)

    reset = staff.call("POST", f"/v1/staff/accounts/{other.username}/totp-reset", token=admin.token)

    assert reset.status == 200
    assert (reset.json["totp_enabled"], reset.json["restriction"]) == (False, "totp_enrolment")
    assert staff.call("GET", "/v1/staff/me", token=other.token).status == 401  # signed out everywhere
    again = _sign_in(staff, other.username, PASSWORD)
    assert again.json["status"] == "signed_in"  # no code asked: the old device no longer counts
    blocked = staff.call("GET", "/v1/staff/accounts", token=again.json["access_token"])
    assert blocked.status == 403
    assert blocked.json["error"]["message"] == "权限管理员须先绑定动态口令（TOTP）才能进行其他操作"
    assert ("account.reset_totp", f"account:{other.username}", admin.username) in _audit_actions()


@pytest.mark.parametrize(
    ("who", "status", "message"),
    [
        ("self", 403, "不能重置本人的动态口令，请由另一位权限管理员操作"),
        ("without_totp", 409, "该账号尚未绑定动态口令，无需重置"),
        ("unknown", 404, None),
    ],
)
def test_a_totp_reset_that_cannot_apply_is_refused_and_changes_nothing(staff, who, status, message):
    admin = staff.account(Role.permission_admin)
    reviewer = staff.account(Role.city_reviewer)
    target = {"self": admin.username, "without_totp": reviewer.username, "unknown": "nobody-here"}[who]
    before = _audit_actions()

    refused = staff.call("POST", f"/v1/staff/accounts/{target}/totp-reset", token=admin.token)

    assert refused.status == status
    if message:
        assert refused.json["error"]["message"] == message
    assert _audit_actions() == before
    assert staff.call("GET", "/v1/staff/me", token=admin.token).json["totp_enabled"] is True


def test_five_failed_sign_ins_lock_the_account_until_the_lockout_ends(staff, staff_clock):
    member = staff.account(Role.city_reviewer)

    answers = [_sign_in(staff, member.username, "Wrong-Password-1!") for _ in range(5)]

    assert [a.status for a in answers[:4]] == [401, 401, 401, 401]
    assert "再失败1次" in answers[3].json["error"]["message"]
    assert answers[4].status == 403
    assert answers[4].json["error"]["code"] == "account_locked"
    locked_until = answers[4].json["error"]["details"]["locked_until"]
    # The right password does not help while the lockout lasts, and the token in hand is refused.
    assert _sign_in(staff, member.username, PASSWORD).json["error"]["code"] == "account_locked"
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 403
    staff_clock.advance(minutes=29, seconds=59)
    still = _sign_in(staff, member.username, PASSWORD)
    assert still.status == 403
    assert still.json["error"]["details"]["locked_until"] == locked_until

    staff_clock.advance(seconds=1)

    assert staff.sign_in(member).status == 200
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200
    assert ("account.locked", f"account:{member.username}", "system") in _audit_actions()


def test_unknown_users_get_the_same_answer_as_a_wrong_password(staff):
    answer = _sign_in(staff, "nobody", "Whatever-Pass-1!")
    assert answer.status == 401
    assert answer.json["error"]["message"] == "用户名或密码错误"


def test_an_expired_password_must_be_changed_before_anything_else(staff, staff_clock):
    member = staff.account(Role.city_operator, sign_in=False)
    staff_clock.advance(days=90, minutes=-1)
    assert staff.sign_in(member).json["restriction"] == ""
    staff_clock.advance(minutes=2)  # the password expires while signed in

    # The token in hand may only show the account (so the portal can say why).
    me = staff.call("GET", "/v1/staff/me", token=member.token)
    assert me.status == 200
    assert me.json["restriction"] == "password_change"
    blocked = staff.call("GET", "/v1/staff/offices", token=member.token)
    assert blocked.status == 403
    assert blocked.json["error"]["message"] == "密码已过期或已被重置，请先修改密码"

    signing_in = _sign_in(staff, member.username, PASSWORD)
    assert signing_in.status == 200
    assert signing_in.json["challenge"] == "NEW_PASSWORD_REQUIRED"
    changed = _new_password(staff, member.username, signing_in.json["session"])
    assert changed.status == 200
    assert changed.json["restriction"] == ""
    token = changed.json["access_token"]
    assert staff.call("GET", "/v1/staff/offices", token=token).status == 200
    assert _sign_in(staff, member.username, PASSWORD).status == 401
    assert _sign_in(staff, member.username, NEW_PASSWORD).json["status"] == "signed_in"


def test_a_signed_in_user_changes_its_own_password(staff):
    member = staff.account(Role.auditor)

    wrong = staff.call(
        "POST",
        "/v1/staff/me/password",
        token=member.token,
        body={"current_password": "Not-The-Password-1", "new_password": NEW_PASSWORD},
    )
    changed = staff.call(
        "POST",
        "/v1/staff/me/password",
        token=member.token,
        body={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert wrong.status == 403
    assert changed.status == 200
    assert _sign_in(staff, member.username, NEW_PASSWORD).json["status"] == "signed_in"


def _audit_entries(action: str) -> list[dict]:
    import boto3

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["AUDIT_TABLE"])
    return [item for item in table.scan()["Items"] if item.get("action") == action]


def _audit_text() -> str:
    import boto3

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["AUDIT_TABLE"])
    return json.dumps(table.scan()["Items"], default=str, ensure_ascii=False)


def test_without_a_verified_phone_the_reset_password_is_shown_once_and_must_be_changed(staff):
    admin = staff.account(Role.permission_admin)
    member = staff.account(Role.city_reviewer)

    reset = staff.call("POST", f"/v1/staff/accounts/{member.username}/password-reset", token=admin.token)

    assert reset.status == 200, reset.text
    assert (reset.json["delivery"], reset.json["phone_masked"]) == ("in_person", None)
    temporary = reset.json["temporary_password"]
    assert not account_models.password_problems(temporary)  # a strong one, as the pool requires
    user = _idp().admin_get_user(UserPoolId=os.environ["STAFF_USER_POOL_ID"], Username=member.username)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert staff.call("GET", "/v1/staff/offices", token=member.token).status == 401  # signed out everywhere
    assert _sign_in(staff, member.username, PASSWORD).status == 401
    first = _sign_in(staff, member.username, temporary)
    # No token before a password of its own.
    assert (first.json["status"], first.json["challenge"]) == ("challenge", "NEW_PASSWORD_REQUIRED")
    assert _new_password(staff, member.username, first.json["session"]).json["status"] == "signed_in"
    assert _sign_in(staff, member.username, temporary).status == 401  # it worked once only
    [entry] = _audit_entries("account.reset_password")
    assert (entry["target"], entry["actor"]["username"]) == (f"account:{member.username}", admin.username)
    assert json.loads(entry["after"])["delivery"] == "in_person"
    assert temporary not in _audit_text()


@pytest.fixture
def password_sms(staff, staff_clock, carrier_simulator):
    """The verification-code and temporary-password templates in force, chosen by IT operations
    through the staff API."""
    from sms_platform.sources import subscription_items

    from tests.staff_calls import member as staff_member
    from tests.template_support import active_template

    otp = active_template(staff_clock, category="system", office="it", text="您的验证码为${code}，5分钟内有效。",
                          variables=[{"name": "code", "type": "code", "max_length": 6}])  # fmt: skip
    template_id = active_template(
        staff_clock, category="system", office="it",
        text="您的平台账号临时密码为：${password}，首次登录须修改。如非本人操作请联系市社保中心。",
        variables=[{"name": "password", "type": "text", "max_length": 32}],
    )  # fmt: skip
    subscription_items.set_settings(staff_member("ops", Office.it, Role.it_ops), otp, None, now=staff_clock.now())
    ops = staff.account(Role.it_ops)
    chosen = staff.call("PUT", "/v1/staff/account-settings", token=ops.token,
                        body={"password_template_id": template_id})  # fmt: skip
    assert chosen.json == {"password_template_id": template_id}, chosen.text
    return {"template_id": template_id, "otp": otp}


def _verify_phone(staff, aws, member, phone: str) -> None:
    """The owner proves the number with a code, as for test sends (``/me/test-phone``)."""
    asked = staff.call("POST", "/v1/staff/me/test-phone", token=member.token, body={"phone": phone})
    assert asked.status == 200, asked.text
    [batch] = queued_batches(aws)
    done = staff.call("POST", "/v1/staff/me/test-phone/verification", token=member.token,
                      body={"code": batch["params"][0]["code"]})  # fmt: skip
    assert done.status == 200, done.text


def test_with_a_verified_phone_the_reset_password_goes_to_its_owner_by_sms(staff, aws, password_sms):
    admin = staff.account(Role.permission_admin)
    member = staff.account(Role.city_operator)
    _verify_phone(staff, aws, member, "13912345678")

    reset = staff.call("POST", f"/v1/staff/accounts/{member.username}/password-reset", token=admin.token)

    assert reset.status == 200, reset.text
    assert reset.json == {"username": member.username, "delivery": "sms", "phone_masked": "139****5678",
                          "temporary_password": None}  # fmt: skip
    [sms] = queued_batches(aws)  # on the high lane, as a platform message
    assert (sms["kind"], sms["template_id"], sms["office"]) == ("system", password_sms["template_id"], "it")
    assert sms["sign_name"] == "威海市人社信息中心"  # the IT office's signature, as on verification codes
    assert phones_of([sms]) == ["13912345678"]
    temporary = sms["params"][0]["password"]
    assert not account_models.password_problems(temporary)
    assert temporary not in reset.text and "13912345678" not in reset.text
    [entry] = _audit_entries("account.reset_password")
    assert json.loads(entry["after"])["delivery"] == "sms"
    assert json.loads(entry["after"])["phone_masked"] == "139****5678"
    assert temporary not in _audit_text() and "13912345678" not in _audit_text()
    # Only the owner, with the SMS, can sign in, and must set a password of their own first.
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 401
    first = _sign_in(staff, member.username, temporary)
    assert first.json["challenge"] == "NEW_PASSWORD_REQUIRED"
    assert _new_password(staff, member.username, first.json["session"]).json["status"] == "signed_in"


def test_a_reset_that_the_sms_cannot_carry_is_refused_and_changes_nothing(staff, aws, staff_clock, carrier_simulator):
    from sms_platform.sources import subscription_items

    from tests.staff_calls import member as staff_member
    from tests.template_support import active_template

    otp = active_template(staff_clock, category="system", office="it", text="您的验证码为${code}，5分钟内有效。",
                          variables=[{"name": "code", "type": "code", "max_length": 6}])  # fmt: skip
    subscription_items.set_settings(staff_member("ops", Office.it, Role.it_ops), otp, None, now=staff_clock.now())
    admin = staff.account(Role.permission_admin)
    ops = staff.account(Role.it_ops)
    member = staff.account(Role.district_operator)
    _verify_phone(staff, aws, member, "13912345678")

    unset = staff.call("POST", f"/v1/staff/accounts/{member.username}/password-reset", token=admin.token)
    staff.call("PUT", "/v1/staff/account-settings", token=ops.token, body={"password_template_id": otp})
    no_variable = staff.call("POST", f"/v1/staff/accounts/{member.username}/password-reset", token=admin.token)
    wrong_kind = staff.call("PUT", "/v1/staff/account-settings", token=ops.token,
                            body={"password_template_id": "tpl-never-written"})  # fmt: skip

    assert (unset.status, unset.error_code) == (409, "conflict")
    assert "临时密码短信模板尚未配置" in unset.json["error"]["message"]
    assert (no_variable.status, no_variable.error_code) == (409, "conflict")
    assert "${password}" in no_variable.json["error"]["message"]
    assert (wrong_kind.status, wrong_kind.json["error"]["field"]) == (422, "password_template_id")
    assert "temporary_password" not in unset.json and "temporary_password" not in no_variable.json
    assert queued_batches(aws) == []
    assert _audit_entries("account.reset_password") == []
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200  # still signed in
    assert _sign_in(staff, member.username, PASSWORD).json["status"] == "signed_in"  # old password kept


def test_choosing_the_password_template_is_audited_with_the_choice_before_and_after(staff, staff_clock, password_sms):
    from sms_platform.audit.chain import time_key

    [entry] = _audit_entries("account_settings.update")

    assert entry["target"] == "account_settings"
    assert json.loads(entry["before"]) == {"password_template_id": None}
    assert json.loads(entry["after"]) == {"password_template_id": password_sms["template_id"]}
    assert (entry["actor"]["roles"], entry["office"]) == (["it_ops"], "it")
    assert entry["at"] == time_key(staff_clock.now())


def test_account_services_answer_with_models_and_audit_at_the_time_they_are_given(staff, staff_clock):
    from datetime import timedelta

    from sms_platform.audit.chain import time_key
    from sms_platform.staff import account_store, accounts
    from sms_platform.staff.account_views import AccountOut, NewAccountOut

    admin = staff.account(Role.permission_admin)
    by_admin = account_store.get_account(admin.username).context(staff_clock.now())
    # Not the clock's time: a service takes the time of the change from its caller.
    created_at = staff_clock.now() + timedelta(minutes=3)
    suspended_at = created_at + timedelta(minutes=4)

    created = accounts.create_account(by_admin, username="wangwu", real_name="王五", staff_number="T-900",
                                      office=Office.city, roles=[Role.city_reviewer], now=created_at)  # fmt: skip
    suspended = accounts.suspend_account(by_admin, "wangwu", "调岗", now=suspended_at)

    assert isinstance(created, NewAccountOut) and created.temporary_password  # shown this once
    assert created.account.created_at == account_models.iso(created_at)
    assert isinstance(suspended, AccountOut)
    assert (suspended.status, suspended.suspended_reason) == ("suspended", "调岗")
    [create] = [e for e in _audit_entries("account.create") if e["target"] == "account:wangwu"]
    [suspend] = _audit_entries("account.suspend")
    assert (create["at"], suspend["at"]) == (time_key(created_at), time_key(suspended_at))
    assert suspend["actor"]["username"] == admin.username


def test_thirty_idle_minutes_end_the_session(staff, staff_clock):
    member = staff.account(Role.it_ops)
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200
    staff_clock.advance(minutes=29)
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200  # activity restarts the count
    staff_clock.advance(minutes=29)
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200

    staff_clock.advance(minutes=30)

    idle = staff.call("GET", "/v1/staff/me", token=member.token)
    assert idle.status == 401
    assert idle.json["error"]["code"] == "unauthenticated"
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 401
    assert staff.sign_in(member).status == 200
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200


def test_signing_out_ends_the_token(staff):
    member = staff.account(Role.city_reviewer)
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 200

    out = staff.call("DELETE", "/v1/staff/session", token=member.token)

    assert out.status == 200
    assert out.json == {"signed_out": True}
    assert staff.call("GET", "/v1/staff/me", token=member.token).status == 401
    assert staff.call("DELETE", "/v1/staff/session").json == {"signed_out": True}


def test_expired_and_forged_tokens_are_refused(staff):
    member = staff.account(Role.city_reviewer)

    expired = staff.call("GET", "/v1/staff/me", token=expired_token(member.token))
    forged = staff.call("GET", "/v1/staff/me", token=member.token[:-4] + "AAAA")
    missing = staff.call("GET", "/v1/staff/me")

    assert [expired.status, forged.status, missing.status] == [401, 401, 401]
    # The same claims re-signed but still valid pass: only the expiry made the difference.
    assert staff.call("GET", "/v1/staff/me", token=expired_token(member.token, seconds_ago=-600)).status == 200


def test_refreshing_tokens_checks_the_account(staff):
    admin = staff.account(Role.permission_admin)
    member = staff.account(Role.city_reviewer)

    renewed = staff.call("POST", "/v1/staff/session/refresh", body={"refresh_token": member.refresh_token})
    assert renewed.status == 200
    assert staff.call("GET", "/v1/staff/me", token=renewed.json["access_token"]).status == 200
    staff.call("POST", f"/v1/staff/accounts/{member.username}/suspension", token=admin.token, body={"reason": "调离"})

    refused = staff.call("POST", "/v1/staff/session/refresh", body={"refresh_token": member.refresh_token})

    assert refused.status in (401, 403)


def test_a_permission_administrator_must_enrol_totp_before_anything_else(staff, monkeypatch):
    monkeypatch.setenv("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")  # moto checks the codes
    admin = staff.account(Role.permission_admin)
    created = staff.call(
        "POST",
        "/v1/staff/accounts",
        token=admin.token,
        body={
            "username": "zhaolei",
            "real_name": "赵磊",
            "staff_number": "IT-7",
            "office": "it",
            "roles": ["permission_admin"],
        },
    )
    first = _sign_in(staff, "zhaolei", created.json["temporary_password"])
    signed_in = _new_password(staff, "zhaolei", first.json["session"])
    assert signed_in.json["restriction"] == "totp_enrolment"
    token = signed_in.json["access_token"]

    blocked = staff.call("GET", "/v1/staff/accounts", token=token)
    assert blocked.status == 403
    assert blocked.json["error"]["message"] == "权限管理员须先绑定动态口令（TOTP）才能进行其他操作"
    assert staff.call("GET", "/v1/staff/me", token=token).json["totp_enabled"] is False

    started = staff.call("POST", "/v1/staff/me/totp", token=token)
    assert started.status == 200
    secret = started.json["secret_code"]
    assert started.json["otpauth_uri"].startswith("otpauth://totp/")
    wrong_code = "000000" if totp_code(secret) != "000000" else "111111"
    wrong = staff.call("POST", "/v1/staff/me/totp/verification", token=token, body={"code": wrong_code})
    assert wrong.status == 422
    enrolled = staff.call("POST", "/v1/staff/me/totp/verification", token=token, body={"code": totp_code(secret)})
    assert enrolled.status == 200
    assert enrolled.json["totp_enabled"] is True
    assert staff.call("GET", "/v1/staff/accounts", token=token).status == 200

    # From now on signing in asks for the code.
    again = _sign_in(staff, "zhaolei", NEW_PASSWORD)
    assert again.json["challenge"] == "SOFTWARE_TOKEN_MFA"
    challenge = {"username": "zhaolei", "challenge": "SOFTWARE_TOKEN_MFA", "session": again.json["session"]}
    bad = staff.call("POST", "/v1/staff/session/challenge", body={**challenge, "code": wrong_code})
    assert bad.status == 401
    again = _sign_in(staff, "zhaolei", NEW_PASSWORD)
    good = staff.call(
        "POST",
        "/v1/staff/session/challenge",
        body={**challenge, "session": again.json["session"], "code": totp_code(secret)},
    )
    assert good.status == 200
    assert good.json["status"] == "signed_in"


def test_every_staff_route_is_in_the_openapi_document_with_models(staff):
    document = staff.call("GET", "/v1/openapi.json")

    assert document.status == 200
    paths = document.json["paths"]
    assert "/v1/staff/accounts" in paths and "/v1/staff/session" in paths
    create = paths["/v1/staff/accounts"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("AccountIn")
    assert "201" in create["responses"]
    from app import OPENAPI_PATH, route_rights

    documented = {(method.upper(), path) for path, operations in paths.items() for method in operations}
    served = {(route.method, route.path) for route in route_rights() if route.path != OPENAPI_PATH}
    assert served - documented == set()
    for path, operations in paths.items():
        for method, operation in operations.items():
            success = [answer for code, answer in operation["responses"].items() if code.startswith("2")]
            # JSON for every route; a download (the audit export) documents its own media type.
            assert success and any(media.get("schema") for media in success[0]["content"].values()), (method, path)
