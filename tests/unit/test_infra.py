"""The deployable template: linted as CloudFormation will get it, and every function held to what it needs.

All offline: Chalice's template is generated without building the bundle (infra/chalice_template.py)
and cfn-lint runs in process.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest

from chalicelib.store.schema import TTL_ATTRIBUTE, table_definition
from infra.access import (
    API,
    FAN_OUT,
    FUNCTIONS,
    GOOGLE,
    GRAPH,
    NOTIFIER,
    RENEWER,
    ROLES,
    SECRETS,
    WORKER,
    Role,
)
from infra.build import MAX_RECEIVES_BEFORE_DLQ, ROOT, build_template, chalice_config
from infra.chalice_template import chalice_template, merged_template
from infra.lint import lint
from infra.policies import STAR_EXCEPTIONS

STAGES = sorted(chalice_config()["stages"])
Doc = dict[str, Any]


@cache
def merged(stage: str) -> Doc:
    return merged_template(stage)


def statements(role: Role) -> list[Doc]:
    policies = build_template()["Resources"][role.logical_id]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def actions(role: Role) -> set[str]:
    return {a for s in statements(role) for a in _list(s["Action"])}


def resources_for(role: Role, action: str) -> list[Any]:
    return [r for s in statements(role) if action in _list(s["Action"]) for r in _list(s["Resource"])]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


# ---------------------------------------------------------------------------------------- lint


def test_the_resources_template_passes_cfn_lint() -> None:
    assert lint(build_template()) == []


def test_the_one_merged_template_passes_cfn_lint() -> None:
    """Chalice's functions, API and log groups merged with ours: what CloudFormation receives (prod;
    the dev stage is linted by the dry-run test)."""
    assert lint(merged("prod")) == []


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_chalice_packages_runs_as_one_of_our_roles_under_a_fixed_name(stage: str) -> None:
    chalice_functions = {
        name
        for name, resource in chalice_template(stage)["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert chalice_functions == {f.logical_id for f in FUNCTIONS}, "add the new function to infra/access.py"
    template = merged(stage)
    for function in FUNCTIONS:
        props = template["Resources"][function.logical_id]["Properties"]
        assert props["Role"] == {"Fn::GetAtt": [function.role.logical_id, "Arn"]}
        assert props["FunctionName"] == {"Fn::Sub": f"${{AWS::StackName}}-{function.suffix}"}
        log_group = template["Resources"][function.log_group_id]["Properties"]["LogGroupName"]
        assert log_group == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{function.suffix}"}
    placeholder = chalice_config()["iam_role_arn"]
    assert placeholder not in set(_strings(template)), "a function kept the placeholder role of config.json"


@pytest.mark.parametrize("stage", STAGES)
def test_no_local_default_from_the_chalice_config_ships(stage: str) -> None:
    """config.json's dev values serve `chalice local` and the tests; deployed, each comes from the stack."""
    configured = chalice_config()["stages"][stage].get("environment_variables", {})
    for function in FUNCTIONS:
        env = merged(stage)["Resources"][function.logical_id]["Properties"]["Environment"]["Variables"]
        assert not [name for name, value in env.items() if isinstance(value, str) and value], env
        assert set(configured) <= set(env)


# ---------------------------------------------------------------------------------------- the queue


