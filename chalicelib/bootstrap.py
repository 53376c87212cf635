"""Settings and the real dependencies, built lazily: the one place that reads environment variables.

The same code runs against real AWS and against the embedded local AWS: boto3 itself honours
``AWS_ENDPOINT_URL``, so pointing coverwatch at a moto server is configuration, not a code path.
Tests and the demo build ``Settings`` explicitly and pass them in; Lambda handlers call
``settings_from_env()`` once per process.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.alerts.notifier import Channels, Notifier
    from chalicelib.channels import ChannelManager
    from chalicelib.connectors.base import CalendarSource
    from chalicelib.connectors.graph_subscriptions import GraphSubscriptions
    from chalicelib.models import Channel, Connection, SourceKind
    from chalicelib.scan import ScanDeps
    from chalicelib.store.repository import Repository


@dataclass(frozen=True)
class Settings:
    region: str = "eu-central-1"
    table_name: str = "coverwatch"
    queue_name: str = "coverwatch-scan-jobs"
    dlq_name: str | None = None
    """The scan queue's dead-letter queue (COVERWATCH_DLQ); None means ``<queue_name>-dlq``."""
    sender: str = "coverwatch@example.com"
    hr_email: str = "hr@example.com"
    outbox_dir: Path | None = None
    endpoint_url: str | None = None
    today: date | None = None
    """Fixed decision date (tests, reproducible demos); None means the real current date in UTC."""
    graph_secret_id: str | None = None
    """Secrets Manager id of the Graph app credentials; None = Outlook connections are not read."""
    graph_notification_url: str | None = None
    """Public HTTPS address of /v1/webhooks/graph, for change-notification subscriptions."""
    google_secret_id: str | None = None
    """Secrets Manager id of the Google service-account key; None = Google connections are not read."""
    google_webhook_url: str | None = None
    """Public HTTPS address of /v1/webhooks/google, for watch channels."""
    link_secret: str | None = None
    """Key that signs the traveler's answer links; None = answer links are refused (503)."""
    digest_when_quiet: bool = False
    """Send the daily digest even on days with nothing new."""
    escalation_email: str | None = None
    """Who also hears of an open case within 3 days of departure; None = no escalation."""
    public_base_url: str | None = None
    """The API's public address, for links in e-mails; None = checklists carry no answer links."""
    hr_language: str = "en"
    """The language of HR's messages (a ``Language`` value); travelers get the one on their profile."""
    hr_chat_webhook: str | None = None
    """A Slack or Teams incoming-webhook URL that also gets HR's messages (a secret: never logged)."""
    log_level: str = "INFO"
    """COVERWATCH_LOG_LEVEL: our log lines carry ids and counts only, so INFO is safe in production."""
    ses_configuration_set: str | None = None
    """SES configuration set every e-mail is sent with (bounce and complaint metrics)."""
    link_secret_id: str | None = None
    """Secrets Manager id of the link-signing key, when ``link_secret`` is not given directly."""
    hr_chat_webhook_secret_id: str | None = None
    """Secrets Manager id of ``{"url": "…"}`` for HR's chat (an empty url: no chat)."""
    reminder_points: tuple[tuple[str, int], ...] = (("apply_by", -7), ("start", -3), ("start", -1))
    """When HR is reminded of an open case (COVERWATCH_REMINDERS, e.g. ``apply_by-7,start-3,start-1``)."""
    escalate_within_days: int = 3
    """Escalate open cases departing within this many days (COVERWATCH_ESCALATE_DAYS)."""
    checklist_days: int = 7
    """Travelers get their checklist this many days before departure (COVERWATCH_CHECKLIST_DAYS)."""
    iam_principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """IAM role/user ARNs allowed on the /iam routes, with their scopes (COVERWATCH_IAM_PRINCIPALS,
    a JSON object ``{"arn:aws:iam::123456789012:role/booking": ["check"]}``)."""

    def decision_date(self) -> date:
        return self.today or datetime.now(UTC).date()


