"""Upload the bundle and template, then create and execute a change set: ``aws cloudformation
package`` + ``deploy`` in boto3, so a deploy needs nothing beyond the dev virtualenv.

A change set rather than a direct update: the list of changes (and whether anything is replaced)
is printed before it runs, and "no changes" is a clean success instead of an error.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import ClientError, WaiterError

_WAIT = {"Delay": 10, "MaxAttempts": 360}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def point_code_at(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The template with every local bundle (``./deployment.zip``) replaced by its S3 object."""
    packaged: dict[str, Any] = json.loads(json.dumps(template))
    for resource in packaged["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = {"Bucket": bucket, "Key": key}
    return packaged


class StackDeployer:
    def __init__(self, session: Any, bucket: str, stack: str, out: TextIO) -> None:
        self._s3 = session.client("s3")
        self._cfn = session.client("cloudformation")
        self._region: str = session.region_name
        self._bucket = bucket
        self._stack = stack
        self._out = out

    def upload(self, path: Path, suffix: str) -> str:
        """Put ``path`` under a content-addressed key (unchanged files are not sent again)."""
        data = path.read_bytes()
        key = f"{self._stack}/{_digest(data)}{suffix}"
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ServerSideEncryption="AES256")
            self._out.write(f"uploaded {path.name} to s3://{self._bucket}/{key}\n")
        return key

    def template_url(self, key: str) -> str:
        return f"https://{self._bucket}.s3.{self._region}.amazonaws.com/{key}"

    def _status(self) -> str | None:
        """The stack's status; None when there is no stack yet."""
        try:
            stacks = self._cfn.describe_stacks(StackName=self._stack)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return str(stacks[0]["StackStatus"]) if stacks else None

    def deploy(self, template_url: str, parameters: Mapping[str, str], capabilities: Sequence[str]) -> bool:
        """Create, show and execute a change set; False when the stack did not reach a good state."""
        status = self._status()
        if status == "ROLLBACK_COMPLETE":
            self._out.write(
                f"The first deploy of {self._stack} failed and was rolled back; such a stack cannot be "
                "updated. Delete it (CloudFormation console; a retained table and key stay), then deploy "
                "again.\n"
            )
            return False
        change_set = f"{self._stack}-{time.strftime('%Y%m%d-%H%M%S')}"
        kind = "CREATE" if status in (None, "REVIEW_IN_PROGRESS") else "UPDATE"
        self._cfn.create_change_set(
            StackName=self._stack,
            ChangeSetName=change_set,
            ChangeSetType=kind,
            TemplateURL=template_url,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=list(capabilities),
            Tags=[{"Key": "app", "Value": "coverwatch"}],
        )
        try:
            self._cfn.get_waiter("change_set_create_complete").wait(
                StackName=self._stack, ChangeSetName=change_set, WaiterConfig=_WAIT
            )
        except WaiterError:
            described = self._cfn.describe_change_set(StackName=self._stack, ChangeSetName=change_set)
            reason = described.get("StatusReason", "")
            if "didn't contain changes" in reason or "No updates" in reason:
                self._cfn.delete_change_set(StackName=self._stack, ChangeSetName=change_set)
                self._out.write(f"{self._stack} is up to date: nothing to change.\n")
                return True
            self._out.write(f"the change set failed: {reason}\n")
            return False
        self._show_changes(change_set)
        self._cfn.execute_change_set(StackName=self._stack, ChangeSetName=change_set)
        waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"
        self._out.write(f"{kind.lower()} of {self._stack} running (CloudFormation console: Stacks)...\n")
        try:
            self._cfn.get_waiter(waiter).wait(StackName=self._stack, WaiterConfig=_WAIT)
        except WaiterError:
            self._show_failures()
            return False
        return True

    def outputs(self) -> dict[str, str]:
        stack = self._cfn.describe_stacks(StackName=self._stack)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def _show_changes(self, change_set: str) -> None:
        described = self._cfn.describe_change_set(StackName=self._stack, ChangeSetName=change_set)
        for change in described.get("Changes", []):
            rc = change["ResourceChange"]
            replacement = f" (replacement: {rc['Replacement']})" if rc.get("Replacement") else ""
            self._out.write(
                f"  {rc['Action']:<7} {rc['LogicalResourceId']} {rc['ResourceType']}{replacement}\n"
            )

    def _show_failures(self) -> None:
        self._out.write(f"{self._stack} did not deploy; CloudFormation rolled back. First failures:\n")
        events = self._cfn.describe_stack_events(StackName=self._stack)["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"].endswith("FAILED")]
        for event in reversed(failed[-10:]):
            reason = event.get("ResourceStatusReason", "")
            self._out.write(f"  {event['LogicalResourceId']}: {reason}\n")
