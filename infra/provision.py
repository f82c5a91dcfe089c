"""Create on moto (in-process for tests, or moto's server for the local platform) every data
resource that ``template.yaml`` declares: tables with their indexes and TTL, queues with their
redrive, buckets (Object Lock included), the KMS key, secrets, the staff user pool and its
client, the operations topic and the API usage plans. Returns the physical names and the
environment the functions would get from ``Globals``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from infra.template_model import TemplateModel


@dataclass
class Provisioned:
    region: str
    stage: str
    physical: dict[str, str] = field(default_factory=dict)  # logical id -> name, URL or id
    arns: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    user_pool_id: str = ""
    user_pool_client_id: str = ""
    usage_plans: dict[str, str] = field(default_factory=dict)  # logical id -> usage plan id

    def queue_url(self, logical_id: str) -> str:
        return self.physical[logical_id]


class Provisioner:
    def __init__(
        self, model: TemplateModel, session: Any, *, stage: str = "local", secrets: dict[str, str] | None = None
    ):
        self.model = model
        self.session = session
        self.region = session.region_name
        self.stage = stage
        self.secrets = secrets or {}
        self.out = Provisioned(region=self.region, stage=stage)
        self.conditions = {"UseCognito": True, "HasOperationsEmail": False}

    def client(self, name: str) -> Any:
        return self.session.client(name)

    def name_for(self, logical_id: str) -> str:
        return f"weihai-sms-{self.stage}-{logical_id}"

    def run(self) -> Provisioned:
        self._kms()
        self._tables()
        self._queues()
        self._buckets()
        self._secrets()
        self._cognito()
        self._topics()
        self._usage_plans()
        self.out.environment = {key: str(self.resolve(value)) for key, value in self.model.globals_env.items()}
        return self.out

    # ------------------------------------------------------------ resources
    def _kms(self) -> None:
        kms = self.client("kms")
        for logical_id in self.model.of_type("AWS::KMS::Key"):
            key = kms.create_key(Description=logical_id)["KeyMetadata"]
            self.out.physical[logical_id] = key["KeyId"]
            self.out.arns[logical_id] = key["Arn"]

    def _tables(self) -> None:
        dynamodb = self.client("dynamodb")
        for logical_id, res in self.model.of_type("AWS::DynamoDB::Table").items():
            props = res["Properties"]
            name = self.name_for(logical_id)
            args: dict[str, Any] = {
                "TableName": name,
                "AttributeDefinitions": props["AttributeDefinitions"],
                "KeySchema": props["KeySchema"],
                "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
            }
            if props.get("GlobalSecondaryIndexes"):
                args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            table = dynamodb.create_table(**args)["TableDescription"]
            ttl = props.get("TimeToLiveSpecification")
            if ttl and ttl.get("Enabled"):
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
                )
            self.out.physical[logical_id] = name
            self.out.arns[logical_id] = table["TableArn"]

    def _queues(self) -> None:
        sqs = self.client("sqs")
        queues = self.model.of_type("AWS::SQS::Queue")
        # Dead-letter queues first: the others' redrive policies name them.
        ordered = sorted(queues.items(), key=lambda item: "RedrivePolicy" in item[1].get("Properties", {}))
        for logical_id, res in ordered:
            props = res.get("Properties", {})
            attributes = {
                "VisibilityTimeout": str(props.get("VisibilityTimeout", 30)),
                "MessageRetentionPeriod": str(props.get("MessageRetentionPeriod", 345600)),
            }
            if "RedrivePolicy" in props:
                redrive = props["RedrivePolicy"]
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": self.resolve(redrive["deadLetterTargetArn"]),
                        "maxReceiveCount": str(redrive["maxReceiveCount"]),
                    }
                )
            url = sqs.create_queue(QueueName=self.name_for(logical_id), Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.out.physical[logical_id] = url
            self.out.arns[logical_id] = arn

    def _buckets(self) -> None:
        s3 = self.client("s3")
        for logical_id, res in self.model.of_type("AWS::S3::Bucket").items():
            props = res.get("Properties", {})
            name = self.name_for(logical_id).lower()
            args: dict[str, Any] = {"Bucket": name}
            if self.region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
            if props.get("ObjectLockEnabled"):
                args["ObjectLockEnabledForBucket"] = True
            s3.create_bucket(**args)
            lock = props.get("ObjectLockConfiguration")
            if lock:
                retention = lock["Rule"]["DefaultRetention"]
                s3.put_object_lock_configuration(
                    Bucket=name,
                    ObjectLockConfiguration={
                        "ObjectLockEnabled": "Enabled",
                        "Rule": {
                            "DefaultRetention": {
                                "Mode": retention["Mode"],
                                "Days": int(self.resolve(retention["Days"])),
                            }
                        },
                    },
                )
            cors = props.get("CorsConfiguration")
            if cors:
                rules = [
                    {
                        "AllowedMethods": rule["AllowedMethods"],
                        "AllowedOrigins": rule["AllowedOrigins"],
                        "AllowedHeaders": rule.get("AllowedHeaders", []),
                        "MaxAgeSeconds": int(rule.get("MaxAge", 0)),
                    }
                    for rule in cors["CorsRules"]
                ]
                s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
            self.out.physical[logical_id] = name
            self.out.arns[logical_id] = f"arn:aws:s3:::{name}"

    def _secrets(self) -> None:
        manager = self.client("secretsmanager")
        for logical_id, res in self.model.of_type("AWS::SecretsManager::Secret").items():
            props = res.get("Properties", {})
            if logical_id in self.secrets:
                value = self.secrets[logical_id]
            else:  # the template's own shape, with a placeholder for the generated key
                generate = props.get("GenerateSecretString", {})
                template = json.loads(generate.get("SecretStringTemplate", "{}") or "{}")
                if "GenerateStringKey" in generate:
                    template[generate["GenerateStringKey"]] = "local-development-value"
                value = json.dumps(template) if template else "local-development-value"
            arn = manager.create_secret(Name=self.name_for(logical_id), SecretString=value)["ARN"]
            self.out.physical[logical_id] = arn
            self.out.arns[logical_id] = arn

    def _cognito(self) -> None:
        idp = self.client("cognito-idp")
        for logical_id, res in self.model.of_type("AWS::Cognito::UserPool").items():
            props = res["Properties"]
            pool = idp.create_user_pool(
                PoolName=props.get("UserPoolName", logical_id)
                if isinstance(props.get("UserPoolName"), str)
                else logical_id,
                Policies=props["Policies"],
                MfaConfiguration=props.get("MfaConfiguration", "OFF"),
                AdminCreateUserConfig=props.get("AdminCreateUserConfig", {}),
                Schema=props.get("Schema", []),
                UsernameConfiguration=props.get("UsernameConfiguration", {"CaseSensitive": False}),
            )["UserPool"]
            self.out.physical[logical_id] = pool["Id"]
            self.out.arns[logical_id] = pool["Arn"]
            self.out.user_pool_id = pool["Id"]
        for logical_id, res in self.model.of_type("AWS::Cognito::UserPoolClient").items():
            props = res["Properties"]
            client = idp.create_user_pool_client(
                UserPoolId=self.resolve(props["UserPoolId"]),
                ClientName=props.get("ClientName", logical_id),
                GenerateSecret=bool(props.get("GenerateSecret", False)),
                ExplicitAuthFlows=props.get("ExplicitAuthFlows", []),
            )["UserPoolClient"]
            self.out.physical[logical_id] = client["ClientId"]
            self.out.user_pool_client_id = client["ClientId"]

    def _topics(self) -> None:
        sns = self.client("sns")
        for logical_id in self.model.of_type("AWS::SNS::Topic"):
            arn = sns.create_topic(Name=self.name_for(logical_id))["TopicArn"]
            self.out.physical[logical_id] = arn
            self.out.arns[logical_id] = arn

    def _usage_plans(self) -> None:
        apigateway = self.client("apigateway")
        for logical_id, res in self.model.of_type("AWS::ApiGateway::UsagePlan").items():
            props = res["Properties"]
            args: dict[str, Any] = {"name": self.name_for(logical_id)}
            if "Throttle" in props:
                args["throttle"] = {
                    "burstLimit": int(props["Throttle"]["BurstLimit"]),
                    "rateLimit": float(props["Throttle"]["RateLimit"]),
                }
            if "Quota" in props:
                args["quota"] = {"limit": int(props["Quota"]["Limit"]), "period": str(props["Quota"]["Period"])}
            plan = apigateway.create_usage_plan(**args)
            self.out.physical[logical_id] = plan["id"]
            self.out.usage_plans[logical_id] = plan["id"]

    # ------------------------------------------------------------ intrinsic functions
    def resolve(self, value: Any) -> Any:
        """Resolve the intrinsic functions the template's environment and properties use."""
        if isinstance(value, (str, int, float)):
            return value
        if isinstance(value, dict) and len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self._ref(arg)
            if fn == "Fn::GetAtt":
                name, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                if attribute == "Arn":
                    return self.out.arns[name]
                if attribute == "QueueName":
                    return self.out.physical[name].rsplit("/", 1)[1]
                return self.out.physical[name]
            if fn == "Fn::If":
                condition, when_true, when_false = arg
                return self.resolve(when_true if self.conditions[condition] else when_false)
            if fn == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                return re.sub(r"\$\{([\w:.]+)\}", lambda m: str(self._sub(m.group(1), variables)), text)
        raise ValueError(f"cannot resolve {value!r} locally")

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
            "AWS::AccountId": "123456789012",
            "AWS::StackName": f"weihai-sms-{self.stage}",
        }
        if name in pseudo:
            return pseudo[name]
        if name == "Stage":
            return self.stage
        if name in self.model.parameters:
            return self.model.parameter_default(name)
        return self.out.physical[name]

    def _sub(self, name: str, variables: dict[str, Any]) -> Any:
        if name in variables:
            return self.resolve(variables[name])
        if "." in name:
            return self.resolve({"Fn::GetAtt": name.split(".", 1)})
        return self._ref(name)


def provision(
    model: TemplateModel, session: Any, *, stage: str = "local", secrets: dict[str, str] | None = None
) -> Provisioned:
    return Provisioner(model, session, stage=stage, secrets=secrets).run()
