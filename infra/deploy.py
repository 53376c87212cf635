"""``make package`` and ``make deploy``: one template, linted, deployed in one go (docs/deploy.md).

    python -m infra.deploy package [--stage dev]            # chalice package + merge + trim + cfn-lint
    python -m infra.deploy deploy  [--stage dev] [--dry-run]

``deploy`` first checks everything it needs from the operator — credentials, region, artifact
bucket, the stage's addresses — and, when something is missing, lists all of it and exits 2 before
any AWS call or build. ``--dry-run`` needs none of it and no network: it renders the templates
offline (infra/chalice_template.py), lints them and prints the commands a deploy would run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from infra.access import LONGEST_SUFFIX
from infra.build import ROOT, TEMPLATE_PATH, build_template, chalice_config, merge_template
from infra.lint import DEFAULT_REGION, lint
from infra.trim import finish

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND")
"""IAM: the stack creates roles (unnamed, so not NAMED_IAM). AUTO_EXPAND: the SAM transform."""

BUILD = ROOT / "build"
EXIT_NEEDS = 2
MAX_FUNCTION_NAME = 64


@dataclass(frozen=True)
class Setting:
    env: str
    parameter: str
    meaning: str
    default: str | None = None
    """None = required."""


SETTINGS = (
    Setting("COVERWATCH_SENDER", "SenderAddress", "From address of every message (SES verifies it)"),
    Setting("COVERWATCH_HR_EMAIL", "HrAddress", "HR's address: alerts, reminders, the daily digest"),
    Setting("COVERWATCH_ALARM_EMAIL", "AlarmEmail", "who gets the CloudWatch alarms"),
    Setting("COVERWATCH_ESCALATION_EMAIL", "EscalationAddress", "also told of cases close to departure", ""),
    Setting("COVERWATCH_PUBLIC_URL", "PublicApiUrl", "the API's custom-domain address, no trailing /", ""),
    Setting("COVERWATCH_HR_LANGUAGE", "HrLanguage", "language of HR's messages: en or de", "en"),
    Setting("COVERWATCH_IAM_PRINCIPALS", "IamPrincipals", 'IAM callers: {"<role ARN>": ["check"]}', ""),
    Setting(
        "COVERWATCH_CREATE_SENDER_IDENTITY",
        "CreateSenderIdentity",
        "false if the sender or its domain already is an SES identity here",
        "true",
    ),
)
DEPLOYER_PERMISSIONS = (
    "cloudformation: CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DeleteChangeSet, "
    "DescribeStacks, DescribeStackEvents",
    "s3: GetObject, PutObject on the artifact bucket",
    "iam: CreateRole, PutRolePolicy, DeleteRolePolicy, GetRole, PassRole, TagRole, DeleteRole",
    "lambda, apigateway, events (schedules), logs, dynamodb, sqs, sns, cloudwatch (alarms)",
    "kms: CreateKey, CreateAlias, PutKeyPolicy, EnableKeyRotation, CreateGrant, DescribeKey, "
    "GenerateDataKey, Decrypt (the table and the secrets are encrypted with the stack's key)",
    "secretsmanager: CreateSecret, TagResource, DeleteSecret; ses: CreateEmailIdentity, "
    "CreateConfigurationSet (+ event destination)",
)


def stack_name(stage: str, env: Mapping[str, str]) -> str:
    return env.get("COVERWATCH_STACK_NAME") or f"coverwatch-{stage}"


def parameters(env: Mapping[str, str]) -> dict[str, str]:
    """Template parameters from the environment; every optional one is sent (its default when unset),
    so a deploy is fully described by its environment and never keeps a forgotten earlier value."""
    values: dict[str, str] = {}
    for setting in SETTINGS:
        value = env.get(setting.env, "").strip()
        if value or setting.default is not None:
            values[setting.parameter] = value or (setting.default or "")
    return values


def needs(env: Mapping[str, str], *, has_credentials: bool, region: str | None, stage: str) -> list[str]:
    """Everything missing before a deploy can start, each with what to do about it."""
    missing: list[str] = []
    if not has_credentials:
        missing.append(
            "AWS credentials: none found. Set AWS_PROFILE (or run `aws sso login`), or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance/task role applies."
        )
    if not region:
        missing.append(
            "a region: set AWS_REGION (or a region in the profile), one where SES sends e-mail, "
            f"e.g. {DEFAULT_REGION}."
        )
    if not env.get("COVERWATCH_ARTIFACT_BUCKET"):
        missing.append(
            "COVERWATCH_ARTIFACT_BUCKET: an existing S3 bucket in that region for the Lambda bundle and "
            "the template (create one: aws s3 mb s3://<name> --region <region>)."
        )
    declared = merge_template(stage)["Parameters"]
    for setting in SETTINGS:
        value = env.get(setting.env, "").strip()
        if setting.default is None and not value:
            missing.append(f"{setting.env}: {setting.meaning}.")
        elif value and not _acceptable(value, declared[setting.parameter]):
            missing.append(f"{setting.env}: {value!r} does not fit; it is {setting.meaning}.")
    stack = stack_name(stage, env)
    if (
        not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", stack)
        or len(stack) + 1 + LONGEST_SUFFIX > MAX_FUNCTION_NAME
    ):
        missing.append(
            f"COVERWATCH_STACK_NAME {stack!r}: letters, digits and '-', starting with a letter, at most "
            f"{MAX_FUNCTION_NAME - 1 - LONGEST_SUFFIX} characters (Lambda names are <stack>-<function>)."
        )
    return missing


def _acceptable(value: str, parameter: dict[str, Any]) -> bool:
    """What CloudFormation would check, checked before anything is built or sent."""
    pattern = parameter.get("AllowedPattern")
    allowed = parameter.get("AllowedValues")
    return (pattern is None or re.fullmatch(pattern, value) is not None) and (
        allowed is None or value in allowed
    )


def explain_needs(missing: list[str], stage: str, out: TextIO) -> None:
    out.write("make deploy cannot start. Nothing was built, created or changed. It needs:\n\n")
    out.writelines(f"  - {item}\n" for item in missing)
    optional = ", ".join(f"{s.env} ({s.meaning})" for s in SETTINGS if s.default is not None)
    out.write(f"\nOptional: {optional}; COVERWATCH_STACK_NAME (default coverwatch-{stage}).\n")
    out.write("\nThe credentials must allow (AdministratorAccess does; docs/deploy.md has the details):\n")
    out.writelines(f"  - {line}\n" for line in DEPLOYER_PERMISSIONS)
    out.write(
        "\nSES: the first deploy creates the sender identity; SES then mails COVERWATCH_SENDER a link that "
        "must be opened before anything is sent. A new account is in the SES sandbox (mail only to "
        "verified addresses) until you request production access for the region in the SES console.\n"
        f"\nExample: AWS_PROFILE=admin AWS_REGION={DEFAULT_REGION} \\\n"
        "  COVERWATCH_ARTIFACT_BUCKET=my-artifacts \\\n"
        "  COVERWATCH_SENDER=coverwatch@example.com COVERWATCH_HR_EMAIL=hr@example.com \\\n"
        f"  COVERWATCH_ALARM_EMAIL=ops@example.com make deploy STAGE={stage}\n"
        "Without any of it: make deploy DRY_RUN=1 (templates built and linted offline, commands printed).\n"
    )


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def write_json(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def report_lint(name: str, problems: list[str], out: TextIO) -> bool:
    if not problems:
        out.write(f"cfn-lint {name}: clean\n")
        return True
    out.write(f"cfn-lint {name}: {len(problems)} finding(s)\n")
    out.writelines(f"  {p}\n" for p in problems)
    return False


def lint_both(template: Path, region: str, out: TextIO) -> bool:
    """Our resources on their own, then the one merged template; True when both are clean."""
    ours = report_lint(_shown(TEMPLATE_PATH), lint(build_template(), region), out)
    merged = report_lint(
        _shown(template), lint(json.loads(template.read_text(encoding="utf-8")), region), out
    )
    return ours and merged


def package(stage: str, out_dir: Path, region: str, out: TextIO) -> Path | None:
    """``chalice package --merge-template`` into ``out_dir`` (pip fetches Lambda wheels), then lint."""
    merge_file = write_json(out_dir / "merge.json", merge_template(stage))
    chalice = Path(sys.executable).with_name("chalice")
    command = [
        str(chalice), "--project-dir", str(ROOT), "package", "--stage", stage,
        "--merge-template", str(merge_file), str(out_dir),
    ]  # fmt: skip
    out.write(f"$ {shlex.join(command)}\n")
    out.flush()
    # Chalice asks botocore for the region's service principals: it needs a region, not credentials.
    environ = {**os.environ, "AWS_DEFAULT_REGION": region}
    if subprocess.run(command, check=False, env=environ).returncode != 0:  # noqa: S603 (our own argv)
        out.write("chalice package failed (see above; it fetches the Lambda wheels from PyPI).\n")
        return None
    template = out_dir / "sam.json"
    bundle = out_dir / "deployment.zip"
    out.write(
        f"wrote {_shown(template)} and {_shown(bundle)} ({bundle.stat().st_size / 1e6:.1f} MB zipped)\n"
    )
    # Strip what coverwatch never reads, compile the start-up modules, prove it still imports.
    runs, lines = finish(bundle)
    out.writelines(f"{line}\n" for line in lines)
    if not runs:
        return None
    clean = lint_both(template, region, out)
    return template if clean else None


def print_commands(stage: str, out_dir: Path, env: Mapping[str, str], out: TextIO) -> None:
    stack = stack_name(stage, env)
    bucket = env.get("COVERWATCH_ARTIFACT_BUCKET") or "<COVERWATCH_ARTIFACT_BUCKET>"
    given = parameters(env)
    overrides = [f"{s.parameter}={given.get(s.parameter, f'<{s.env}>')}" for s in SETTINGS]
    rel = _shown(out_dir)
    steps = [
        ["chalice", "package", "--stage", stage, "--merge-template", f"{rel}/merge.json", str(rel)],
        ["cfn-lint", _shown(TEMPLATE_PATH), f"{rel}/sam.json"],
        [
            "aws", "cloudformation", "package", "--template-file", f"{rel}/sam.json", "--s3-bucket", bucket,
            "--s3-prefix", stack, "--use-json", "--output-template-file", f"{rel}/packaged.json",
        ],
        [
            "aws", "cloudformation", "deploy", "--template-file", f"{rel}/packaged.json",
            "--stack-name", stack, "--s3-bucket", bucket, "--s3-prefix", stack,
            "--capabilities", *CAPABILITIES, "--parameter-overrides", *overrides,
        ],
    ]  # fmt: skip
    out.write(f"\nmake deploy STAGE={stage} would run (infra/deploy.py does the aws steps with boto3):\n")
    out.writelines(f"  {shlex.join(step)}\n" for step in steps)


def dry_run(stage: str, out_dir: Path, env: Mapping[str, str], out: TextIO) -> int:
    from infra.chalice_template import merged_template

    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    write_json(out_dir / "merge.json", merge_template(stage))
    offline = write_json(out_dir / "sam.offline.json", merged_template(stage))
    out.write(f"wrote {_shown(offline)}: Chalice's template (bundle not built) merged with ours\n")
    clean = lint_both(offline, region, out)
    print_commands(stage, out_dir, env, out)
    missing = needs(env, has_credentials=True, region=region, stage=stage)
    if missing:
        names = ", ".join(m.split(":")[0] for m in missing)
        out.write(f"\nA real deploy also needs AWS credentials for the region and: {names}\n")
    return 0 if clean else 1


def _session(env: Mapping[str, str]) -> Any:
    """boto3's session; AWS_REGION counts too (bootstrap reads it, older botocore does not)."""
    import boto3

    return boto3.Session(region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None)


