import pytest
from sms_platform.foundation.observability import redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sent to 13812341234", "sent to 138****1234"),
        ("phone +86 138-1234-1234 ok", "phone 138****1234 ok"),
        ("id 37100219900101123X end", "id 371002***********X end"),
        ("POST /v1/carrier/receipts?token=abc123&x=1", "POST /v1/carrier/receipts?token=***&x=1"),
        ("order 20261128000001234567", "order 20261128000001234567"),
        ("biz 544157599796692941^0", "biz 544157599796692941^0"),
        ("nothing here", "nothing here"),
    ],
)
def test_redact_masks_numbers_and_tokens(text, expected):
    assert redact(text) == expected


def test_log_mask_matches_the_display_mask():
    from sms_platform.foundation.identifiers import mask_id_number

    assert redact("37100219900101123X") == mask_id_number("37100219900101123X")


def test_logger_output_is_redacted():
    import logging

    from sms_platform.foundation.observability import logger

    record = logging.LogRecord(
        "weihai-sms", logging.INFO, __file__, 1, "reached 13912345678 via token=secret-value", (), None
    )
    out = logger().registered_formatter.format(record)
    assert "13912345678" not in out and "secret-value" not in out
    assert "139****5678" in out
