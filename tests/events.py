"""Builders of events in the exact shapes AWS delivers them, for handler tests."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode


def api_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    body: Any = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    authorizer: dict[str, Any] | None = None,
    api_key_id: str | None = None,
    api_key: str | None = None,
    stage: str = "prod",
) -> dict[str, Any]:
    """An API Gateway REST (v1) Lambda proxy event."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body, ensure_ascii=False))
    header_map = {"Content-Type": "application/json", **(headers or {})}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": header_map,
        "multiValueHeaders": {k: [v] for k, v in header_map.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": f"/{stage}{path}" + (f"?{urlencode(query)}" if query else ""),
            "stage": stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "accountId": "123456789012",
            "apiId": "localapi",
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest", "apiKeyId": api_key_id, "apiKey": api_key},
            "authorizer": authorizer,
        },
        "body": text,
        "isBase64Encoded": False,
    }


def sqs_event(
    bodies: list[Any], *, queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:high", receive_count: int = 1
) -> dict[str, Any]:
    records = []
    for body in bodies:
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": str(uuid.uuid4()),
                "body": body if isinstance(body, str) else json.dumps(body, ensure_ascii=False),
                "attributes": {
                    "ApproximateReceiveCount": str(receive_count),
                    "SentTimestamp": str(int(time.time() * 1000)),
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def eventbridge_event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def schedule_event(rule_arn: str = "arn:aws:events:us-east-1:123456789012:rule/schedule") -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [rule_arn],
        "detail": {},
    }
