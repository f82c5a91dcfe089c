"""TC3-HMAC-SHA256 reproduces Tencent's published example of API 3.0's signature (DescribeInstances
on cvm, X-TC-Timestamp 1551113065) step by step, and signs what the official SDK signs."""

from __future__ import annotations

import pytest
from sms_platform.carrier import tc3

# Tencent's example request body and host (its "签名方法 v3" page).
BODY = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
HOST = "cvm.tencentcloudapi.com"
TIMESTAMP = 1551113065  # 2019-02-26 00:44:25 in Beijing, still 2019-02-25 in UTC
PUBLISHED_CANONICAL = (
    "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
    "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
)
PUBLISHED_STRING_TO_SIGN = (
    "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
    "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
)


def test_the_canonical_request_and_the_string_to_sign_are_the_published_ones():
    canonical = tc3.canonical_request(BODY, HOST)
    assert tc3.sha256_hex(BODY) == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    assert canonical == PUBLISHED_CANONICAL
    assert tc3.string_to_sign(canonical, TIMESTAMP, "cvm") == PUBLISHED_STRING_TO_SIGN


@pytest.mark.parametrize(
    ("secret_id", "secret_key", "published"),
    [
        # The Chinese page: its key pair is printed masked, and the signature it publishes is the
        # one of the masked strings exactly as printed.
        ("AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******", "Gu5t9xGARNpq86cd98joQYCN3*******",
         "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"),
        # The English page's version of the example, with its "...EXAMPLE" key.
        ("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
         "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"),
    ],
)  # fmt: skip
def test_the_signature_and_authorization_are_the_published_ones(secret_id, secret_key, published):
    assert tc3.signature(secret_key, PUBLISHED_CANONICAL, TIMESTAMP, "cvm") == published
    assert tc3.authorization(secret_id, secret_key, BODY, HOST, TIMESTAMP, "cvm") == (
        f"TC3-HMAC-SHA256 Credential={secret_id}/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={published}"
    )


def test_the_credential_date_is_the_utc_day_whatever_the_local_zone():
    assert tc3.utc_date(TIMESTAMP) == "2019-02-25"
    assert tc3.credential_scope(TIMESTAMP, "sms") == "2019-02-25/sms/tc3_request"


def test_what_the_official_sdk_signs_is_what_these_functions_sign():
    from tencentcloud.common.abstract_client import AbstractClient
    from tencentcloud.common.http.request import RequestInternal

    request = RequestInternal("sms.tencentcloudapi.com", "POST", "/")
    request.header.update({"Content-Type": "application/json", "Host": "sms.tencentcloudapi.com",
                           "X-TC-Timestamp": str(TIMESTAMP)})  # fmt: skip
    request.data = '{"PhoneNumberSet": ["+8613800138000"], "SignName": "威海人社"}'
    sdk = AbstractClient._get_tc3_signature(None, {}, request, "2019-02-25", "sms", "secret-key")
    canonical = tc3.canonical_request(request.data.encode(), "sms.tencentcloudapi.com", content_type="application/json")
    assert tc3.signature("secret-key", canonical, TIMESTAMP, "sms") == sdk


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("TC3-HMAC-SHA256 Credential=AKIDx/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host, Signature=ab",
         tc3.ParsedAuthorization("AKIDx", "2019-02-25", "sms", "content-type;host", "ab")),
        ("HMAC-SHA256 Credential=AKIDx/2019-02-25/sms/tc3_request, Signature=ab", None),
        ("TC3-HMAC-SHA256 Credential=AKIDx/2019-02-25/sms, SignedHeaders=content-type;host, Signature=ab", None),
        ("TC3-HMAC-SHA256 Credential=AKIDx/2019-02-25/sms/tc3_request, SignedHeaders=content-type;host", None),
        ("", None),
    ],
)  # fmt: skip
def test_authorization_headers_are_parsed_or_refused(header, parsed):
    assert tc3.parse_authorization(header) == parsed


def test_signed_headers_carry_the_action_version_region_and_timestamp():
    headers = tc3.signed_headers("AKIDx", "k", b"{}", "127.0.0.1:3901", action="SendSms", version="2021-01-11",
                                 region="ap-guangzhou", timestamp=TIMESTAMP, service="sms")  # fmt: skip
    assert {k: v for k, v in headers.items() if k != "Authorization"} == {
        "Content-Type": "application/json; charset=utf-8",
        "Host": "127.0.0.1:3901",
        "X-TC-Action": "SendSms",
        "X-TC-Timestamp": "1551113065",
        "X-TC-Version": "2021-01-11",
        "X-TC-Region": "ap-guangzhou",
    }
    assert headers["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDx/2019-02-25/sms/tc3_request, ")