def settings_from_env(env: dict[str, str] | None = None) -> Settings:
    """Read COVERWATCH_* and AWS_* variables; every one has a safe default."""
    e = os.environ if env is None else env
    today = e.get("COVERWATCH_TODAY")
    outbox = e.get("COVERWATCH_OUTBOX")
    return Settings(
        region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or Settings.region,
        table_name=e.get("COVERWATCH_TABLE", Settings.table_name),
        queue_name=e.get("COVERWATCH_QUEUE", Settings.queue_name),
        dlq_name=e.get("COVERWATCH_DLQ") or None,
        sender=e.get("COVERWATCH_SENDER", Settings.sender),
        hr_email=e.get("COVERWATCH_HR_EMAIL", Settings.hr_email),
        outbox_dir=Path(outbox) if outbox else None,
        endpoint_url=e.get("AWS_ENDPOINT_URL") or None,
        today=date.fromisoformat(today) if today else None,
        graph_secret_id=e.get("COVERWATCH_GRAPH_SECRET") or None,
        graph_notification_url=e.get("COVERWATCH_GRAPH_WEBHOOK_URL") or None,
        google_secret_id=e.get("COVERWATCH_GOOGLE_SECRET") or None,
        google_webhook_url=e.get("COVERWATCH_GOOGLE_WEBHOOK_URL") or None,
        link_secret=e.get("COVERWATCH_LINK_SECRET") or None,
        public_base_url=e.get("COVERWATCH_PUBLIC_URL") or None,
        hr_language=_language(e.get("COVERWATCH_HR_LANGUAGE") or Settings.hr_language),
        escalation_email=e.get("COVERWATCH_ESCALATION_EMAIL") or None,
        hr_chat_webhook=e.get("COVERWATCH_HR_CHAT_WEBHOOK") or None,
        log_level=_log_level(e.get("COVERWATCH_LOG_LEVEL", "")) or Settings.log_level,
        ses_configuration_set=e.get("COVERWATCH_SES_CONFIGURATION_SET") or None,
        link_secret_id=e.get("COVERWATCH_LINK_SECRET_ID") or None,
        hr_chat_webhook_secret_id=e.get("COVERWATCH_HR_CHAT_WEBHOOK_SECRET_ID") or None,
        iam_principals=_iam_principals(e.get("COVERWATCH_IAM_PRINCIPALS", "")),
        reminder_points=_reminder_points(e.get("COVERWATCH_REMINDERS", "")) or Settings.reminder_points,
        escalate_within_days=_days(e, "COVERWATCH_ESCALATE_DAYS", Settings.escalate_within_days),
        checklist_days=_days(e, "COVERWATCH_CHECKLIST_DAYS", Settings.checklist_days),
        digest_when_quiet=e.get("COVERWATCH_DIGEST_WHEN_QUIET", "").lower() in ("1", "true", "yes"),
    )


def _language(value: str) -> str:
    """A supported message language, checked at start-up so a typo fails loudly, not at the first mail."""
    from chalicelib.models import Language

    code = value.strip().lower()
    if code not in {language.value for language in Language}:
        allowed = ", ".join(language.value for language in Language)
        raise ValueError(f"COVERWATCH_HR_LANGUAGE is {value!r}; use one of: {allowed}")
    return code


def _reminder_points(raw: str) -> tuple[tuple[str, int], ...]:
    """``apply_by-7,start-3,start-1`` -> (("apply_by", -7), ("start", -3), ("start", -1))."""
    points = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        match = re.fullmatch(r"(apply_by|start)([+-]\d{1,3})", item)
        if match is None:
            raise ValueError(
                f"COVERWATCH_REMINDERS item {item!r}: write apply_by-<days> or start-<days>, "
                "comma-separated, e.g. apply_by-7,start-3,start-1"
            )
        points.append((match.group(1), int(match.group(2))))
    return tuple(points)


def _log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level and level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError(f"COVERWATCH_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {raw!r}")
    return level


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 60:
        raise ValueError(f"{name} must be a whole number of days between 0 and 60, not {raw!r}")
    return int(raw)


