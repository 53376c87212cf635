"""`make deploy`: says what it needs before touching anything, dry-runs offline, and re-deploys calmly."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from infra.cloudformation import StackDeployer, point_code_at
from infra.deploy import main, needs

ADDRESSES = {
    "COVERWATCH_SENDER": "coverwatch@acme.example",
    "COVERWATCH_HR_EMAIL": "hr@acme.example",
    "COVERWATCH_ALARM_EMAIL": "ops@acme.example",
}


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere boto3 looks, and no instance metadata lookup (that would be network)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, env=env, out=out), out.getvalue()


def test_without_credentials_it_lists_everything_it_needs_and_builds_nothing(
    no_credentials: None, tmp_path: Path
) -> None:
    code, said = run(["deploy", "--stage", "prod", "--out", str(tmp_path / "build")], env={})
    assert code == 2
    for need in ("AWS credentials", "a region", "COVERWATCH_ARTIFACT_BUCKET", *ADDRESSES):
        assert f"- {need}" in said
    assert "iam: CreateRole" in said  # the permissions
    assert "SES" in said
    assert "verif" in said  # the SES verification step
    assert "sandbox" in said
    assert "Nothing was built, created or changed" in said
    assert not (tmp_path / "build").exists()


def test_with_credentials_but_no_bucket_it_asks_only_for_what_is_missing(tmp_path: Path) -> None:
    # The autouse fixture of tests/conftest.py gives fake credentials and eu-central-1.
    code, said = run(["deploy", "--out", str(tmp_path / "build")], env=dict(ADDRESSES))
    assert code == 2
    needed = [line for line in said.splitlines() if line.startswith("  - COVERWATCH")]
    assert needed == [line for line in needed if "COVERWATCH_ARTIFACT_BUCKET" in line]
    assert "AWS credentials: none" not in said
    assert not (tmp_path / "build").exists()


def test_a_value_cloudformation_would_refuse_is_refused_before_anything_starts() -> None:
    env = {**ADDRESSES, "COVERWATCH_ARTIFACT_BUCKET": "b", "COVERWATCH_SENDER": "not-an-address",
           "COVERWATCH_HR_LANGUAGE": "fr", "COVERWATCH_PUBLIC_URL": "https://api.acme.example/"}  # fmt: skip
    missing = needs(env, has_credentials=True, region="eu-central-1", stage="prod")
    assert [m.split(":")[0] for m in missing] == [
        "COVERWATCH_SENDER",
        "COVERWATCH_PUBLIC_URL",
        "COVERWATCH_HR_LANGUAGE",
    ]


def test_a_stack_name_too_long_for_the_function_names_is_refused() -> None:
    env = {**ADDRESSES, "COVERWATCH_ARTIFACT_BUCKET": "b", "COVERWATCH_STACK_NAME": "c" * 60}
    (problem,) = needs(env, has_credentials=True, region="eu-central-1", stage="dev")
    assert problem.startswith("COVERWATCH_STACK_NAME")


def test_an_unknown_stage_is_refused() -> None:
    code, said = run(["deploy", "--dry-run", "--stage", "staging"], env={})
    assert code == 2
    assert "dev, prod" in said


def test_the_dry_run_builds_and_lints_offline_and_prints_the_deploy(
    no_credentials: None, tmp_path: Path
) -> None:
    code, said = run(
        ["deploy", "--dry-run", "--stage", "dev", "--out", str(tmp_path)],
        env={"COVERWATCH_SENDER": "a@b.example"},
    )
    assert code == 0, said
    assert "cfn-lint infra/resources.json: clean" in said
    assert f"cfn-lint {tmp_path / 'sam.offline.json'}: clean" in said
    merge = json.loads((tmp_path / "merge.json").read_text())
    assert "Table" in merge["Resources"]
    assert "APIHandler" in json.loads((tmp_path / "sam.offline.json").read_text())["Resources"]
    assert f"chalice package --stage dev --merge-template {tmp_path}/merge.json {tmp_path}" in said
    (deploy_line,) = [line for line in said.splitlines() if "aws cloudformation deploy" in line]
    assert "--stack-name coverwatch-dev" in deploy_line
    assert "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND" in deploy_line
    assert "SenderAddress=a@b.example" in deploy_line
    assert "'HrAddress=<COVERWATCH_HR_EMAIL>'" in deploy_line
    assert "HrLanguage=en" in deploy_line
    assert "also needs AWS credentials" in said


def test_the_bundle_is_pointed_at_its_uploaded_object_and_nothing_else_changes() -> None:
    template: dict[str, Any] = {
        "Resources": {
            "F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
            "T": {"Type": "AWS::DynamoDB::Table", "Properties": {"CodeUri": "./not-a-bundle"}},
        }
    }
    packaged = point_code_at(template, "artifacts", "coverwatch-dev/abc.zip")
    assert packaged["Resources"]["F"]["Properties"]["CodeUri"] == {
        "Bucket": "artifacts",
        "Key": "coverwatch-dev/abc.zip",
    }
    assert packaged["Resources"]["T"] == template["Resources"]["T"]
    assert template["Resources"]["F"]["Properties"]["CodeUri"] == "./deployment.zip"  # input untouched


class _Session:
    """What StackDeployer takes from a boto3 session, with stubbed clients."""

    region_name = "eu-central-1"

    def __init__(self) -> None:
        real = boto3.Session(region_name=self.region_name)
        self.clients: dict[str, Any] = {name: real.client(name) for name in ("s3", "cloudformation")}

    def client(self, name: str) -> Any:
        return self.clients[name]


def test_deploying_an_unchanged_stack_changes_nothing_and_succeeds() -> None:
    session = _Session()
    out = io.StringIO()
    deployer = StackDeployer(session, "artifacts", "coverwatch-dev", out)
    cfn = Stubber(session.clients["cloudformation"])
    cfn.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "coverwatch-dev",
                    "StackStatus": "UPDATE_COMPLETE",
                    "CreationTime": "2027-01-01",
                }
            ]
        },
    )
    wanted = {
        "StackName": "coverwatch-dev",
        "ChangeSetName": ANY,
        "ChangeSetType": "UPDATE",
        "TemplateURL": "https://t",
        "Parameters": [{"ParameterKey": "HrLanguage", "ParameterValue": "en"}],
        "Capabilities": ["CAPABILITY_IAM"],
        "Tags": [{"Key": "app", "Value": "coverwatch"}],
    }
    cfn.add_response("create_change_set", {"Id": "cs"}, wanted)
    unchanged = {
        "Status": "FAILED",
        "StatusReason": "The submitted information didn't contain changes. Submit different information.",
    }
    cfn.add_response("describe_change_set", unchanged)  # the waiter's poll: fails at once
    cfn.add_response("describe_change_set", unchanged)
    cfn.add_response("delete_change_set", {})
    with cfn:
        assert deployer.deploy("https://t", {"HrLanguage": "en"}, ["CAPABILITY_IAM"])
    cfn.assert_no_pending_responses()  # nothing executed
    assert "up to date" in out.getvalue()
