"""Issue an API key to a business system or a service channel of a deployed platform.

    python -m infra.keys issue --stack weihai-sms --plan business --name pension-system
    python -m infra.keys list --stack weihai-sms

The key joins the stack's usage plan for its kind (throttling and quota); the event types a
business system may send are granted afterwards by IT operations in the staff API
(``PUT /v1/staff/event-grants/{api_key_id}/{event_type}``). The key's value is printed once, to
be handed to the system's operators; it is never logged.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

PLAN_OUTPUTS = {"business": "BusinessSystemsUsagePlanId", "channel": "ServiceChannelsUsagePlanId"}


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def issue_key(apigateway: Any, usage_plan_id: str, name: str, description: str = "") -> dict[str, str]:
    """Create an enabled API key and attach it to the usage plan; returns its id and value."""
    key = apigateway.create_api_key(name=name, description=description, enabled=True)
    apigateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=key["id"], keyType="API_KEY")
    return {"id": key["id"], "name": key["name"], "value": key["value"]}


def list_keys(apigateway: Any, usage_plan_id: str) -> list[dict[str, str]]:
    found = apigateway.get_usage_plan_keys(usagePlanId=usage_plan_id).get("items", [])
    return [{"id": item["id"], "name": item["name"]} for item in found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.keys", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    issue = commands.add_parser("issue", help="create a key on a usage plan and print its value once")
    issue.add_argument("--stack", required=True)
    issue.add_argument("--plan", choices=sorted(PLAN_OUTPUTS), required=True)
    issue.add_argument("--name", required=True, help="the system or channel, e.g. pension-system, kiosk")
    issue.add_argument("--description", default="")
    listing = commands.add_parser("list", help="list the keys on both usage plans (names and ids only)")
    listing.add_argument("--stack", required=True)
    args = parser.parse_args(argv)

    import boto3

    outputs = stack_outputs(boto3.client("cloudformation"), args.stack)
    apigateway = boto3.client("apigateway")
    if args.command == "issue":
        key = issue_key(apigateway, outputs[PLAN_OUTPUTS[args.plan]], args.name, args.description)
        print(f"API key {key['name']} (id {key['id']}) on the {args.plan} plan.")
        print(f"Value, shown once: {key['value']}")
        return 0
    for plan, output in sorted(PLAN_OUTPUTS.items()):
        for key in list_keys(apigateway, outputs[output]):
            print(f"{plan:<9} {key['id']:<12} {key['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