def _iam_principals(raw: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not raw.strip():
        return ()
    try:
        parsed = json.loads(raw)
        pairs = tuple((str(arn), tuple(str(s) for s in scopes)) for arn, scopes in parsed.items())
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValueError(
            'COVERWATCH_IAM_PRINCIPALS must be a JSON object {"<role or user ARN>": ["check", ...]}'
        ) from exc
    return pairs


def aws_client(service: str, settings: Settings) -> Any:
    """A boto3 client for ``service``; imported here so pure modules never load boto3."""
    import boto3

    factory: Any = boto3.client  # typed per service by overloads; callers annotate what they get
    return factory(service, region_name=settings.region, endpoint_url=settings.endpoint_url)


def repository(settings: Settings) -> Repository:
    from chalicelib.store.repository import DynamoRepository

    return DynamoRepository(aws_client("dynamodb", settings), settings.table_name)


@lru_cache(maxsize=1)
def default_settings() -> Settings:
    return settings_from_env()


@lru_cache(maxsize=8)
def _secret_string(settings: Settings, secret_id: str) -> str:
    """A secret's value, read once per process (a rotated value reaches new Lambda instances)."""
    client = aws_client("secretsmanager", settings)
    return str(client.get_secret_value(SecretId=secret_id)["SecretString"])


def link_key(settings: Settings) -> bytes | None:
    """The key that signs travelers' answer links; None switches the links off."""
    if settings.link_secret:
        return settings.link_secret.encode()
    if settings.link_secret_id:
        return _secret_string(settings, settings.link_secret_id).strip().encode() or None
    return None


def chat_webhook(settings: Settings) -> str | None:
    """HR's chat webhook URL, from the environment or its secret; None means no chat."""
    if settings.hr_chat_webhook:
        return settings.hr_chat_webhook
    if settings.hr_chat_webhook_secret_id:
        raw = _secret_string(settings, settings.hr_chat_webhook_secret_id)
        try:
            url = json.loads(raw).get("url") if raw.strip().startswith("{") else raw
        except (ValueError, AttributeError) as exc:
            raise ValueError('the chat webhook secret must be {"url": "https://..."}') from exc
        return str(url).strip() or None
    return None


def notifier(settings: Settings) -> Channels:
    """E-mail through SES (plus a copy in the outbox folder on local runs), and HR's chat if configured.

    Each channel retries throttling and outages with backoff; what still fails stays in the outbox.
    """
    from chalicelib.alerts.chat import WebhookNotifier
    from chalicelib.alerts.notifier import (
        Channels,
        FanoutNotifier,
        OutboxNotifier,
        RetryingNotifier,
        SesNotifier,
    )

    email: Notifier = SesNotifier(
        aws_client("ses", settings), settings.sender, configuration_set=settings.ses_configuration_set
    )
    if settings.outbox_dir is not None:
        email = FanoutNotifier(email, OutboxNotifier(settings.outbox_dir, settings.sender))
    url = chat_webhook(settings)
    chat = WebhookNotifier(url) if url else None
    return Channels(RetryingNotifier(email), RetryingNotifier(chat) if chat else None)


def scan_deps(settings: Settings) -> ScanDeps:
    from chalicelib.models import Language
    from chalicelib.scan import ScanDeps

    return ScanDeps(
        repo=repository(settings),
        notifier=notifier(settings),
        hr_email=settings.hr_email,
        decided_on=settings.decision_date(),
        hr_language=Language(settings.hr_language),
    )


@lru_cache(maxsize=4)
def queue_url(settings: Settings) -> str:
    """The scan queue's URL, looked up once per process."""
    url: str = aws_client("sqs", settings).get_queue_url(QueueName=settings.queue_name)["QueueUrl"]
    return url


def dead_letter_queue_name(settings: Settings) -> str:
    return settings.dlq_name or f"{settings.queue_name}-dlq"


@lru_cache(maxsize=4)
def dead_letter_queue_url(settings: Settings) -> str:
    """The dead-letter queue's URL, looked up once per process (the worker sends poison jobs there)."""
    answer = aws_client("sqs", settings).get_queue_url(QueueName=dead_letter_queue_name(settings))
    url: str = answer["QueueUrl"]
    return url


@lru_cache(maxsize=2)
def sources(settings: Settings) -> dict[SourceKind, CalendarSource]:
    """The connectors of this process, built once (msal and Google keep their tokens between syncs).

    Graph and Google are built on first use and only when their secret is configured, so the API
    function and local runs without credentials never import msal or google-api-python-client.
    """
    from chalicelib.connectors.registry import LazySource, build_sources
    from chalicelib.models import SourceKind

    extra: dict[SourceKind, CalendarSource] = {}
    if settings.graph_secret_id:
        graph_secret = settings.graph_secret_id

        def graph() -> CalendarSource:
            from chalicelib.connectors.graph import GraphCalendarSource
            from chalicelib.connectors.graph_auth import graph_auth_from_secret

            return GraphCalendarSource(
                graph_auth_from_secret(aws_client("secretsmanager", settings), graph_secret)
            )

        extra[SourceKind.GRAPH] = LazySource(graph)
    if settings.google_secret_id:
        secret_id = settings.google_secret_id

        def google() -> CalendarSource:
            from chalicelib.connectors.google import GoogleCalendarSource
            from chalicelib.connectors.google_auth import GoogleServices

            return GoogleCalendarSource(
                GoogleServices.from_secret(aws_client("secretsmanager", settings), secret_id)
            )

        extra[SourceKind.GOOGLE] = LazySource(google)
    return build_sources(extra)


def graph_subscriptions(settings: Settings) -> Callable[[], GraphSubscriptions] | None:
    """A factory for the Graph subscription manager, or None when Graph is not configured."""
    secret_id, url = settings.graph_secret_id, settings.graph_notification_url
    if not secret_id or not url:
        return None

    def build() -> GraphSubscriptions:
        from chalicelib.connectors.graph import GraphHttp
        from chalicelib.connectors.graph_auth import graph_auth_from_secret
        from chalicelib.connectors.graph_subscriptions import GraphSubscriptions

        auth = graph_auth_from_secret(aws_client("secretsmanager", settings), secret_id)
        return GraphSubscriptions(
            GraphHttp(auth), repository(settings), notification_url=url, lifecycle_url=f"{url}/lifecycle"
        )

    return build


def channel_managers(settings: Settings) -> dict[SourceKind, ChannelManager]:
    """Graph subscriptions and Google channels for the configured providers, built on first use."""
    from chalicelib.models import SourceKind

    managers: dict[SourceKind, ChannelManager] = {}
    graph = graph_subscriptions(settings)
    if graph is not None:
        managers[SourceKind.GRAPH] = _LazyManager(lambda: _GraphChannels(graph()))
    secret_id, url = settings.google_secret_id, settings.google_webhook_url
    if secret_id and url:

        def google() -> ChannelManager:
            from chalicelib.connectors.google_auth import GoogleServices
            from chalicelib.connectors.google_watch import GoogleChannels

            services = GoogleServices.from_secret(aws_client("secretsmanager", settings), secret_id)
            return GoogleChannels(services, repository(settings), url)

        managers[SourceKind.GOOGLE] = _LazyManager(google)
    return managers


class _LazyManager:
    """Builds the provider's manager (credentials, client libraries) only when a channel needs it."""

    def __init__(self, build: Callable[[], ChannelManager]) -> None:
        self._build = build
        self._manager: ChannelManager | None = None

    def _get(self) -> ChannelManager:
        self._manager = self._manager or self._build()
        return self._manager

    def open(self, connection: Connection) -> Channel:
        return self._get().open(connection)

    def renew(self, channel: Channel, connection: Connection) -> Channel:
        return self._get().renew(channel, connection)


class _GraphChannels:
    """Graph's subscription manager seen as a ChannelManager (it says ``create`` for ``open``)."""

    def __init__(self, subscriptions: GraphSubscriptions) -> None:
        self._subscriptions = subscriptions

    def open(self, connection: Connection) -> Channel:
        return self._subscriptions.create(connection)

    def renew(self, channel: Channel, connection: Connection) -> Channel:
        return self._subscriptions.renew(channel, connection)
