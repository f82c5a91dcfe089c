"""Browser tests of the staff portal: headless Chromium (Debian's ``chromium``) driven through
Playwright against the local platform, started once for these tests with its clock at 10:00
Beijing time today, inside the publicity window.

- ``portal_platform``: the running platform (``tests/e2e/conftest.py``'s ``start``).
- ``staff_api``: a ``StaffApi`` that sets up accounts and data over HTTP, as an administrator
  or an operator would through the API.
- ``browser``: a fresh Chromium profile; ``browser.new_page()`` gives a tab with its own
  sign-in (the portal keeps its token in sessionStorage, which is per tab).
- ``shot(page, name)``: saves the page as ``test-artifacts/portal-<name>.png``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sms_platform.foundation.clock import BEIJING

from tests.e2e.conftest import RunningPlatform, start
from tests.staff_fixtures import totp_code

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = ("admin", "Weihai-12333-dev!")  # the local platform's printed development defaults
PASSWORD = "Weihai-Portal-2024!"
HOTLINE_SECRET = "local-hotline-secret"


def platform_clock() -> str:
    """10:00 today in Beijing: publicity may be sent, whatever the hour the tests run at."""
    today = datetime.now(BEIJING).date()
    return f"{today.isoformat()}T10:00:00+08:00"


@pytest.fixture(scope="session")
def portal_platform() -> Iterator[RunningPlatform]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make browser does it as root)")
    platform = start({"PLATFORM_CLOCK": platform_clock()})
    yield platform
    platform.stop()


class ApiFailure(AssertionError):
    pass


class StaffApi:
    """The staff API over HTTP, for setting up what a test needs before the browser takes over."""

    def __init__(self, platform: RunningPlatform) -> None:
        self.platform = platform
        self.base = platform.api
        self.numbers = itertools.count(1)
        self.admin_token = ""
        self.admin_secret = ""

    def call(self, method: str, path: str, token: str | None = None, body: Any = None, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = requests.request(
            method, f"{self.base}/v1/staff{path}", json=body, params=params or None, headers=headers, timeout=30
        )
        if answer.status_code >= 400:
            raise ApiFailure(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.text else None

    def admin(self) -> str:
        """The seeded permission administrator's token, enrolling its TOTP the first time."""
        if self.admin_token:
            return self.admin_token
        answer = self.call("POST", "/session", body={"username": ADMIN[0], "password": ADMIN[1]})
        if answer["status"] == "challenge":
            answer = self.call(
                "POST",
                "/session/challenge",
                body={
                    "username": ADMIN[0],
                    "challenge": answer["challenge"],
                    "session": answer["session"],
                    "code": totp_code(self.admin_secret),
                },
            )
        token = answer["access_token"]
        if answer["restriction"] == "totp_enrolment":
            self.admin_secret = self.call("POST", "/me/totp", token)["secret_code"]
            self.call("POST", "/me/totp/verification", token, {"code": totp_code(self.admin_secret)})
        self.admin_token = token
        return token

    def create_account(self, prefix: str, office: str, roles: list[str], real_name: str) -> dict[str, Any]:
        """A new account (through the administrator) with its temporary password."""
        number = next(self.numbers)
        username = f"{prefix}{number}-{os.getpid()}"
        created = self.call(
            "POST",
            "/accounts",
            self.admin(),
            {
                "username": username,
                "real_name": real_name,
                "staff_number": f"W{os.getpid()}{number:03d}",
                "office": office,
                "roles": roles,
            },
        )
        return {**created["account"], "temporary_password": created["temporary_password"]}

    def account(self, prefix: str, office: str, roles: list[str], real_name: str) -> dict[str, Any]:
        """A new account that has set its own password (``PASSWORD``), with a token."""
        account = self.create_account(prefix, office, roles, real_name)
        answer = self.call(
            "POST", "/session", body={"username": account["username"], "password": account["temporary_password"]}
        )
        answer = self.call(
            "POST",
            "/session/challenge",
            body={
                "username": account["username"],
                "challenge": "NEW_PASSWORD_REQUIRED",
                "session": answer["session"],
                "new_password": PASSWORD,
            },
        )
        return {**account, "password": PASSWORD, "token": answer["access_token"]}

    def active_template(
        self, author: dict[str, Any], reviewer: dict[str, Any], draft: dict[str, Any]
    ) -> dict[str, Any]:
        """A template written, approved, filed and made active, as its filing poller does it."""
        created = self.call("POST", "/templates", author["token"], draft)
        template_id = created["template_id"]
        self.call("POST", f"/templates/{template_id}/versions/1/submission", author["token"])
        self.call("POST", f"/templates/{template_id}/versions/1/approval", reviewer["token"], {"note": None})
        deadline = time.monotonic() + 20  # the carrier simulator reviews a filing for two seconds
        while True:
            self.poll_filings()
            template = self.call("GET", f"/templates/{template_id}", author["token"])
            if template["active_version"] == 1 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert template["active_version"] == 1, template
        return template

    def targeted_template(
        self, author: dict[str, Any], reviewer: dict[str, Any], name: str, office: str, text: str,
        *, variables: list[dict[str, Any]] | None = None, remark: str,
    ) -> dict[str, Any]:  # fmt: skip
        """An active targeted-notice template of ``office``, valid from today (``active_template``)."""
        draft = {
            "name": name, "category": "targeted", "office": office, "text": text, "variables": variables or [],
            "valid_from": self.platform_now().date().isoformat(), "valid_until": "2030-12-31", "remark": remark,
        }  # fmt: skip
        return self.active_template(author, reviewer, draft)

    def add_people(self, author: dict[str, Any], people: list[dict[str, Any]]) -> None:
        """Records put in the address book by ``author``, every one accepted."""
        batch = self.call("POST", "/contacts/batch", author["token"], {"contacts": people})
        assert batch["rejected"] == 0, batch

    def finished_send(self, token: str, request_id: str, timeout: float = 150) -> dict[str, Any]:
        """The send's detail once the platform says it is over (``finished``: every message
        final), as its page then shows it and never changes again."""
        deadline = time.monotonic() + timeout
        while True:
            view = self.call("GET", f"/send-requests/{request_id}", token)
            if view["finished"]:
                return view
            assert time.monotonic() < deadline, view
            time.sleep(1)

    def poll_filings(self) -> None:
        """One round of the filing poller (scheduled every five minutes) run now, as the
        platform's function would run it."""
        from sms_platform.foundation import clock
        from sms_platform.templates import filing

        with self.platform.functions_environment():
            saved = clock.get_clock()
            clock.set_clock(clock.Clock(self.platform_now()))
            try:
                filing.poll_filings()
            finally:
                clock.set_clock(saved)

    def hangup(self, call: dict[str, Any]) -> dict[str, Any]:
        """The 12333 telephony system's signed hang-up webhook (CONTRACTS §2)."""
        body = json.dumps(call).encode()
        stamp = str(int(self.platform_now().timestamp()))
        signature = hmac.new(HOTLINE_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        answer = requests.post(
            f"{self.base}/v1/hotline/hangups",
            data=body,
            timeout=30,
            headers={
                "Content-Type": "application/json",
                "X-Hotline-Timestamp": stamp,
                "X-Hotline-Signature": signature,
            },
        )
        assert answer.status_code == 202, answer.text
        return answer.json()

    def platform_now(self) -> datetime:
        """The platform's clock now, never ahead of it: the time its ready line gave, running on
        since that line was read. (Counting from the process start instead ran seconds ahead of
        the platform, which set its clock only once it had started.)"""
        at_ready = datetime.fromisoformat(self.platform.ready["clock"])
        return at_ready + timedelta(seconds=time.monotonic() - self.platform.ready_at)


@pytest.fixture(scope="session")
def staff_api(portal_platform: RunningPlatform) -> StaffApi:
    return StaffApi(portal_platform)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture
def browser(playwright_driver: Any, tmp_path: Path) -> Iterator[Any]:
    """A Chromium with a fresh profile of its own."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1360, "height": 900},
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"portal-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, platform: RunningPlatform, username: str, password: str) -> None:
    """Open the portal and sign in through its form."""
    page.goto(f"{platform.api}/portal/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
