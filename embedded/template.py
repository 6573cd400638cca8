"""Creates the template's resources in the current AWS endpoint (moto), so local and deployed config cannot drift."""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import yaml

ACCOUNT_ID = "123456789012"
ROOT = Path(__file__).resolve().parent.parent
_SUB = re.compile(r"\$\{([^}!]+)\}")
_NO_VALUE = object()  # what AWS::NoValue resolves to: the property or item holding it is left out


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !GetAtt, !Sub…) read as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    code_uri: Path
    handler: str
    environment: dict[str, str]
    timeout_seconds: float = 3.0


@dataclass
class Stack:
    """The deployed resources: physical ids by logical id, and each function's code and environment."""

    name: str
    region: str
    template: dict[str, Any]
    parameters: dict[str, str]
    physical: dict[str, dict[str, str]] = field(default_factory=dict)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)

    def ref(self, logical_id: str) -> str:
        return self.physical[logical_id]["Ref"]

    def environment(self) -> dict[str, str]:
        """Every function's variables together; they agree, so one process can host all handlers."""
        merged: dict[str, str] = {}
        for spec in self.functions.values():
            merged.update(spec.environment)
        return merged

    def function_arn(self, logical_id: str) -> str:
        return self.physical[logical_id]["Arn"]


def deploy(
    stack_name: str = "batch-local", parameters: dict[str, str] | None = None, region: str = "us-east-1"
) -> Stack:
    template = load_template()
    values = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    values.update(parameters or {})
    stack = _Deployer(Stack(stack_name, region, template, values)).run()
    return stack


