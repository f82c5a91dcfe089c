"""The operations command that issues API keys to business systems and service channels."""

import boto3

from infra import keys


def test_an_issued_key_joins_its_usage_plan_and_is_listed_by_name(aws):
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    plan = aws.usage_plans["BusinessSystemsUsagePlan"]

    issued = keys.issue_key(apigateway, plan, "pension-system", "养老保险业务系统")

    assert issued["value"] and issued["id"]
    assert keys.list_keys(apigateway, plan) == [{"id": issued["id"], "name": "pension-system"}]
    assert keys.list_keys(apigateway, aws.usage_plans["ServiceChannelsUsagePlan"]) == []
    stored = apigateway.get_api_key(apiKey=issued["id"], includeValue=True)
    assert stored["enabled"] is True and stored["value"] == issued["value"]


def test_the_local_gateway_holds_an_issued_key_to_its_plans_limits(aws):
    from infra.local.gateway import ApiKeys, PlanLimits

    apigateway = boto3.client("apigateway", region_name="us-east-1")
    business = keys.issue_key(apigateway, aws.usage_plans["BusinessSystemsUsagePlan"], "pension-system", "养老")
    channel = keys.issue_key(apigateway, aws.usage_plans["ServiceChannelsUsagePlan"], "app", "掌上社保")
    checked = ApiKeys(apigateway, aws.usage_plans.values())

    assert checked.lookup(business["value"]) == business["id"]
    assert checked.limits(business["id"]) == PlanLimits(rate=100.0, burst=200)  # as template.yaml sets them
    assert checked.lookup(channel["value"]) == channel["id"]
    assert checked.limits(channel["id"]) == PlanLimits(rate=50.0, burst=100, quota=200_000, period="DAY")
    assert checked.lookup("not-a-key") is None


PLANS = {"business": "BusinessSystemsUsagePlan", "channel": "ServiceChannelsUsagePlan"}


def _plans(aws) -> dict[str, str]:
    return {plan: aws.usage_plans[logical] for plan, logical in PLANS.items()}


def _commands_on(aws, monkeypatch) -> None:
    """The command's look-ups of the stack answered from the provisioned moto (no CloudFormation)."""
    outputs = {"BusinessSystemsUsagePlanId": aws.usage_plans["BusinessSystemsUsagePlan"],
               "ServiceChannelsUsagePlanId": aws.usage_plans["ServiceChannelsUsagePlan"]}  # fmt: skip
    monkeypatch.setattr(keys, "stack_outputs", lambda _cloudformation, _stack: outputs)
    monkeypatch.setattr(keys, "stack_resources", lambda _cloudformation, _stack: dict(aws.physical))


def test_a_rotated_key_gets_a_new_value_and_the_old_ones_grants_and_the_old_key_works_until_revoked(aws):
    from datetime import UTC, datetime

    from sms_platform.contacts import channels
    from sms_platform.sources import api_key_grants, trigger_rules
    from sms_platform.staff.context import Office, Role

    from infra.local.gateway import ApiKeys
    from tests.staff_calls import member

    now = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
    apigateway = boto3.client("apigateway", region_name="us-east-1")
    old = keys.issue_key(apigateway, aws.usage_plans["BusinessSystemsUsagePlan"], "pension-system", "养老保险业务系统")
    ops = member("ops-1", Office.it, Role.it_ops)
    trigger_rules.grant(ops, old["id"], "pension.paid", now=now)
    channels.grant(ops, old["id"], "online_declaration", now=now)

    new = keys.rotate_key(
        apigateway, _plans(aws), old["id"], lambda was, to: api_key_grants.carry_over(ops, was, to, now=now)
    )

    assert new["id"] != old["id"] and new["value"] != old["value"] and new["name"] == "pension-system"
    assert api_key_grants.grants_of(new["id"]).model_dump(exclude={"api_key_id"}) == {
        "event_types": ["pension.paid"],
        "sources": ["online_declaration"],
    }
    gateway = ApiKeys(apigateway, aws.usage_plans.values())
    assert (gateway.lookup(old["value"]), gateway.lookup(new["value"])) == (old["id"], new["id"])  # both work
    listed = {key["id"]: key for key in keys.describe_keys(apigateway, _plans(aws))}
    assert listed[new["id"]] | {"id": ""} == {"plan": "business", "id": "", "name": "pension-system", "kind": "live",
                                             "enabled": True, "description": f"replaces {old['id']}"}  # fmt: skip

    keys.revoke_key(apigateway, _plans(aws), old["id"])

    assert ApiKeys(apigateway, aws.usage_plans.values()).lookup(old["value"]) is None
    assert ApiKeys(apigateway, aws.usage_plans.values()).lookup(new["value"]) == new["id"]
    assert {key["id"]: key["enabled"] for key in keys.describe_keys(apigateway, _plans(aws))} == {
        old["id"]: False,
        new["id"]: True,
    }


def test_the_command_lists_issues_rotates_and_revokes_by_id_and_rotates_a_webhook_secret(aws, monkeypatch, capsys):
    import json
    import re

    _commands_on(aws, monkeypatch)
    assert keys.main(["issue", "--stack", "s", "--plan", "channel", "--name", "kiosk"]) == 0
    issued = capsys.readouterr().out
    key_id = re.search(r"\(id (\w+), live\)", issued).group(1)
    value = re.search(r"Value, shown once: (\S+)", issued).group(1)

    assert keys.main(["list", "--stack", "s"]) == 0
    listing = capsys.readouterr().out
    assert re.search(rf"channel +{key_id} +live +enabled +kiosk", listing) and value not in listing

    assert keys.main(["rotate", "--stack", "s", "--key-id", key_id, "--operator", "zhang.wei"]) == 0
    rotated = capsys.readouterr().out
    new_id = re.search(r"\(id (\w+)\) replaces", rotated).group(1)
    assert keys.main(["revoke", "--stack", "s", "--key-id", key_id]) == 0
    assert keys.main(["list", "--stack", "s"]) == 0
    listing = capsys.readouterr().out
    assert re.search(rf"{key_id} +live +revoked", listing) and re.search(rf"{new_id} +live +enabled", listing)

    assert keys.main(["revoke", "--stack", "s", "--key-id", "nosuchkey"]) == 2
    assert "none of the platform's usage plans" in capsys.readouterr().err

    assert keys.main(["rotate-secret", "--stack", "s", "--secret", "hotline", "--grace-hours", "48"]) == 0
    printed = capsys.readouterr().out
    new_value = re.search(r"new value, shown once: (\S+)", printed).group(1)
    stored = json.loads(
        boto3.client("secretsmanager", region_name="us-east-1").get_secret_value(
            SecretId=aws.physical["WebhookSecret"]
        )["SecretString"]
    )
    assert stored["hotline_webhook_secret"] == new_value and len(new_value) >= 32
    assert stored["previous"]["hotline_webhook_secret"]["value"] == "test-hotline-secret"
