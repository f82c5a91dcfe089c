"""Signing in to the local platform as in AWS: moto's Cognito checks each TOTP code, at
enrolment and at sign-in, and the enrolment counts from the very next request although the
authorizer (a function of its own) read the account before it."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sms_platform.staff import security

from tests.staff_fixtures import totp_code

pytestmark = [pytest.mark.e2e]


def _post(platform: Any, path: str, body: dict[str, Any], token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{platform.api}/v1/staff{path}", json=body, headers=headers, timeout=60)


def _get(platform: Any, path: str, token: str) -> requests.Response:
    return requests.get(f"{platform.api}/v1/staff{path}", headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_totp_codes_are_checked_and_the_enrolment_counts_at_the_next_request(local_platform):
    printed = local_platform.log_events("sign_in")[0]
    credentials = {"username": printed["username"], "password": printed["password"]}
    first = _post(local_platform, "/session", credentials)
    assert first.status_code == 200, first.text
    token = first.json()["access_token"]
    assert first.json()["restriction"] == "totp_enrolment"
    # The authorizer reads (and keeps for a few seconds) the account before enrolment.
    assert _get(local_platform, "/accounts", token).status_code == 403

    started = _post(local_platform, "/me/totp", {}, token).json()
    secret = started["secret_code"]
    # The QR code is drawn by the platform itself, from the otpauth URI it shows beside it.
    assert started["qr_code"].startswith("data:image/svg+xml")
    assert started["qr_code"] == security.qr_code(started["otpauth_uri"])
    assert f"secret={secret}" in started["otpauth_uri"]
    wrong = _post(local_platform, "/me/totp/verification", {"code": _wrong(totp_code(secret))}, token)
    assert wrong.status_code == 422, wrong.text
    assert _get(local_platform, "/me", token).json()["totp_enabled"] is False

    enrolled = _post(local_platform, "/me/totp/verification", {"code": totp_code(secret)}, token)
    assert enrolled.status_code == 200, enrolled.text
    right_after = _get(local_platform, "/accounts", token)
    assert right_after.status_code == 200, right_after.text

    challenge = _post(local_platform, "/session", credentials).json()
    assert challenge["challenge"] == "SOFTWARE_TOKEN_MFA"
    step = {"username": printed["username"], "challenge": "SOFTWARE_TOKEN_MFA", "session": challenge["session"]}
    refused = _post(local_platform, "/session/challenge", {**step, "code": _wrong(totp_code(secret))})
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["message"]

    again = _post(local_platform, "/session", credentials).json()
    signed_in = _post(
        local_platform, "/session/challenge", {**step, "session": again["session"], "code": totp_code(secret)}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["status"] == "signed_in"
    assert _get(local_platform, "/accounts", signed_in.json()["access_token"]).status_code == 200
