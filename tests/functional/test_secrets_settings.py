"""Deployed, the link-signing key and HR's chat webhook live in Secrets Manager, not in the environment."""

from __future__ import annotations

import json
from dataclasses import replace

from chalicelib import bootstrap
from chalicelib.alerts.notifier import Channels
from chalicelib.bootstrap import Settings, settings_from_env
from chalicelib.models import Alert, AlertKind


def _secret(settings: Settings, name: str, value: str) -> str:
    client = bootstrap.aws_client("secretsmanager", settings)
    return str(client.create_secret(Name=name, SecretString=value)["ARN"])


def _hr_alert() -> Alert:
    return Alert(
        key="k",
        kind=AlertKind.MISSING_CERTIFICATE,
        employee_id="e",
        trip_id="t",
        recipient="hr@example.com",
        subject="s",
        text="t",
        html="<p>t</p>",
    )


def test_the_link_key_and_chat_url_are_read_from_their_secrets(mocked_aws: Settings) -> None:
    link = _secret(mocked_aws, "coverwatch/link-key", "k" * 64)
    chat = _secret(
        mocked_aws, "coverwatch/chat", json.dumps({"url": "https://hooks.slack.com/services/T/B/x"})
    )
    env = {"COVERWATCH_LINK_SECRET_ID": link, "COVERWATCH_HR_CHAT_WEBHOOK_SECRET_ID": chat}
    settings = replace(
        mocked_aws,
        link_secret_id=settings_from_env(env).link_secret_id,
        hr_chat_webhook_secret_id=settings_from_env(env).hr_chat_webhook_secret_id,
    )
    assert bootstrap.link_key(settings) == b"k" * 64
    assert bootstrap.chat_webhook(settings) == "https://hooks.slack.com/services/T/B/x"
    assert Channels.of(bootstrap.notifier(settings)).names_for(_hr_alert()) == ("email", "chat")


def test_an_empty_chat_secret_means_no_chat_and_no_key_means_no_links(mocked_aws: Settings) -> None:
    chat = _secret(mocked_aws, "coverwatch/chat-empty", json.dumps({"url": ""}))
    settings = replace(mocked_aws, hr_chat_webhook_secret_id=chat)
    assert bootstrap.chat_webhook(settings) is None
    assert Channels.of(bootstrap.notifier(settings)).names_for(_hr_alert()) == ("email",)
    assert bootstrap.link_key(mocked_aws) is None
