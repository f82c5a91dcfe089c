"""template.yaml is the source of truth: check what the rest of the project relies on."""

from pathlib import Path

from infra import template_model

MODEL = template_model.load()


def test_every_function_handler_exists():
    for function in MODEL.functions.values():
        module_file = function.code_path / f"{function.module.replace('.', '/')}.py"
        assert module_file.exists(), f"{function.logical_id}: {module_file} is missing"


def test_module_names_are_unique_across_function_directories():
    seen: dict[str, Path] = {}
    for directory in sorted(Path(template_model.ROOT, "functions").iterdir()):
        for entry in directory.iterdir():
            if entry.name.startswith((".", "__")):
                continue
            name = entry.stem if entry.suffix == ".py" else entry.name
            assert name not in seen, f"{name} is in both {seen.get(name)} and {directory}"
            seen[name] = directory


def test_lanes_report_partial_failures_and_bulk_is_capped():
    lanes = {source.queue: source for source in MODEL.queue_sources}
    assert {"HighQueue", "NormalQueue", "BulkQueue"} <= set(lanes)
    assert all(source.report_item_failures for source in lanes.values())
    assert lanes["BulkQueue"].max_concurrency is not None
    assert lanes["HighQueue"].max_concurrency is None


def test_visibility_timeout_is_at_least_six_times_the_consumer_timeout():
    queues = MODEL.of_type("AWS::SQS::Queue")
    for source in MODEL.queue_sources:
        visibility = int(queues[source.queue]["Properties"]["VisibilityTimeout"])
        assert visibility >= 6 * MODEL.functions[source.function].timeout, source.logical_id


def test_every_lane_has_a_dead_letter_queue():
    queues = MODEL.of_type("AWS::SQS::Queue")
    for source in MODEL.queue_sources:
        assert "RedrivePolicy" in queues[source.queue]["Properties"], source.queue


def test_layer_requirements_pin_the_same_versions_as_pyproject():
    import tomllib

    root = template_model.ROOT
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = [
        line.strip()
        for line in (root / "layers/shared/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert sorted(project) == sorted(layer)


def test_gateway_refusals_are_json_errors():
    import json

    for kind, response in MODEL.gateway_responses.items():
        body = json.loads(response["template"].replace("$context.error.messageString", '"x"'))
        assert set(body["error"]) >= {"code", "message"}, kind


def test_every_scan_suppression_gives_its_reason():
    """make lint's infrastructure scan passes only through fixes or suppressions that say why."""
    from samtranslator.yaml_helper import yaml_parse

    source = yaml_parse(template_model.TEMPLATE.read_text(encoding="utf-8"))
    for name, resource in source["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert str(skip.get("id", "")).startswith("CKV"), name
            assert len(str(skip.get("comment", "")).split()) >= 8, f"{name} skips {skip['id']} without a reason"


def test_every_queue_is_encrypted_with_the_platform_key():
    for name, queue in MODEL.of_type("AWS::SQS::Queue").items():
        assert queue["Properties"].get("KmsMasterKeyId") == {"Ref": "PlatformKey"}, name


def _allowed_actions(function: str) -> set[str]:
    actions: set[str] = set()
    for policy in MODEL.resources[f"{function}Role"]["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement.get("Effect") == "Allow":
                action = statement["Action"]
                actions.update(a.lower() for a in ([action] if isinstance(action, str) else action))
    return actions


def test_functions_using_the_encrypted_queues_may_use_the_key():
    """The queues are encrypted with the platform's key (the template's only KMS key): a sender
    needs a data key from it, a receiver needs to decrypt with it, or SQS refuses the call."""
    receivers = {source.function for source in MODEL.queue_sources}
    for function in MODEL.functions:
        actions = _allowed_actions(function)
        sends = any(a.startswith("sqs:sendmessage") for a in actions)
        if sends:
            assert actions & {"kms:generatedatakey", "kms:generatedatakey*"}, f"{function} sends without a data key"
        if sends or function in receivers:
            assert "kms:decrypt" in actions, f"{function} uses a queue without kms:Decrypt"
