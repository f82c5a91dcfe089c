"""What the platform keeps about an API key (CONTRACTS §7): the grants a test key is checked
against, and its callback URL as it is checked and as logs may show it (pure)."""

from __future__ import annotations

import pytest
from sms_platform.foundation.errors import ValidationFailed
from sms_platform.sources.caller_keys import CallerKey, check_url, url_shown


@pytest.mark.parametrize(
    ("key", "holder"),
    [
        (CallerKey(api_key_id="live1"), "live1"),
        (CallerKey(api_key_id="test1", kind="test", twin="live1"), "live1"),
        (CallerKey(api_key_id="test2", kind="test"), "test2"),  # no twin: its own grants
        (CallerKey(api_key_id="live2", twin="live1"), "live2"),  # a live key is never another's twin
    ],
)
def test_a_test_key_is_checked_against_its_live_twins_grants(key, holder):
    assert key.grant_holder == holder


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://pension.example.gov.cn/sms/status?token=abc", "https://pension.example.gov.cn/sms/status"),
        ("https://user:pass@example.gov.cn:8443/cb", "https://example.gov.cn:8443/cb"),
        (None, None),
    ],
)
def test_logs_and_the_audit_trail_show_a_callback_url_without_its_query_or_credentials(url, shown):
    assert url_shown(url) == shown


@pytest.mark.parametrize(
    "url",
    ["ftp://example.gov.cn/cb", "example.gov.cn/cb", "https:///cb", "https://example.gov.cn/cb#part",
     "https://example.gov.cn/" + "x" * 2100],
)  # fmt: skip
def test_a_callback_url_that_is_not_a_whole_http_address_is_refused_in_chinese(url):
    with pytest.raises(ValidationFailed, match="回调地址"):
        check_url(url)


def test_a_whole_address_is_kept_as_given():
    assert check_url(" http://127.0.0.1:8080/cb?token=t ") == "http://127.0.0.1:8080/cb?token=t"