def deploy(stage: str, out_dir: Path, env: Mapping[str, str], out: TextIO) -> int:
    session = _session(env)
    missing = needs(
        env, has_credentials=session.get_credentials() is not None, region=session.region_name, stage=stage
    )
    if missing:
        explain_needs(missing, stage, out)
        return EXIT_NEEDS
    template_path = package(stage, out_dir, session.region_name, out)
    if template_path is None:
        return 1
    from infra.cloudformation import StackDeployer, point_code_at

    deployer = StackDeployer(session, env["COVERWATCH_ARTIFACT_BUCKET"], stack_name(stage, env), out)
    code_key = deployer.upload(out_dir / "deployment.zip", ".zip")
    packaged = point_code_at(
        json.loads(template_path.read_text()), env["COVERWATCH_ARTIFACT_BUCKET"], code_key
    )
    template_key = deployer.upload(write_json(out_dir / "packaged.json", packaged), ".template.json")
    if not deployer.deploy(deployer.template_url(template_key), parameters(env), CAPABILITIES):
        return 1
    outputs = deployer.outputs()
    out.write("\nDeployed. Outputs:\n")
    out.writelines(f"  {k}: {v}\n" for k, v in sorted(outputs.items()))
    graph = outputs.get("GraphCredentialsSecretArn", "<GraphCredentialsSecretArn>")
    out.write(
        "\nNext (docs/deploy.md): open the SES verification mail sent to the sender, confirm the SNS "
        "alarm subscription, and put the Graph / Google / chat values into their secrets, e.g.\n"
        f"  aws secretsmanager put-secret-value --secret-id {graph} --secret-string file://graph.json\n"
    )
    return 0


def main(
    argv: list[str] | None = None, env: Mapping[str, str] | None = None, out: TextIO = sys.stdout
) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["package", "deploy"])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--dry-run", action="store_true", help="offline: build and lint, print commands")
    parser.add_argument("--out", type=Path, help="build directory (default build/<stage>)")
    args = parser.parse_args(argv)
    environ = os.environ if env is None else env
    if args.stage not in chalice_config()["stages"]:
        stages = ", ".join(sorted(chalice_config()["stages"]))
        out.write(f"no stage {args.stage!r} in .chalice/config.json; there are: {stages}\n")
        return EXIT_NEEDS
    out_dir = (args.out or BUILD / args.stage).resolve()
    if args.command == "package":
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        return 0 if package(args.stage, out_dir, region, out) else 1
    if args.dry_run:
        return dry_run(args.stage, out_dir, environ, out)
    return deploy(args.stage, out_dir, environ, out)


if __name__ == "__main__":
    sys.exit(main())
