"""The API's page (``/v1/docs``) in headless Chromium: Swagger UI renders the one OpenAPI
document, staff and contract routes alike, with every file from the platform itself."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, shot

pytestmark = pytest.mark.browser


def test_the_docs_page_shows_every_kind_of_route_loading_nothing_from_elsewhere(browser, portal_platform):
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{portal_platform.api}/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("威海市社会保险业务短信服务平台接口")
    for tag in ("12333 挂机短信", "业务事件", "订阅（服务渠道）", "支付通知", "运营商推送", "通讯录采集", "登录"):
        expect(page.locator(".opblock-tag-section").filter(has_text=tag).first).to_be_visible()
    hangups = page.locator(".opblock").filter(has_text="/v1/hotline/hangups").first
    expect(hangups).to_be_visible()
    hangups.locator(".opblock-summary").click()
    expect(hangups).to_contain_text("pension-payment-date")  # the contract's example body
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    shot(page, "api-docs")
    page.screenshot(path=str(ARTIFACTS / "portal-api-docs-top.png"))  # what a reader sees first

    own = urlsplit(portal_platform.api).netloc
    elsewhere = [url for url in requested if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != own]
    assert elsewhere == []
    assert any(url.endswith("/v1/openapi.json") for url in requested)
