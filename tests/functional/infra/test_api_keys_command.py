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
