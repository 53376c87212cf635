"""cfn-lint on our templates, in process (about a second per template, no network).

cfn-lint validates SAM resources (``AWS::Serverless::*``) against SAM's own schemas, so the merged
template is checked as the one template CloudFormation will receive. Every finding counts, warnings
included: a warning such as "DeletionPolicy without UpdateReplacePolicy" is a real gap here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cfnlint.api import lint as cfn_lint  # type: ignore[import-untyped]

DEFAULT_REGION = "eu-central-1"


def lint(template: dict[str, Any], region: str = DEFAULT_REGION) -> list[str]:
    """One line per finding (rule, message, where); empty when the template is clean."""
    return list(_lint_text(json.dumps(template, sort_keys=True), region))


@lru_cache(maxsize=8)
def _lint_text(text: str, region: str) -> tuple[str, ...]:
    """Cached: the same template is linted once per process (a dry run and the tests ask twice)."""
    matches = cfn_lint(text, regions=[region])
    return tuple(f"{m.rule.id} {m.message} (at {'/'.join(str(p) for p in m.path)})" for m in matches)
