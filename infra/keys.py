"""API keys and webhook secrets of a deployed platform, for IT operations.

    python -m infra.keys list          --stack weihai-sms
    python -m infra.keys issue         --stack weihai-sms --plan business --name pension-system
    python -m infra.keys rotate        --stack weihai-sms --key-id abc123 --operator zhang.wei
    python -m infra.keys revoke        --stack weihai-sms --key-id abc123
    python -m infra.keys rotate-secret --stack weihai-sms --secret hotline --grace-hours 24
    python -m infra.keys issue         --stack weihai-sms --plan business --name pension-system \
                                       --kind test --twin abc123 --operator zhang.wei
    python -m infra.keys set-callback  --stack weihai-sms --key-id abc123 --operator zhang.wei \
                                       --url https://pension.example.gov.cn/sms/status

A key joins the stack's usage plan for its kind (throttling and quota). The event types a
business system may send and the sources a channel may collect for are granted by key id, by
IT operations in the staff API (``PUT /v1/staff/event-grants/{api_key_id}/{event_type}``).

API Gateway cannot change a key's value: ``rotate`` issues a replacement on the same plan, gives
it the old key's grants (audited in the operator's name) and leaves the old key working, so the
system switches at its own pace; ``revoke`` then disables the old one. ``rotate-secret`` gives a
webhook secret (12333 hang-ups, payment notifications, the carrier's push token) a new value and
keeps accepting the old one for the grace period (``sms_platform.foundation.secrets.rotated``).

A test key (``--kind test``, CONTRACTS §7) is accepted wherever its live twin (``--twin``) is,
checked against the twin's grants, and its messages never reach the carrier. ``set-callback``
gives a key a callback URL and a new callback secret (``--clear`` removes them); both are
recorded by ``sms_platform.sources.caller_keys`` and audited in the operator's name.

New values are printed once, to be handed to the system's operators; they are never logged.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets as random_values
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

PLAN_OUTPUTS = {"business": "BusinessSystemsUsagePlanId", "channel": "ServiceChannelsUsagePlanId"}
# Kinds of key, recorded as a tag on each key; every kind joins its plan the same way.
KINDS = ("live", "test")
KIND_TAG = "platform:kind"
SECRET_NAMES = {
    "hotline": "hotline_webhook_secret",
    "payment": "payment_webhook_secret",
    "carrier": "carrier_callback_token",
}


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def stack_resources(cloudformation: Any, stack: str) -> dict[str, str]:
    """Physical ids of the stack's resources by logical id."""
    found: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            found[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", "")
    return found


def functions_environment(resources: dict[str, str], globals_env: dict[str, Any]) -> dict[str, str]:
    """The template's ``Globals`` variables that name a resource, as the functions see them."""
    environment = {}
    for name, value in globals_env.items():
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in resources:
            environment[name] = resources[value["Ref"]]
    return environment


def issue_key(
    apigateway: Any, usage_plan_id: str, name: str, description: str = "", kind: str = "live"
) -> dict[str, str]:
    """Create an enabled API key and attach it to the usage plan; returns its id and value."""
    if kind not in KINDS:
        raise ValueError(f"a key is one of {', '.join(KINDS)}, not {kind!r}")
    key = apigateway.create_api_key(name=name, description=description, enabled=True, tags={KIND_TAG: kind})
    apigateway.create_usage_plan_key(usagePlanId=usage_plan_id, keyId=key["id"], keyType="API_KEY")
    return {"id": key["id"], "name": key["name"], "value": key["value"]}


def list_keys(apigateway: Any, usage_plan_id: str) -> list[dict[str, str]]:
    found = apigateway.get_usage_plan_keys(usagePlanId=usage_plan_id).get("items", [])
    return [{"id": item["id"], "name": item["name"]} for item in found]


def describe_keys(apigateway: Any, plans: dict[str, str]) -> list[dict[str, Any]]:
    """Every key on the plans (``{plan: usage plan id}``): its plan, id, name, kind and whether
    it is enabled (a revoked key is not). Never its value."""
    described = []
    for plan, usage_plan_id in sorted(plans.items()):
        for member in list_keys(apigateway, usage_plan_id):
            key = apigateway.get_api_key(apiKey=member["id"], includeValue=False)
            described.append(
                {
                    "plan": plan,
                    "id": key["id"],
                    "name": key["name"],
                    "kind": (key.get("tags") or {}).get(KIND_TAG, "live"),
                    "enabled": bool(key.get("enabled")),
                    "description": key.get("description", ""),
                }
            )
    return described


def plan_of(apigateway: Any, plans: dict[str, str], key_id: str) -> tuple[str, str]:
    """The plan (name, usage plan id) a key is on; ValueError when it is on none of ours."""
    for plan, usage_plan_id in sorted(plans.items()):
        if any(member["id"] == key_id for member in list_keys(apigateway, usage_plan_id)):
            return plan, usage_plan_id
    raise ValueError(f"key {key_id} is on none of the platform's usage plans")


def rotate_key(
    apigateway: Any, plans: dict[str, str], key_id: str, carry_over: Callable[[str, str], Any]
) -> dict[str, str]:
    """A replacement for ``key_id``: the same name and kind on the same plan, with its grants
    (``carry_over(old id, new id)``). The old key keeps working until it is revoked."""
    _, usage_plan_id = plan_of(apigateway, plans, key_id)
    old = apigateway.get_api_key(apiKey=key_id, includeValue=False)
    kind = (old.get("tags") or {}).get(KIND_TAG, "live")
    new = issue_key(apigateway, usage_plan_id, old["name"], f"replaces {key_id}", kind)
    carry_over(key_id, new["id"])
    return new


def revoke_key(apigateway: Any, plans: dict[str, str], key_id: str) -> None:
    """Disable a key: API Gateway refuses it from then on (403). Its grants stay, unused."""
    plan_of(apigateway, plans, key_id)
    apigateway.update_api_key(apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}])


