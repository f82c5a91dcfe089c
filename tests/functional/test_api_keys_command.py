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
