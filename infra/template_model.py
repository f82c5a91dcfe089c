"""What ``template.yaml`` declares, read through the SAM translator.

The local runner and the tests build their resources, routes, queue pollers and schedules from
this model, so the template cannot drift from what is tested. The translation is the one SAM
itself performs (``aws-sam-translator``), done offline: local code paths are passed through as
``s3://local-code/<path>`` and read back afterwards.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
_CODE_BUCKET = "local-code"


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: str  # e.g. "functions/dispatch/"
    handler: str  # e.g. "sender.handler"
    timeout: int
    memory: int

    @property
    def module(self) -> str:
        """The handler's top-level module, as Lambda imports it from the code directory.

        Module names are unique across functions, so every code directory can sit on one
        ``sys.path`` (tests and the local runner), exactly as each does alone in Lambda.
        """
        return self.handler.rsplit(".", 1)[0]

    @property
    def code_path(self) -> Path:
        return ROOT / self.code_uri

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or "ANY"
    path: str  # API Gateway resource path, e.g. "/v1/staff/{proxy+}"
    function: str  # logical id
    authorizer: str | None  # logical id of the authorizer's function, None for no authorizer
    api_key_required: bool

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\{(\w+)\\\+\\}", r"(?P<\1>.+)", re.escape(self.path))
        regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        """API Gateway prefers literal segments over variables and variables over greedy ones."""
        greedy = "+}" in self.path
        return (0 if greedy else 1, len(self.path.split("/")) - self.path.count("{"))


@dataclass(frozen=True)
class QueueSource:
    logical_id: str
    function: str
    queue: str  # logical id of the queue
    batch_size: int
    report_item_failures: bool
    max_concurrency: int | None
    batching_window: int


@dataclass(frozen=True)
class Schedule:
    logical_id: str
    function: str
    expression: str  # "rate(5 minutes)" or "cron(...)"
    input: str | None


@dataclass(frozen=True)
class EventRule:
    logical_id: str
    function: str
    pattern: dict[str, Any]


@dataclass
class TemplateModel:
    resources: dict[str, dict[str, Any]]
    parameters: dict[str, Any]
    globals_env: dict[str, Any]
    functions: dict[str, Function] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    queue_sources: list[QueueSource] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    event_rules: list[EventRule] = field(default_factory=list)
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == cfn_type}

    def parameter_default(self, name: str) -> Any:
        return self.parameters.get(name, {}).get("Default")

    def match_route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route API Gateway would choose for this request, with its path parameters."""
        candidates = []
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method in (method.upper(), "ANY"):
                candidates.append((route.specificity, route.method != "ANY", route, found.groupdict()))
        if not candidates:
            return None
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
        return candidates[0][2], candidates[0][3]

    def path_exists(self, path: str) -> bool:
        return any(route.pattern.match(path) for route in self.routes)


def add_code_paths(model: TemplateModel) -> None:
    """Put every function's code directory on ``sys.path``, as Lambda puts each on its own."""
    import sys

    for path in sorted({str(f.code_path) for f in model.functions.values()}):
        if path not in sys.path:
            sys.path.insert(0, path)


def _rewrite_code_uris(template: dict[str, Any]) -> None:
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://{_CODE_BUCKET}/{props[key]}"
    function_globals = template.get("Globals", {}).get("Function", {})
    if isinstance(function_globals.get("CodeUri"), str):
        function_globals["CodeUri"] = f"s3://{_CODE_BUCKET}/{function_globals['CodeUri']}"