def rotate_webhook_secret(
    secretsmanager: Any, secret_id: str, name: str, *, grace: timedelta, now: datetime, value: str | None = None
) -> str:
    """Give ``name`` of the ``WebhookSecret`` a new value (generated unless given), the old one
    accepted until ``now + grace``; returns the new value."""
    from sms_platform.foundation.secrets import rotated

    current = json.loads(secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"])
    new_value = value or random_values.token_urlsafe(30)
    updated = rotated(current, name, new_value, grace=grace, now=now)
    secretsmanager.put_secret_value(SecretId=secret_id, SecretString=json.dumps(updated))
    return new_value


def _operator_context(operator: str) -> Any:
    """The operator running the command, as the audit trail names them (IT operations)."""
    from sms_platform.staff.context import Office, Role, StaffContext

    return StaffContext(
        account_id=f"ops:{operator}",
        username=operator,
        real_name=operator,
        staff_number="",
        office=Office.it,
        roles=frozenset({Role.it_ops}),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m infra.keys", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="every key on both usage plans: plan, id, name, kind, state")
    issue = commands.add_parser("issue", help="create a key on a usage plan and print its value once")
    issue.add_argument("--plan", choices=sorted(PLAN_OUTPUTS), required=True)
    issue.add_argument("--name", required=True, help="the system or channel, e.g. pension-system, kiosk")
    issue.add_argument("--description", default="")
    issue.add_argument("--kind", choices=KINDS, default="live")
    issue.add_argument("--twin", help="a test key's live key: the one whose grants it is checked against")
    issue.add_argument("--operator", help="your staff username (needed for a test key, recorded in the audit trail)")
    rotate = commands.add_parser("rotate", help="a replacement key with the old one's grants; the old one still works")
    rotate.add_argument("--key-id", required=True)
    rotate.add_argument("--operator", required=True, help="your staff username, recorded in the audit trail")
    revoke = commands.add_parser("revoke", help="disable a key (after its system switched to the replacement)")
    revoke.add_argument("--key-id", required=True)
    callback = commands.add_parser("set-callback", help="a key's callback URL and a new callback secret, shown once")
    callback.add_argument("--key-id", required=True)
    callback.add_argument("--operator", required=True, help="your staff username, recorded in the audit trail")
    target = callback.add_mutually_exclusive_group(required=True)
    target.add_argument("--url", help="where the platform posts each message's state changes")
    target.add_argument("--clear", action="store_true", help="post no more callbacks for this key")
    secret = commands.add_parser("rotate-secret", help="a new webhook secret, the old one accepted for a while")
    secret.add_argument("--secret", choices=sorted(SECRET_NAMES), required=True)
    secret.add_argument("--grace-hours", type=float, required=True, help="how long the old value is still accepted")
    secret.add_argument("--value", help="the new value (default: 40 random characters)")
    for command in (listing, issue, rotate, revoke, callback, secret):
        command.add_argument("--stack", required=True)
    return parser


def _use_stack_environment(cloudformation: Any, stack: str) -> None:
    """Let the platform's own code (the grants and the audit trail) reach the stack's tables."""
    from sms_platform.foundation import settings

    from infra import template_model

    resources = stack_resources(cloudformation, stack)
    os.environ.update(functions_environment(resources, template_model.load().globals_env))
    settings.reset()


def _keys_command(args: argparse.Namespace, apigateway: Any, plans: dict[str, str], cloudformation: Any) -> None:
    if args.command == "list":
        for key in describe_keys(apigateway, plans):
            state = "enabled" if key["enabled"] else "revoked"
            print(f"{key['plan']:<9} {key['id']:<12} {key['kind']:<5} {state:<8} {key['name']}  {key['description']}")
    elif args.command == "issue":
        _issue_command(args, apigateway, plans, cloudformation)
    elif args.command == "rotate":
        from sms_platform.sources import api_key_grants, caller_keys

        _use_stack_environment(cloudformation, args.stack)
        ctx, now = _operator_context(args.operator), datetime.now(UTC)

        def carry_over(old: str, to: str) -> None:
            api_key_grants.carry_over(ctx, old, to, now=now)
            caller_keys.carry_over(ctx, old, to, now=now)

        new = rotate_key(apigateway, plans, args.key_id, carry_over)
        print(f"API key {new['name']} (id {new['id']}) replaces {args.key_id}, with its grants.")
        print(f"Value, shown once: {new['value']}")
        print(f"Key {args.key_id} keeps working: revoke it once the system uses the new value.")
    elif args.command == "revoke":
        revoke_key(apigateway, plans, args.key_id)
        print(f"API key {args.key_id} revoked.")
    elif args.command == "set-callback":
        _callback_command(args, apigateway, plans, cloudformation)


def _issue_command(args: argparse.Namespace, apigateway: Any, plans: dict[str, str], cloudformation: Any) -> None:
    if args.kind == "test":
        if not args.operator:
            raise ValueError("a test key is recorded in the audit trail: give --operator")
        if args.twin:
            plan_of(apigateway, plans, args.twin)  # the twin must be one of the platform's keys
    key = issue_key(apigateway, plans[args.plan], args.name, args.description, args.kind)
    if args.kind == "test":
        from sms_platform.sources import caller_keys

        _use_stack_environment(cloudformation, args.stack)
        ctx, now = _operator_context(args.operator), datetime.now(UTC)
        caller_keys.register(ctx, key["id"], kind="test", name=args.name, twin=args.twin, now=now)
    twin = f", twin of {args.twin}" if args.twin else ""
    print(f"API key {key['name']} (id {key['id']}, {args.kind}{twin}) on the {args.plan} plan.")
    print(f"Value, shown once: {key['value']}")


def _callback_command(args: argparse.Namespace, apigateway: Any, plans: dict[str, str], cloudformation: Any) -> None:
    from sms_platform.foundation.errors import PlatformError
    from sms_platform.sources import caller_keys

    plan_of(apigateway, plans, args.key_id)
    _use_stack_environment(cloudformation, args.stack)
    ctx, now = _operator_context(args.operator), datetime.now(UTC)
    try:
        if args.clear:
            caller_keys.clear_callback(ctx, args.key_id, now=now)
            print(f"API key {args.key_id} has no callback URL any more.")
            return
        key, secret = caller_keys.set_callback(ctx, args.key_id, args.url, now=now)
    except PlatformError as refused:
        raise ValueError(str(refused)) from None
    print(f"API key {args.key_id} posts status callbacks to {caller_keys.url_shown(key.callback_url)}.")
    print(f"Callback secret, shown once: {secret}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    import boto3

    cloudformation = boto3.client("cloudformation")
    if args.command == "rotate-secret":
        secret_id = stack_resources(cloudformation, args.stack)["WebhookSecret"]
        grace = timedelta(hours=args.grace_hours)
        now = datetime.now(UTC)
        value = rotate_webhook_secret(
            boto3.client("secretsmanager"), secret_id, SECRET_NAMES[args.secret], grace=grace, now=now, value=args.value
        )
        print(f"{SECRET_NAMES[args.secret]}: new value, shown once: {value}")
        print(f"The old value is accepted until {(now + grace).isoformat(timespec='minutes')}.")
        return 0
    outputs = stack_outputs(cloudformation, args.stack)
    plans = {plan: outputs[output] for plan, output in PLAN_OUTPUTS.items()}
    try:
        _keys_command(args, boto3.client("apigateway"), plans, cloudformation)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
