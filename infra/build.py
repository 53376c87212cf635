"""Generates the CloudFormation that Chalice does not: infra/resources.json, and the per-stage overlay.

The table definition exists once, in chalicelib/store/schema.py; the local run and the tests create
the table from it directly and this script translates it for CloudFormation, so the three can never
drift. A test fails when the committed template differs from what this script would write: run
`make infra`.

Two outputs, because one must stand alone and the other cannot:

- ``resources.json`` (committed, linted on its own): table, KMS key, queues, SES, secrets, the
  functions' IAM roles (infra/access.py, infra/policies.py), alarms and their topic.
- ``overlay(stage)``: the changes to the template ``chalice package`` writes — each function's role,
  fixed name, environment (names of this stack's resources, never values of secrets), the worker's
  queue and partial-batch responses. It refers to Chalice's resources, so it is only valid merged.

``merge_template(stage)`` is both together: the file given to ``chalice package --merge-template``.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

from chalice.package import TemplateDeepMerger

from chalicelib.models import Language
from chalicelib.routes.google_webhook import NOTIFICATION_PATH as GOOGLE_WEBHOOK_PATH
from chalicelib.routes.graph_webhook import NOTIFICATION_PATH as GRAPH_WEBHOOK_PATH
from chalicelib.store.schema import TTL_ATTRIBUTE, table_definition
from infra.access import FUNCTIONS, ROLES, SECRETS, WORKER_FUNCTION, Function
from infra.policies import (
    Doc,
    arn,
    function_name,
    key_policy,
    log_group_name,
    ref,
    role_resource,
    secret_resource,
    sub,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = Path(__file__).with_name("resources.json")
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
VISIBILITY_PER_TIMEOUT = 6
"""The scan queue's visibility timeout is six times the worker's Lambda timeout, as AWS advises."""
MAX_RECEIVES_BEFORE_DLQ = 5
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
ALARM_PERIOD_SECONDS = 300
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@cache
def chalice_config() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))
    return loaded


def function_setting(stage: str | None, function: str, key: str) -> Any:
    """A Lambda setting as Chalice resolves it: stage+function, stage, function, then top level."""
    config = chalice_config()
    stage_config = config["stages"].get(stage, {}) if stage else {}
    for layer in (
        stage_config.get("lambda_functions", {}).get(function, {}),
        stage_config,
        config.get("lambda_functions", {}).get(function, {}),
        config,
    ):
        if layer.get(key) is not None:
            return layer[key]
    return None


def worker_timeout() -> int:
    timeout = function_setting(None, WORKER_FUNCTION, "lambda_timeout")
    assert isinstance(timeout, int), ".chalice/config.json must set scan_worker's lambda_timeout"
    return timeout


def api_stage() -> str:
    stage = chalice_config().get("api_gateway_stage", "api")
    assert isinstance(stage, str)
    return stage


# --------------------------------------------------------------------------- resources.json


def _table() -> Doc:
    table = table_definition("coverwatch")
    del table["TableName"]  # CloudFormation names it per stack
    table["TimeToLiveSpecification"] = {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    table["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    table["SSESpecification"] = {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": arn("DataKey")}
    table["DeletionProtectionEnabled"] = True
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": table,
    }


def _key() -> dict[str, Doc]:
    return {
        "DataKey": {
            "Type": "AWS::KMS::Key",
            # The retained table stays encrypted with this key: deleting it would make the data unreadable.
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": sub("coverwatch ${AWS::StackName}: table, secrets and alarm topic"),
                "EnableKeyRotation": True,
                "PendingWindowInDays": 30,
                "KeyPolicy": key_policy(),
            },
        },
        "DataKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": sub("alias/${AWS::StackName}"), "TargetKeyId": ref("DataKey")},
        },
    }


def _queues() -> dict[str, Doc]:
    return {
        "ScanDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": DLQ_RETENTION_SECONDS, "SqsManagedSseEnabled": True},
        },
        "ScanQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": VISIBILITY_PER_TIMEOUT * worker_timeout(),
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": arn("ScanDeadLetterQueue"),
                    "maxReceiveCount": MAX_RECEIVES_BEFORE_DLQ,
                },
            },
        },
    }


def _email() -> dict[str, Doc]:
    return {
        "EmailConfigurationSet": {
            "Type": "AWS::SES::ConfigurationSet",
            "Properties": {
                "DeliveryOptions": {"TlsPolicy": "REQUIRE"},
                "ReputationOptions": {"ReputationMetricsEnabled": True},
                "SendingOptions": {"SendingEnabled": True},
            },
        },
        "EmailBouncesToCloudWatch": {
            "Type": "AWS::SES::ConfigurationSetEventDestination",
            "Properties": {
                "ConfigurationSetName": ref("EmailConfigurationSet"),
                "EventDestination": {
                    "Enabled": True,
                    "MatchingEventTypes": ["bounce", "complaint", "reject"],
                    "CloudWatchDestination": {
                        "DimensionConfigurations": [
                            {
                                "DimensionName": "ses:configuration-set",
                                "DimensionValueSource": "messageTag",
                                "DefaultDimensionValue": "coverwatch",
                            }
                        ]
                    },
                },
            },
        },
        "Sender": {
            "Type": "AWS::SES::EmailIdentity",
            "Condition": "CreateSenderIdentity",
            "Properties": {
                "EmailIdentity": ref("SenderAddress"),
                # The app does not name a configuration set; as the identity's default it applies anyway.
                "ConfigurationSetAttributes": {"ConfigurationSetName": ref("EmailConfigurationSet")},
            },
        },
    }


def _alarm(description: str, namespace: str, metric: str, dimensions: list[Doc], statistic: str) -> Doc:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Statistic": statistic,
            "Period": ALARM_PERIOD_SECONDS,
            "EvaluationPeriods": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlarmTopic")],
            "OKActions": [ref("AlarmTopic")],
        },
    }


def _alarms() -> dict[str, Doc]:
    alarms: dict[str, Doc] = {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "DisplayName": "coverwatch alarms",
                "KmsMasterKeyId": ref("DataKey"),
                "Subscription": [{"Protocol": "email", "Endpoint": ref("AlarmEmail")}],
            },
        },
        "DeadLetterAlarm": _alarm(
            "Scan jobs failed 5 times and are in the dead-letter queue; the worker's log says why",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ScanDeadLetterQueue", "QueueName"]}}],
            "Maximum",
        ),
        "Api5xxAlarm": _alarm(
            "The HTTP API answered 5xx",
            "AWS/ApiGateway",
            "5XXError",
            [{"Name": "ApiName", "Value": ref("AWS::StackName")}, {"Name": "Stage", "Value": api_stage()}],
            "Sum",
        ),
    }
    for function in FUNCTIONS:
        dimension = [{"Name": "FunctionName", "Value": function_name(function.suffix)}]
        alarms[f"{function.logical_id}ErrorsAlarm"] = _alarm(
            f"{function.name} raised an error", "AWS/Lambda", "Errors", dimension, "Sum"
        )
        alarms[f"{function.logical_id}ThrottlesAlarm"] = _alarm(
            f"{function.name} was throttled", "AWS/Lambda", "Throttles", dimension, "Sum"
        )
    return alarms


def _parameters() -> Doc:
    return {
        "SenderAddress": {
            "Type": "String",
            "AllowedPattern": EMAIL_PATTERN,
            "Description": "From address of every message; SES must have it (or its domain) verified",
        },
        "CreateSenderIdentity": {
            "Type": "String",
            "AllowedValues": ["true", "false"],
            "Default": "true",
            "Description": "false when the address or its domain is already an SES identity in this account",
        },
        "AlarmEmail": {
            "Type": "String",
            "AllowedPattern": EMAIL_PATTERN,
            "Description": "Who gets the alarms (confirm the subscription e-mail SNS sends)",
        },
    }


def _outputs() -> Doc:
    outputs: Doc = {
        "TableName": {"Value": ref("Table")},
        "ScanQueueName": {"Value": {"Fn::GetAtt": ["ScanQueue", "QueueName"]}},
        "ScanQueueUrl": {"Value": ref("ScanQueue")},
        "DeadLetterQueueUrl": {"Value": ref("ScanDeadLetterQueue")},
        "DataKeyArn": {"Value": arn("DataKey")},
        "EmailConfigurationSetName": {"Value": ref("EmailConfigurationSet")},
        "AlarmTopicArn": {"Value": ref("AlarmTopic")},
    }
    for secret in SECRETS:
        outputs[f"{secret.logical_id}Arn"] = {"Value": ref(secret.logical_id)}
    return outputs


def build_template() -> Doc:
    resources: Doc = {"Table": _table(), **_key(), **_queues(), **_email()}
    for secret in SECRETS:
        resources[secret.logical_id] = secret_resource(secret.logical_id)
    for role in ROLES:
        resources[role.logical_id] = role_resource(role)
    resources.update(_alarms())
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "coverwatch data, messaging, access and alarms (generated by infra/build.py)",
        "Parameters": _parameters(),
        "Conditions": {"CreateSenderIdentity": {"Fn::Equals": [ref("CreateSenderIdentity"), "true"]}},
        "Resources": resources,
        "Outputs": _outputs(),
    }


# --------------------------------------------------------------------------- overlay (per stage)


def _public_url() -> Doc:
    """The operator's public address, or API Gateway's own (not for the API function: a cycle)."""
    own = sub(f"https://${{RestAPI}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{api_stage()}")
    return {"Fn::If": ["HasPublicApiUrl", ref("PublicApiUrl"), own]}


def _setting_values() -> dict[str, Any]:
    values: dict[str, Any] = {
        "COVERWATCH_TABLE": ref("Table"),
        "COVERWATCH_QUEUE": {"Fn::GetAtt": ["ScanQueue", "QueueName"]},
        "COVERWATCH_DLQ": {"Fn::GetAtt": ["ScanDeadLetterQueue", "QueueName"]},
        "COVERWATCH_SENDER": ref("SenderAddress"),
        "COVERWATCH_SES_CONFIGURATION_SET": ref("EmailConfigurationSet"),
        "COVERWATCH_HR_EMAIL": ref("HrAddress"),
        "COVERWATCH_HR_LANGUAGE": ref("HrLanguage"),
        "COVERWATCH_ESCALATION_EMAIL": ref("EscalationAddress"),
        "COVERWATCH_IAM_PRINCIPALS": ref("IamPrincipals"),
        "COVERWATCH_PUBLIC_URL": _public_url(),
        "COVERWATCH_GRAPH_WEBHOOK_URL": {"Fn::Join": ["", [_public_url(), GRAPH_WEBHOOK_PATH]]},
        "COVERWATCH_GOOGLE_WEBHOOK_URL": {"Fn::Join": ["", [_public_url(), GOOGLE_WEBHOOK_PATH]]},
    }
    for secret in SECRETS:
        values[secret.env] = ref(secret.logical_id)
    return values


def environment(function: Function, stage: str) -> dict[str, Any]:
    """The function's settings, plus every variable the stage's config sets (so no local default ships)."""
    values = _setting_values()
    configured = chalice_config()["stages"].get(stage, {}).get("environment_variables", {})
    names = [*function.role.settings, *(s.env for s in function.role.secrets)]
    names += [name for name in configured if name not in names]
    return {name: values[name] for name in names}


def _overlay_parameters() -> Doc:
    return {
        "HrAddress": {
            "Type": "String",
            "AllowedPattern": EMAIL_PATTERN,
            "Description": "HR's address: alerts, reminders, the daily digest",
        },
        "EscalationAddress": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^([^@\s]+@[^@\s]+\.[^@\s]+)?$",
            "Description": "Who also hears of open cases close to departure; empty = nobody",
        },
        "HrLanguage": {
            "Type": "String",
            "AllowedValues": [language.value for language in Language],
            "Default": Language.EN.value,
            "Description": "Language of HR's messages",
        },
        "PublicApiUrl": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^(https://\S*[^/\s])?$",
            "Description": "The API's public address without a trailing slash (custom domain); "
            "empty = API Gateway's own address",
        },
        "IamPrincipals": {
            "Type": "String",
            "Default": "",
            "Description": 'IAM callers of /iam routes: {"<role ARN>": ["check", ...]}; empty = none',
        },
    }


def overlay(stage: str) -> Doc:
    """What the merge changes or adds in Chalice's template for ``stage`` (valid only merged)."""
    resources: Doc = {}
    for function in FUNCTIONS:
        resources[function.logical_id] = {
            "Properties": {
                "FunctionName": function_name(function.suffix),
                "Role": arn(function.role.logical_id),
                "Environment": {"Variables": environment(function, stage)},
            }
        }
        resources[function.log_group_id] = {"Properties": {"LogGroupName": log_group_name(function.suffix)}}
    worker = next(f for f in FUNCTIONS if f.name == WORKER_FUNCTION)
    concurrency = function_setting(stage, WORKER_FUNCTION, "reserved_concurrency")
    scaling: Doc = {"ScalingConfig": {"MaximumConcurrency": max(2, concurrency)}} if concurrency else {}
    resources[worker.logical_id]["Properties"]["Events"] = {
        f"{worker.logical_id}SqsEventSource": {
            "Properties": {
                # Chalice's value is an Fn::Sub; the merge merges dicts, so ours must be an Fn::Sub too.
                "Queue": sub("${ScanQueue.Arn}"),
                # The worker answers batchItemFailures; without this Lambda ignores it and deletes them.
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                **scaling,
            }
        }
    }
    resources["RestAPI"] = {"Properties": {"Name": ref("AWS::StackName")}}
    return {
        "Parameters": _overlay_parameters(),
        "Conditions": {"HasPublicApiUrl": {"Fn::Not": [{"Fn::Equals": [ref("PublicApiUrl"), ""]}]}},
        "Resources": resources,
    }


def merge_template(stage: str) -> Doc:
    """The file for ``chalice package --merge-template``: resources.json plus the stage's overlay."""
    merged: Doc = TemplateDeepMerger().merge(overlay(stage), build_template())
    return merged


def render() -> str:
    return json.dumps(build_template(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    TEMPLATE_PATH.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {TEMPLATE_PATH}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
