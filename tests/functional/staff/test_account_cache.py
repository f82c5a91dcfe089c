"""A change to one's own account counts from the very next request, although the authorizer
keeps account records for a few seconds: it runs in a function of its own, whose cache the staff
API's write cannot clear (here: writes forget nothing, as in another process)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sms_platform.foundation.clock import get_clock
from sms_platform.staff import account_store
from sms_platform.staff.context import Role

from tests.staff_fixtures import PASSWORD


@pytest.fixture
def authorizer_elsewhere(monkeypatch):
    monkeypatch.setattr(account_store, "forget_cached", lambda: None)


def test_the_request_right_after_totp_enrolment_succeeds(staff, authorizer_elsewhere):
    admin = staff.account(Role.permission_admin, sign_in=False)
    staff.sign_in(admin)
    blocked = staff.call("GET", "/v1/staff/accounts", token=admin.access_token)
    assert blocked.status == 403 and blocked.json["error"]["details"] == "totp_enrolment"

    assert staff.enrol_totp(admin).status == 200
    right_after = staff.call("GET", "/v1/staff/accounts", token=admin.access_token)

    assert right_after.status == 200, right_after.text
    assert admin.username in [a["username"] for a in right_after.json["accounts"]]


def test_the_request_right_after_a_password_change_is_not_held_to_the_old_one(staff, authorizer_elsewhere):
    member = staff.account(Role.city_operator, sign_in=False)
    account = account_store.get_account(member.username)
    account_store.save(
        replace(account, must_change_password=True), expected_version=account.version, at=get_clock().now()
    )
    staff.sign_in(member)
    blocked = staff.call("GET", "/v1/staff/templates", token=member.access_token)
    assert blocked.status == 403 and blocked.json["error"]["details"] == "password_change"

    changed = staff.call(
        "POST",
        "/v1/staff/me/password",
        token=member.access_token,
        body={"current_password": PASSWORD, "new_password": "Another-Strong-Pw-99"},
    )
    assert changed.status == 200, changed.text
    right_after = staff.call("GET", "/v1/staff/templates", token=member.access_token)

    assert right_after.status == 200, right_after.text
