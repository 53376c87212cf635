"""HR's chat channel: a Slack or Microsoft Teams incoming webhook.

The chat gets a short line (the subject: who, where, when, what is missing) and the reminder that the
details are in HR's mailbox — no evidence, no event titles — because chat channels are read by more
people and kept longer than a mailbox. The webhook URL is a secret (anyone holding it can post): it comes
from the environment and is never logged.

Slack answers 200 "ok", Teams Workflows 202; 429 carries Retry-After. Both are throttled per webhook,
so a throttled post is reported as transient and the retry policy waits as told.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from chalicelib.alerts.notifier import TransientChannelError
from chalicelib.models import Alert

TIMEOUT_SECONDS = 10


class ChatKind(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"


class ChatDeliveryError(Exception):
    """The chat refused the post for good (revoked webhook, archived channel, malformed payload)."""


def kind_of(url: str) -> ChatKind:
    """Slack's hooks live on hooks.slack.com; anything else is taken for a Teams (Workflows) webhook."""
    host = urlsplit(url).hostname or ""
    return ChatKind.SLACK if host == "hooks.slack.com" or host.endswith(".slack.com") else ChatKind.TEAMS


def payload(alert: Alert, kind: ChatKind) -> dict[str, Any]:
    line = alert.subject.removeprefix("[coverwatch] ")
    detail = f"Details were e-mailed to {alert.recipient}."
    if kind is ChatKind.SLACK:
        return {
            "text": f"{line}. {detail}",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*coverwatch:* {line}"}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": detail}]},
            ],
        }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "text": "coverwatch", "weight": "Bolder"},
                        {"type": "TextBlock", "text": line, "wrap": True},
                        {"type": "TextBlock", "text": detail, "wrap": True, "isSubtle": True},
                    ],
                },
            }
        ],
    }


class WebhookNotifier:
    def __init__(self, url: str, kind: ChatKind | None = None, timeout: float = TIMEOUT_SECONDS) -> None:
        if urlsplit(url).scheme not in ("https", "http"):
            raise ValueError("the chat webhook must be an http(s) URL")
        self._url = url
        self._kind = kind or kind_of(url)
        self._timeout = timeout

    def send(self, alert: Alert) -> str:
        body = json.dumps(payload(alert, self._kind)).encode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked in __init__)
            self._url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            reason = exc.read(200).decode(errors="replace").strip()
            if exc.code == 429 or exc.code >= 500:
                after = exc.headers.get("Retry-After")
                raise TransientChannelError(
                    f"{self._kind.value} webhook answered {exc.code}",
                    float(after) if after and after.isdigit() else None,
                ) from None
            raise ChatDeliveryError(f"{self._kind.value} webhook answered {exc.code}: {reason}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise TransientChannelError(f"{self._kind.value} webhook unreachable: {exc}") from None
        return f"{self._kind.value}:{status}:{alert.key}"