def _ref_name(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else target.split(".")[0]
    return None


def _function_of_uri(uri: Any) -> str | None:
    text = uri.get("Fn::Sub") if isinstance(uri, dict) else uri
    if isinstance(text, list):
        text, variables = text
        for value in variables.values():
            name = _ref_name(value)
            if name:
                return name
    found = re.search(r"\$\{(\w+)\.Arn\}", text or "")
    return found.group(1) if found else None


def _int(value: Any, parameters: dict[str, Any]) -> int | None:
    name = _ref_name(value)
    if name:
        value = parameters.get(name, {}).get("Default")
    return None if value is None else int(value)


def translate(template_text: str) -> dict[str, Any]:
    """The CloudFormation that SAM would deploy, translated offline."""
    import logging

    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    template = yaml_parse(template_text)
    _rewrite_code_uris(template)

    class _NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(copy.deepcopy(template), {}, _NoManagedPolicies())


@lru_cache(maxsize=4)
def load(path: str | os.PathLike[str] = TEMPLATE) -> TemplateModel:
    text = Path(path).read_text(encoding="utf-8")
    from samtranslator.yaml_helper import yaml_parse

    source = yaml_parse(text)
    cfn = translate(text)
    globals_env = source.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    model = TemplateModel(resources=cfn["Resources"], parameters=cfn.get("Parameters", {}), globals_env=globals_env)
    _read_functions(model)
    _read_routes(model)
    _read_queue_sources(model)
    _read_schedules_and_rules(model)
    _read_gateway_responses(model)
    return model


def _read_functions(model: TemplateModel) -> None:
    for name, res in model.of_type("AWS::Lambda::Function").items():
        props = res["Properties"]
        model.functions[name] = Function(
            logical_id=name,
            code_uri=props["Code"]["S3Key"],
            handler=props["Handler"],
            timeout=int(props.get("Timeout", 3)),
            memory=int(props.get("MemorySize", 128)),
        )


def _read_routes(model: TemplateModel) -> None:
    """Every method of every path of each API's OpenAPI body that has an integration."""
    for api in model.of_type("AWS::ApiGateway::RestApi").values():
        body = api["Properties"].get("Body", {})
        schemes = body.get("components", {}).get("securitySchemes", {}) or body.get("securityDefinitions", {})
        authorizers = {
            scheme: _function_of_uri(spec["x-amazon-apigateway-authorizer"]["authorizerUri"])
            for scheme, spec in schemes.items()
            if "x-amazon-apigateway-authorizer" in spec
        }
        for path, methods in body.get("paths", {}).items():
            for method, spec in methods.items():
                if "x-amazon-apigateway-integration" in spec:
                    model.routes.append(_route(path, method, spec, authorizers))


def _route(path: str, method: str, spec: dict[str, Any], authorizers: dict[str, str | None]) -> Route:
    security = [next(iter(item)) for item in spec.get("security", [])]
    return Route(
        method="ANY" if method == "x-amazon-apigateway-any-method" else method.upper(),
        path=path,
        function=_function_of_uri(spec["x-amazon-apigateway-integration"]["uri"]),
        authorizer=next((authorizers[s] for s in security if s in authorizers), None),
        api_key_required="api_key" in security,
    )


def _read_queue_sources(model: TemplateModel) -> None:
    for name, res in model.of_type("AWS::Lambda::EventSourceMapping").items():
        props = res["Properties"]
        model.queue_sources.append(
            QueueSource(
                logical_id=name,
                function=_ref_name(props["FunctionName"]),
                queue=_ref_name(props["EventSourceArn"]),
                batch_size=int(props.get("BatchSize", 10)),
                report_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                max_concurrency=_int(props.get("ScalingConfig", {}).get("MaximumConcurrency"), model.parameters),
                batching_window=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            )
        )


def _read_schedules_and_rules(model: TemplateModel) -> None:
    """Scheduler schedules, and EventBridge rules: on a schedule, or matching an event pattern."""
    for name, res in model.of_type("AWS::Scheduler::Schedule").items():
        props = res["Properties"]
        model.schedules.append(
            Schedule(name, _ref_name(props["Target"]["Arn"]), props["ScheduleExpression"], props["Target"].get("Input"))
        )
    for name, res in model.of_type("AWS::Events::Rule").items():
        props = res["Properties"]
        for target in props.get("Targets", []):
            function = _ref_name(target["Arn"])
            if "ScheduleExpression" in props:
                model.schedules.append(Schedule(name, function, props["ScheduleExpression"], target.get("Input")))
            elif "EventPattern" in props:
                model.event_rules.append(EventRule(name, function, props["EventPattern"]))


def _read_gateway_responses(model: TemplateModel) -> None:
    for res in model.of_type("AWS::ApiGateway::GatewayResponse").values():
        props = res["Properties"]
        model.gateway_responses[props["ResponseType"]] = {
            "status": int(props["StatusCode"]) if "StatusCode" in props else None,
            "template": props.get("ResponseTemplates", {}).get("application/json"),
        }
