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
        ("请拨打13812341234咨询", "请拨打138****1234咨询"),
        ('{"phone":"8613812341234"}', '{"phone":"138****1234"}'),
        ("template tpl-c16675232156 approved", "template tpl-c16675232156 approved"),
        ("rule 16675232156ab", "rule 16675232156ab"),
        ("rule 371002199001011234ab", "rule 371002199001011234ab"),
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


def test_every_handler_wears_logger_metrics_and_tracer_in_powertools_order():
    import ast

    from infra import template_model

    expected = ["logger().inject_lambda_context", "metrics().log_metrics", "tracer().capture_lambda_handler"]
    worn = {}
    for function in template_model.load().functions.values():
        tree = ast.parse(function.code_path.joinpath(f"{function.module}.py").read_text(encoding="utf-8"))
        handler = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function.attribute)
        decorators = [ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in handler.decorator_list]
        worn[function.module] = decorators
    assert len(worn) == 20 and all(decorators == expected for decorators in worn.values()), worn


def test_dispatch_counts_go_out_as_one_emf_document_per_kind_and_office(capsys):
    import json

    from sms_platform.sending.dispatcher import Tally

    tally = Tally()
    tally.add("sent", "targeted", "city", 3)
    tally.add("parts", "targeted", "city", 6)
    tally.add("failed", "targeted", "city")
    tally.add("sent", "hangup", "hotline", 1)
    tally.add("delayed", "hangup", "hotline", 0)  # nothing to count: not written
    tally.emit()
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    by_group = {(d["kind"], d["office"]): d for d in documents}
    assert set(by_group) == {("targeted", "city"), ("hangup", "hotline")}
    city = by_group[("targeted", "city")]
    assert (city["sent"], city["parts"], city["failed"]) == ([3.0], [6.0], [1.0])
    definition = city["_aws"]["CloudWatchMetrics"][0]
    assert definition["Namespace"] == "WeihaiSms" and definition["Dimensions"] == [["kind", "office", "service"]]
    assert {m["Name"] for m in definition["Metrics"]} == {"sent", "parts", "failed"}
    assert "delayed" not in by_group[("hangup", "hotline")] and tally.counts == {}


def test_tracing_is_off_outside_lambda_and_where_the_environment_turns_it_off():
    from sms_platform.foundation.observability import tracer

    assert tracer().disabled  # tests/conftest.py sets POWERTOOLS_TRACE_DISABLED, as make run does
