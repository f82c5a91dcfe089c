"""Request signing for the carrier API: Alibaba's published example and the encoding rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sms_platform.carrier import signing

# Alibaba Cloud's own worked example for SendSms (GET, Format XML).
PUBLISHED_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_published_example_signature():
    assert signing.sign(PUBLISHED_EXAMPLE, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_published_example_string_to_sign_starts_with_method_and_encoded_path():
    text = signing.string_to_sign(PUBLISHED_EXAMPLE, "GET")
    assert text.startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML")
    # The Chinese sign name is UTF-8 percent-encoded, then encoded again as part of the query.
    assert "SignName%3D%25E9%2598%25BF" in text


def test_signature_depends_on_method_secret_and_every_value():
    base = signing.sign(PUBLISHED_EXAMPLE, "testSecret", "GET")
    assert signing.sign(PUBLISHED_EXAMPLE, "testSecret", "POST") != base
    assert signing.sign(PUBLISHED_EXAMPLE, "otherSecret", "GET") != base
    assert signing.sign({**PUBLISHED_EXAMPLE, "PhoneNumbers": "15300000002"}, "testSecret", "GET") != base


def test_signature_parameter_itself_is_not_signed():
    signed = {**PUBLISHED_EXAMPLE, "Signature": "anything"}
    assert signing.sign(signed, "testSecret", "GET") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


@pytest.mark.parametrize(
    ("text", "encoded"),
    [
        ("abcXYZ019", "abcXYZ019"),
        ("-_.~", "-_.~"),
        (" ", "%20"),
        ("*", "%2A"),
        ("+", "%2B"),
        ("/", "%2F"),
        ("=&", "%3D%26"),
        ("%", "%25"),
        ('{"a":"b"}', "%7B%22a%22%3A%22b%22%7D"),
        ("张", "%E5%BC%A0"),
        ("2017-07-12T02:42:19Z", "2017-07-12T02%3A42%3A19Z"),
        (123, "123"),
    ],
)
def test_percent_encode_follows_rfc3986(text, encoded):
    assert signing.percent_encode(text) == encoded


def test_canonical_query_sorts_by_name():
    assert signing.canonical_query({"b": "2", "a": "1 1", "Signature": "x", "C": "3"}) == "C=3&a=1%201&b=2"


NOW = datetime(2025, 3, 1, 23, 30, 5, tzinfo=UTC)


def test_signed_params_adds_the_common_parameters():
    params = signing.signed_params(
        "SendSms", {"PhoneNumbers": "13800138000", "OutId": None}, "key-id", "key-secret", now=NOW, nonce="n-1"
    )
    assert params == {
        "AccessKeyId": "key-id",
        "Action": "SendSms",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "n-1",
        "SignatureVersion": "1.0",
        "Timestamp": "2025-03-01T23:30:05Z",
        "Version": "2017-05-25",
        "PhoneNumbers": "13800138000",
        "Signature": signing.sign({k: v for k, v in params.items() if k != "Signature"}, "key-secret", "POST"),
    }


@pytest.mark.parametrize(
    ("now", "stamp"),
    [
        (datetime(2025, 3, 2, 7, 30, 5, tzinfo=timezone(timedelta(hours=8))), "2025-03-01T23:30:05Z"),
        (datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "2025-12-31T23:59:59Z"),
    ],
)
def test_timestamp_is_utc_whatever_the_zone_of_the_clock(now, stamp):
    assert signing.signed_params("QuerySmsTemplate", {}, "k", "s", now=now, nonce="n")["Timestamp"] == stamp


def test_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        signing.signed_params("SendSms", {}, "k", "s", now=datetime(2025, 3, 1), nonce="n")
