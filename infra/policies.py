"""IAM documents for the roles in infra/access.py and the KMS key, as CloudFormation values.

Every role statement names a resource of this stack, so a role can never reach another stack's data.
``*`` appears only where AWS's syntax requires it, each case listed in STAR_EXCEPTIONS with its reason
(tests/unit/test_infra.py fails on any other). The roles need no ``*`` at all: SES authorises
SendRawEmail on identity and configuration-set ARNs, and coverwatch publishes no custom metrics
(``cloudwatch:PutMetricData``, which only takes ``*``, would be the first exception to list).
"""

from __future__ import annotations

from typing import Any

from infra.access import READ, SECRETS, Role, functions_of

STAR_EXCEPTIONS: dict[str, str] = {
    "KeyPolicy": "In a KMS key policy the Resource is always '*': it means the key the policy is on.",
    "kms:*": "The account root keeps full control of the key (AWS's default key policy), so IAM "
    "administrators can manage it and a key can never become unmanageable.",
}

Doc = dict[str, Any]


def sub(text: str) -> Doc:
    return {"Fn::Sub": text}


def ref(name: str) -> Doc:
    return {"Ref": name}


def arn(name: str) -> Doc:
    return {"Fn::GetAtt": [name, "Arn"]}


def function_name(suffix: str) -> Doc:
    return sub(f"${{AWS::StackName}}-{suffix}")


def log_group_name(suffix: str) -> Doc:
    return sub(f"/aws/lambda/${{AWS::StackName}}-{suffix}")


def _log_streams(suffix: str) -> Doc:
    return sub(
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
        f"/aws/lambda/${{AWS::StackName}}-{suffix}:*"
    )


def _service(name: str) -> Doc:
    return sub(f"{name}.${{AWS::Region}}.amazonaws.com")


def _ses_resources() -> list[Doc]:
    """The sender's address identity, its domain's identity (whichever is verified), the config set."""
    prefix = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
    domain = {"Fn::Select": [1, {"Fn::Split": ["@", ref("SenderAddress")]}]}
    return [
        sub(f"{prefix}:identity/${{SenderAddress}}"),
        {"Fn::Sub": [f"{prefix}:identity/${{Domain}}", {"Domain": domain}]},
        sub(f"{prefix}:configuration-set/${{EmailConfigurationSet}}"),
    ]


def role_policy(role: Role) -> Doc:
    """The one inline policy of ``role``: only what its functions' code calls, on this stack's resources."""
    statements: list[Doc] = [
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [_log_streams(f.suffix) for f in functions_of(role)],
        },
        {
            "Sid": "Table",
            "Effect": "Allow",
            "Action": list(role.table_actions),
            "Resource": [arn("Table")] + ([sub("${Table.Arn}/index/*")] if role.queries_indexes else []),
        },
    ]
    if role.queue_actions:
        statements.append(
            {
                "Sid": "ScanQueue",
                "Effect": "Allow",
                "Action": list(role.queue_actions),
                "Resource": arn("ScanQueue"),
            }
        )
    if role.dead_letter_actions:
        statements.append(
            {
                "Sid": "DeadLetterQueue",
                "Effect": "Allow",
                "Action": list(role.dead_letter_actions),
                "Resource": arn("ScanDeadLetterQueue"),
            }
        )
    if role.sends_email:
        statements.append(
            {
                "Sid": "SendAsTheSender",
                "Effect": "Allow",
                "Action": ["ses:SendRawEmail"],
                "Resource": _ses_resources(),
                "Condition": {"StringEquals": {"ses:FromAddress": ref("SenderAddress")}},
            }
        )
    if role.secrets:
        statements.append(
            {
                "Sid": "OwnSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [ref(s.logical_id) for s in role.secrets],
            }
        )
    writes = any(a not in READ for a in role.table_actions)
    statements.append(
        {
            "Sid": "KeyThroughTheTableAndSecrets",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey"]
            + (["kms:Encrypt", "kms:GenerateDataKey"] if writes else []),
            "Resource": arn("DataKey"),
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": [_service("dynamodb")]
                    + ([_service("secretsmanager")] if role.secrets else [])
                }
            },
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}


def role_resource(role: Role) -> Doc:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": sub(
                f"coverwatch ${{AWS::StackName}}: {role.logical_id.removesuffix('Role')} functions"
            ),
            "Path": sub("/${AWS::StackName}/"),
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [{"PolicyName": "least-privilege", "PolicyDocument": role_policy(role)}],
        },
    }


def key_policy() -> Doc:
    """The account administers the key; the stack's roles use it through DynamoDB and Secrets Manager.

    The roles are named by their path (``/<stack>/``), not by reference: the roles' policies name the
    table, the table names this key, so a reference back from the key would be a dependency cycle.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministersTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CoverwatchRolesUseItThroughTheirServices",
                "Effect": "Allow",
                "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "aws:PrincipalArn": sub(
                            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}/*"
                        )
                    },
                    "StringEquals": {"kms:ViaService": [_service("dynamodb"), _service("secretsmanager")]},
                },
            },
            {
                "Sid": "AlarmsPublishToTheEncryptedTopic",
                "Effect": "Allow",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}},
            },
        ],
    }


def secret_resource(logical_id: str) -> Doc:
    secret = next(s for s in SECRETS if s.logical_id == logical_id)
    props: Doc = {"Description": secret.description, "KmsKeyId": ref("DataKey")}
    if secret.initial is None:
        props["GenerateSecretString"] = {"PasswordLength": 64, "ExcludePunctuation": True}
    else:
        props["SecretString"] = secret.initial
    return {"Type": "AWS::SecretsManager::Secret", "Properties": props}