@pytest.mark.parametrize("stage", STAGES)
def test_the_worker_reports_partial_failures_and_its_queue_outlasts_it(stage: str) -> None:
    resources = merged(stage)["Resources"]
    worker = resources["ScanWorker"]["Properties"]
    (event,) = worker["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::Sub": "${ScanQueue.Arn}"}
    # Without it Lambda ignores the worker's batchItemFailures and deletes the failed messages.
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = resources["ScanQueue"]["Properties"]
    assert worker["Timeout"] == 60
    assert queue["VisibilityTimeout"] == 6 * worker["Timeout"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVES_BEFORE_DLQ == 5
    reserved = worker["ReservedConcurrentExecutions"]
    assert 2 <= event["Properties"]["ScalingConfig"]["MaximumConcurrency"] <= reserved


def test_the_dead_letter_queue_keeps_messages_two_weeks_encrypted() -> None:
    dlq = build_template()["Resources"]["ScanDeadLetterQueue"]["Properties"]
    assert dlq == {"MessageRetentionPeriod": 14 * 24 * 3600, "SqsManagedSseEnabled": True}


# ---------------------------------------------------------------------------------------- data


def test_the_table_is_the_code_definition_encrypted_with_our_key_recoverable_and_retained() -> None:
    resources = build_template()["Resources"]
    table = resources["Table"]
    code = table_definition("x")
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes"):
        assert table["Properties"][key] == code[key]  # every index the code defines, none hard-coded
    assert table["Properties"]["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    # The key outlives the stack with the table: a deleted key would make the retained data unreadable.
    for name in ("Table", "DataKey"):
        assert resources[name]["DeletionPolicy"] == resources[name]["UpdateReplacePolicy"] == "Retain"
    secrets = [r for r in resources.values() if r["Type"] == "AWS::SecretsManager::Secret"]
    assert len(secrets) == 4
    assert all(s["Properties"]["KmsKeyId"] == {"Ref": "DataKey"} for s in secrets)
    assert resources["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "DataKey"}


def test_alarms_cover_the_dead_letters_the_api_and_every_function() -> None:
    alarms = [
        r["Properties"]
        for r in build_template()["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    watched = {(a["MetricName"], json.dumps(a["Dimensions"][0]["Value"])) for a in alarms}
    for function in FUNCTIONS:
        name = json.dumps({"Fn::Sub": f"${{AWS::StackName}}-{function.suffix}"})
        assert ("Errors", name) in watched
        assert ("Throttles", name) in watched
    assert {a["MetricName"] for a in alarms} >= {"ApproximateNumberOfMessagesVisible", "5XXError"}
    assert all(a["Threshold"] == 1 and a["Period"] == 300 for a in alarms)
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)


# ---------------------------------------------------------------------------------------- least privilege


def test_the_fan_out_cannot_send_mail_or_read_secrets() -> None:
    granted = actions(FAN_OUT)
    assert not [a for a in granted if a.startswith(("ses:", "secretsmanager:"))]
    assert not [a for a in granted if a in {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}]
    (kms,) = [s for s in statements(FAN_OUT) if s["Sid"] == "KeyThroughTheTableAndSecrets"]
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == [
        {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"}
    ]


def test_only_the_worker_and_the_renewer_can_read_the_graph_and_google_credentials() -> None:
    """The API faces the internet; Google's key can read every employee's calendar."""
    for secret in (GRAPH, GOOGLE):
        readers = {
            r
            for r in ROLES
            if {"Ref": secret.logical_id} in resources_for(r, "secretsmanager:GetSecretValue")
        }
        assert readers == {WORKER, RENEWER}
    assert "secretsmanager:GetSecretValue" in actions(API)  # its own: the link key, HR's chat webhook


def test_each_role_reads_only_the_secrets_it_is_given_and_gets_their_ids() -> None:
    for function in FUNCTIONS:
        env = merged("prod")["Resources"][function.logical_id]["Properties"]["Environment"]["Variables"]
        referenced = {v["Ref"] for v in env.values() if isinstance(v, dict) and "Ref" in v}
        readable = {r["Ref"] for r in resources_for(function.role, "secretsmanager:GetSecretValue")}
        assert {s.logical_id for s in function.role.secrets} == readable
        told = {s.logical_id for s in SECRETS} & referenced
        assert told == readable, f"{function.name} is told about a secret it may not read"


def test_mail_is_sent_only_as_the_configured_sender() -> None:
    senders = {r for r in ROLES if "ses:SendRawEmail" in actions(r)}
    assert senders == {API, WORKER, NOTIFIER}
    for role in senders:
        (statement,) = [s for s in statements(role) if "ses:SendRawEmail" in _list(s["Action"])]
        assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderAddress"}}}
        assert all(
            "identity/" in json.dumps(r) or "configuration-set/" in json.dumps(r)
            for r in statement["Resource"]
        )


def test_no_role_may_scan_or_administer_the_table_or_touch_the_dead_letters_but_the_worker() -> None:
    for role in ROLES:
        granted = actions(role)
        assert not [
            a
            for a in granted
            if a.startswith("dynamodb:") and not a.endswith("Item") and a != "dynamodb:Query"
        ]
        dead_letters = resources_for(role, "sqs:SendMessage")
        assert ({"Fn::GetAtt": ["ScanDeadLetterQueue", "Arn"]} in dead_letters) == (role is WORKER)


def test_each_role_writes_only_its_own_functions_logs() -> None:
    for role in ROLES:
        (logs,) = [s for s in statements(role) if s["Sid"] == "OwnLogs"]
        pattern = re.compile(r"/aws/lambda/\$\{AWS::StackName\}-([a-z-]+):\*$")
        names = {m.group(1) for r in logs["Resource"] if (m := pattern.search(r["Fn::Sub"]))}
        assert len(names) == len(logs["Resource"])
        assert names == {f.suffix for f in FUNCTIONS if f.role is role}


def test_no_star_outside_the_documented_exceptions() -> None:
    """Role policies name this stack's resources only; the key policy's '*' is listed with its reason."""
    for role in ROLES:
        for statement in statements(role):
            assert "*" not in _list(statement["Action"])
            assert not [a for a in _list(statement["Action"]) if a.endswith(":*")]
            assert "*" not in _list(statement["Resource"]), (role.logical_id, statement["Sid"])
            assert all(isinstance(r, dict) for r in _list(statement["Resource"])), "a literal ARN or '*'"
    key_policy = build_template()["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    for statement in key_policy:
        assert statement["Resource"] == "*"
        assert "KeyPolicy" in STAR_EXCEPTIONS
        if any("*" in action for action in _list(statement["Action"])):
            assert statement["Action"] == "kms:*"
            assert "kms:*" in STAR_EXCEPTIONS
            assert statement["Principal"] == {
                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            }


_IAM_ACTIONS = {
    "get_item": {"dynamodb:GetItem"},
    "batch_get_item": {"dynamodb:BatchGetItem"},
    "query": {"dynamodb:Query"},
    "get_paginator": {"dynamodb:Query"},  # the repository only paginates queries
    "put_item": {"dynamodb:PutItem"},
    "update_item": {"dynamodb:UpdateItem"},
    "delete_item": {"dynamodb:DeleteItem"},
    "batch_write_item": {"dynamodb:BatchWriteItem"},
    "transact_write_items": {
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
    },
}


def test_every_call_the_repository_makes_is_granted_to_the_api_and_the_worker() -> None:
    """A new kind of DynamoDB call in the store fails here, not with AccessDenied in production."""
    source = (ROOT / "chalicelib" / "store" / "repository.py").read_text(encoding="utf-8")
    calls = set(re.findall(r"\b_db\.([a-z_]+)\(", source)) - {"exceptions"}
    unknown = calls - set(_IAM_ACTIONS)
    assert not unknown, f"map {unknown} to IAM actions here and grant them in infra/access.py"
    needed = set().union(*(_IAM_ACTIONS[c] for c in calls))
    for role in (API, WORKER):
        assert needed <= actions(role), needed - actions(role)


AWAITING_CODE: dict[str, str] = {}
"""Variables the stack sets that no code reads yet, each with why (none today)."""


def test_every_variable_the_stack_sets_is_one_the_code_reads_or_is_known_to_await_code() -> None:
    """When bootstrap starts reading one of AWAITING_CODE, this fails: take it off the list."""
    bootstrap = (ROOT / "chalicelib" / "bootstrap.py").read_text(encoding="utf-8")
    read = set(re.findall(r"\"(COVERWATCH_[A-Z_]+)\"", bootstrap))
    set_by_stack = {
        name
        for stage in STAGES
        for f in FUNCTIONS
        for name in merged(stage)["Resources"][f.logical_id]["Properties"]["Environment"]["Variables"]
    }
    assert set_by_stack - read == set(AWAITING_CODE)
