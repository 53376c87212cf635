"""Google Workspace access: a service account with domain-wide delegation, one user at a time.

Why: coverwatch reads every employee's calendar without asking each of them to sign in. A Workspace
admin grants the service account's client ID the read-only calendar scope under domain-wide
delegation; coverwatch then impersonates one user per request (the JWT's ``sub``). The key is the
service-account JSON kept in AWS Secrets Manager, read through the boto3 client the caller passes in.
It is never logged and never repeated in an exception message.

One calendar service (and its httplib2 connection) is kept per thread and user: httplib2 is not
thread-safe, and keeping the service keeps its access token, so a second sync of the same user in the
same Lambda container costs no token request. google-auth refreshes the token itself before it
expires, and again when the API answers 401.

The client is built from the one discovery document coverwatch ships
(``chalicelib/connectors/data/calendar.v3.json``, read once per process, no network call), not from
the ~600 documents inside google-api-python-client: ``make package`` strips those from the Lambda
bundle (infra/trim.py). ``api_endpoint`` points the service elsewhere (tests: a fake server on
127.0.0.1).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import build_from_document
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from chalicelib.connectors.base import ConnectorError

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
DISCOVERY_DOCUMENT = "calendar.v3.json"
"""In chalicelib/connectors/data/ (Apache-2.0, copied from google-api-python-client; see its README)."""
_SOURCE = "google"
_CACHE_SIZE = 32


class ServiceAccountKey(BaseModel):
    """The fields of a service-account JSON key that coverwatch needs (the rest is passed through)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(pattern=r"^service_account$")
    client_email: str = Field(min_length=3, max_length=320)
    client_id: str = Field(default="", max_length=128)
    private_key: SecretStr
    token_uri: str = Field(min_length=1, max_length=2048)


def load_service_account(secrets: Any, secret_id: str) -> ServiceAccountKey:
    """Read and validate the service-account JSON stored as secret ``secret_id``."""
    try:
        raw = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        permanent = code in {"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure"}
        raise ConnectorError(
            _SOURCE,
            f"cannot read the service-account secret {secret_id!r}: {code}",
            retry_after=None if permanent else 60,
            permanent=permanent,
        ) from None
    try:
        return ServiceAccountKey.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        fields = ", ".join(".".join(map(str, e["loc"])) for e in errors) or "not JSON"
        raise ConnectorError(
            _SOURCE, f"secret {secret_id!r} is not a service-account key ({fields})", permanent=True
        ) from None


def delegated_credentials(key: ServiceAccountKey, user_email: str) -> service_account.Credentials:
    """Credentials that act as ``user_email`` with the read-only calendar scope."""
    info: dict[str, Any] = key.model_dump()
    info["private_key"] = key.private_key.get_secret_value()
    factory: Any = service_account.Credentials.from_service_account_info  # untyped in google-auth
    delegated: service_account.Credentials = factory(info, scopes=[CALENDAR_SCOPE]).with_subject(user_email)
    return delegated


def delegation_hint(client_id: str) -> str:
    """What a Workspace admin must do when Google refuses to impersonate a user."""
    who = f"client ID {client_id}" if client_id else "the service account's client ID"
    return (
        f"domain-wide delegation is missing: in the Google Admin console (Security > API controls > "
        f"Domain-wide delegation) grant {who} the scope {CALENDAR_SCOPE}"
    )


class GoogleServices:
    """Calendar v3 services, one per thread and impersonated user (small LRU per thread)."""

    def __init__(
        self,
        key: ServiceAccountKey,
        *,
        api_endpoint: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._key = key
        self._api_endpoint = api_endpoint
        self._timeout = timeout
        self._local = threading.local()

    @classmethod
    def from_secret(cls, secrets: Any, secret_id: str, **kwargs: Any) -> GoogleServices:
        return cls(load_service_account(secrets, secret_id), **kwargs)

    @property
    def client_id(self) -> str:
        return self._key.client_id

    def __call__(self, user_email: str) -> Any:
        """The calendar service acting as ``user_email`` for the calling thread."""
        cache: OrderedDict[str, Any] | None = getattr(self._local, "services", None)
        if cache is None:
            cache = OrderedDict()
            self._local.services = cache
        service = cache.get(user_email)
        if service is None:
            service = self._build(user_email)
            cache[user_email] = service
            if len(cache) > _CACHE_SIZE:
                cache.popitem(last=False)
        cache.move_to_end(user_email)
        return service

    def _build(self, user_email: str) -> Any:
        creds = delegated_credentials(self._key, user_email)
        http = google_auth_httplib2.AuthorizedHttp(creds, http=httplib2.Http(timeout=self._timeout))
        return calendar_service(http, api_endpoint=self._api_endpoint)


@lru_cache(maxsize=1)
def discovery_document() -> str:
    """The Calendar v3 discovery document as text, read once per process (a service is built per user)."""
    document = resources.files("chalicelib.connectors") / "data" / DISCOVERY_DOCUMENT
    return document.read_text(encoding="utf-8")


def calendar_service(http: Any, *, api_endpoint: str | None = None) -> Any:
    """A Calendar v3 service over ``http``, built from the shipped document; requests go to Google's
    ``rootUrl`` + ``servicePath`` from the document, or to ``api_endpoint`` when given.

    The text, not a parsed dict, is handed over: the client parses it per service, so no service can
    change another's description.
    """
    options: Mapping[str, Any] = {"api_endpoint": api_endpoint} if api_endpoint else {}
    return build_from_document(discovery_document(), http=http, client_options=dict(options))