class _Deployer:
    def __init__(self, stack: Stack):
        self.stack = stack
        self.resources = stack.template["Resources"]
        self.aws = boto3.session.Session(region_name=stack.region)

    def run(self) -> Stack:
        for logical_id in self.resources:
            self.physical(logical_id)
        return self.stack

    def physical(self, logical_id: str) -> dict[str, str]:
        if logical_id not in self.stack.physical:
            resource = self.resources[logical_id]
            create = getattr(self, "_" + resource["Type"].replace("::", "_").lower(), self._not_local)
            self.stack.physical[logical_id] = create(logical_id, resource.get("Properties", {}))
        return self.stack.physical[logical_id]

    def resolve(self, node: Any) -> Any:
        """The value of a template node; a property or item that resolves to AWS::NoValue is left out."""
        if isinstance(node, list):
            return [item for item in (self.resolve(item) for item in node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if "Ref" in node:
            return _NO_VALUE if node["Ref"] == "AWS::NoValue" else self._ref(node["Ref"])
        if "Fn::If" in node:
            condition, when_true, when_false = node["Fn::If"]
            return self.resolve(when_true if self._holds(condition) else when_false)
        if "Fn::GetAtt" in node:
            logical_id, attribute = node["Fn::GetAtt"]
            return self.physical(logical_id)[attribute]
        if "Fn::Sub" in node:
            return _SUB.sub(lambda match: str(self._sub_value(match.group(1))), node["Fn::Sub"])
        if "Fn::FindInMap" in node:
            mapping, top, second = self.resolve(node["Fn::FindInMap"])
            return self.stack.template["Mappings"][mapping][str(top)][second]
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def _holds(self, condition: str) -> bool:
        return bool(self._evaluate(self.stack.template.get("Conditions", {})[condition]))

    def _evaluate(self, node: Any) -> Any:
        """A condition's value: Fn::Equals, Fn::Not, Fn::And, Fn::Or and Condition, over resolved values."""
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = (self._evaluate(item) for item in node["Fn::Equals"])
            return str(left) == str(right)
        if isinstance(node, dict) and "Fn::Not" in node:
            return not self._evaluate(node["Fn::Not"][0])
        if isinstance(node, dict) and "Fn::And" in node:
            return all(self._evaluate(item) for item in node["Fn::And"])
        if isinstance(node, dict) and "Fn::Or" in node:
            return any(self._evaluate(item) for item in node["Fn::Or"])
        if isinstance(node, dict) and "Condition" in node:
            return self._holds(node["Condition"])
        return self.resolve(node)

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self.stack.region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack.name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.stack.parameters:
            return self.stack.parameters[name]
        return self.physical(name)["Ref"]

    def _sub_value(self, expression: str) -> str:
        if "." in expression and not expression.startswith("AWS::"):
            logical_id, attribute = expression.split(".", 1)
            return self.physical(logical_id)[attribute]
        return self._ref(expression)

    def _name(self, logical_id: str) -> str:
        return f"{self.stack.name}-{logical_id}"

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.stack.region}:{ACCOUNT_ID}:{resource}"

    def _aws_logs_loggroup(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        """Log groups: nothing writes to them locally (handlers log to the stack's output)."""
        name = self._name(logical_id)
        return {"Ref": name, "Arn": self._arn("logs", f"log-group:{name}")}

    def _not_local(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        """API, layer: served in-process by the embedded stack; alarms, dashboard, queue policy: not enforced or
        drawn by moto. Nothing to create."""
        return {"Ref": self._name(logical_id)}

    def _aws_dynamodb_table(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        name = self._name(logical_id)
        dynamodb = self.aws.client("dynamodb")
        indexes = properties.get("GlobalSecondaryIndexes", [])
        dynamodb.create_table(
            TableName=name,
            AttributeDefinitions=properties["AttributeDefinitions"],
            KeySchema=properties["KeySchema"],
            BillingMode=properties.get("BillingMode", "PAY_PER_REQUEST"),
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
        )
        if "TimeToLiveSpecification" in properties:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=properties["TimeToLiveSpecification"])
        return {"Ref": name, "Arn": self._arn("dynamodb", f"table/{name}")}

    def _aws_s3_bucket(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        name = self._name(logical_id).lower()
        s3 = self.aws.client("s3")
        s3.create_bucket(Bucket=name)
        if "BucketEncryption" in properties:
            rules = self.resolve(properties["BucketEncryption"]["ServerSideEncryptionConfiguration"])
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]} for rule in rules
                    ]
                },
            )
        if "PublicAccessBlockConfiguration" in properties:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
            )
        cors = self.resolve(properties.get("CorsConfiguration", {}).get("CorsRules", []))
        if cors:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [_cors_rule(rule) for rule in cors]})
        rules = self.resolve(properties.get("LifecycleConfiguration", {}).get("Rules", []))
        if rules:
            s3.put_bucket_lifecycle_configuration(
                Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(rule) for rule in rules]}
            )
        return {"Ref": name, "Arn": f"arn:aws:s3:::{name}"}

    def _aws_sqs_queue(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        name = self._name(logical_id)
        resolved = self.resolve(properties)
        attributes = {key: _queue_attribute(key, value) for key, value in resolved.items()}
        url = self.aws.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        return {"Ref": url, "Arn": self._arn("sqs", name), "QueueName": name, "QueueUrl": url}

    def _aws_events_rule(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        """A rule and its targets on the bus: moto delivers matching events to its SQS targets."""
        name = self._name(logical_id)
        bus = self.resolve(properties.get("EventBusName", "default"))
        events = self.aws.client("events")
        arn = events.put_rule(
            Name=name, EventBusName=bus, EventPattern=json.dumps(self.resolve(properties["EventPattern"]))
        )["RuleArn"]
        targets = [{"Id": target["Id"], "Arn": self.resolve(target["Arn"])} for target in properties.get("Targets", [])]
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        return {"Ref": name, "Arn": arn}

    def _aws_secretsmanager_secret(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        name = self._name(logical_id)
        secret = self.aws.client("secretsmanager").create_secret(
            Name=name, SecretString=self.resolve(properties["SecretString"])
        )
        return {"Ref": secret["ARN"], "Id": name}

    def _aws_ssm_parameter(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        name = self._name(logical_id)
        value = str(self.resolve(properties["Value"]))
        self.aws.client("ssm").put_parameter(Name=name, Type=properties.get("Type", "String"), Value=value)
        return {"Ref": name}

    def _aws_serverless_function(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        name = self._name(logical_id)
        arn = self._arn("lambda", f"function:{name}")
        self.stack.physical[logical_id] = {"Ref": name, "Arn": arn}
        globals_ = self.stack.template.get("Globals", {}).get("Function", {})
        shared = globals_.get("Environment", {}).get("Variables", {})
        own = properties.get("Environment", {}).get("Variables", {})
        environment = {key: str(self.resolve(value)) for key, value in {**shared, **own}.items()}
        timeout = float(self.resolve(properties.get("Timeout", globals_.get("Timeout", 3))))
        self.stack.functions[name] = FunctionSpec(
            logical_id, name, ROOT / properties["CodeUri"], properties["Handler"], environment, timeout
        )
        return self.stack.physical[logical_id]

    def _aws_serverless_statemachine(self, logical_id: str, properties: dict[str, Any]) -> dict[str, str]:
        name = self._name(logical_id)
        substitutions = {
            key: str(self.resolve(value)) for key, value in properties.get("DefinitionSubstitutions", {}).items()
        }
        definition = (ROOT / properties["DefinitionUri"]).read_text()
        definition = _SUB.sub(lambda match: substitutions[match.group(1)], definition)
        arn = self.aws.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-role"
        )["stateMachineArn"]
        return {"Ref": arn, "Arn": arn, "Name": name}


def _queue_attribute(key: str, value: Any) -> str:
    if key == "RedrivePolicy":
        return json.dumps(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation CORS rule as S3's API spells it (`MaxAge` is `MaxAgeSeconds` there)."""
    names = {"MaxAge": "MaxAgeSeconds", "Id": "ID"}
    return {names.get(key, key): value for key, value in rule.items()}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "ID": rule.get("Id", "rule"),
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if "AbortIncompleteMultipartUpload" in rule:
        converted["AbortIncompleteMultipartUpload"] = {
            "DaysAfterInitiation": int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        }
    return converted
