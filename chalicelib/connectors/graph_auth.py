"""App-only tokens for Microsoft Graph: one msal ConfidentialClientApplication per process and app.

Why: msal keeps issued tokens in the application object's in-memory cache and only calls Entra ID
again shortly before a token expires. Building the application once per process (per tenant, client
and credential) turns a sync of many mailboxes into one token request instead of one per mailbox,
and keeps the constructor's authority discovery (an HTTP GET) out of every call.

The credentials live in AWS Secrets Manager as a JSON secret, either
``{"tenant_id", "client_id", "client_secret"}`` or ``{"tenant_id", "client_id", "certificate_pem",
"thumbprint"}``. They are read through the boto3 client the caller passes in and are never logged or
put into an exception message. A rotated secret is picked up when the old one stops working: an
``invalid_client`` answer drops the cached credentials so that the next call reads the secret again.

Tests point msal at a fake Entra endpoint by passing ``authority_host`` and an ``http_client`` (any
object with requests-like ``get``/``post``); production code uses login.microsoftonline.com.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

import msal
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from chalicelib.connectors.base import ConnectorError

LOGIN_HOST = "https://login.microsoftonline.com"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
_SOURCE = "graph"
_PERMANENT_ERRORS = frozenset({"invalid_client", "unauthorized_client", "invalid_scope", "invalid_request"})


class GraphCredentials(BaseModel):
    """The app registration's identity and one credential: a client secret or a certificate."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9.-]+$")
    client_id: str = Field(min_length=1, max_length=128)
    client_secret: SecretStr | None = None
    certificate_pem: SecretStr | None = None
    thumbprint: str | None = Field(default=None, pattern=r"^[0-9A-Fa-f]{40}$")

    @model_validator(mode="after")
    def _one_credential(self) -> GraphCredentials:
        has_secret = self.client_secret is not None
        has_cert = self.certificate_pem is not None and self.thumbprint is not None
        if has_secret == has_cert:
            raise ValueError("give either client_secret, or certificate_pem together with thumbprint")
        return self

    def msal_credential(self) -> str | dict[str, str]:
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        assert self.certificate_pem is not None
        assert self.thumbprint is not None
        return {"private_key": self.certificate_pem.get_secret_value(), "thumbprint": self.thumbprint}

    def fingerprint(self) -> str:
        """A digest of the credential, so that a rotated secret gets its own msal application."""
        secret = self.client_secret or self.certificate_pem
        assert secret is not None
        return hashlib.sha256(secret.get_secret_value().encode()).hexdigest()


def load_credentials(secrets: Any, secret_id: str) -> GraphCredentials:
    """Read and validate the JSON secret ``secret_id``; errors never repeat the secret's content."""
    try:
        raw = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as exc:
        raise ConnectorError(
            _SOURCE, f"cannot read secret {secret_id!r}: {type(exc).__name__}", retry_after=60
        ) from None
    try:
        return GraphCredentials.model_validate(json.loads(raw))
    except ValidationError as exc:  # messages name fields and rules, never the input values
        problems = "; ".join(
            (".".join(map(str, e["loc"])) + ": " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise ConnectorError(
            _SOURCE, f"secret {secret_id!r} is not a valid Graph credential ({problems})", permanent=True
        ) from None
    except ValueError:
        raise ConnectorError(_SOURCE, f"secret {secret_id!r} is not JSON", permanent=True) from None


class GraphAuth:
    """Hands out Graph access tokens from one msal application; ``refresh`` forgets the cached one."""

    def __init__(self, app: msal.ConfidentialClientApplication, scopes: tuple[str, ...] = (GRAPH_SCOPE,)):
        self.app = app
        self._scopes = list(scopes)
        self._lock = threading.Lock()
        self.on_permanent_failure: list[Any] = []

    def token(self) -> str:
        with self._lock:
            result: dict[str, Any] = self.app.acquire_token_for_client(scopes=self._scopes) or {}
        if "access_token" in result:
            return str(result["access_token"])
        error = str(result.get("error") or "no_token")
        permanent = error in _PERMANENT_ERRORS
        if permanent:
            for callback in self.on_permanent_failure:
                callback()
        # error_description comes from Entra and names the problem (AADSTS code), never the secret
        detail = str(result.get("error_description") or "").splitlines()[0:1]
        reason = f"token request failed: {error}" + (f" ({detail[0][:200]})" if detail else "")
        raise ConnectorError(_SOURCE, reason, permanent=permanent, retry_after=None if permanent else 30)

    def refresh(self) -> str:
        """A new token even if the cached one looks valid (Graph said 401: it was revoked or expired).

        msal 1.39 refuses ``force_refresh`` for the client-credentials flow, so the cached access
        tokens are removed from the application's token cache before asking again.
        """
        cache = self.app.token_cache
        with self._lock:
            kind = msal.TokenCache.CredentialType
            for entry in list(cache.search(kind.ACCESS_TOKEN)):
                cache.remove_at(entry)
            extended = getattr(kind, "ACCESS_TOKEN_EXTENDED", None)
            if extended is not None:
                for entry in list(cache.search(extended)):
                    cache.modify(extended, entry)
        return self.token()


@dataclass(frozen=True)
class _AppKey:
    authority: str
    client_id: str
    fingerprint: str
    http_client: Any


_apps: dict[_AppKey, GraphAuth] = {}
_by_secret: dict[tuple[str, str, Any], GraphAuth] = {}
_registry_lock = threading.Lock()


def graph_auth(
    credentials: GraphCredentials, *, authority_host: str = LOGIN_HOST, http_client: Any = None
) -> GraphAuth:
    """The process-wide GraphAuth for these credentials (built on first use, then reused)."""
    authority = f"{authority_host.rstrip('/')}/{credentials.tenant_id}"
    key = _AppKey(authority, credentials.client_id, credentials.fingerprint(), http_client)
    with _registry_lock:
        auth = _apps.get(key)
        if auth is None:
            options: dict[str, Any] = {}
            if http_client is not None:
                options["http_client"] = http_client
            if authority_host.rstrip("/") != LOGIN_HOST:
                options["instance_discovery"] = False  # not a Microsoft host: no instance metadata
            try:
                app = msal.ConfidentialClientApplication(
                    credentials.client_id,
                    client_credential=credentials.msal_credential(),
                    authority=authority,
                    **options,
                )
            except ValueError as exc:  # msal: unreadable key, unknown tenant, failed discovery
                raise ConnectorError(
                    _SOURCE, f"cannot set up msal for tenant {credentials.tenant_id}: {type(exc).__name__}"
                ) from None
            auth = _apps[key] = GraphAuth(app)
        return auth


def graph_auth_from_secret(
    secrets: Any, secret_id: str, *, authority_host: str = LOGIN_HOST, http_client: Any = None
) -> GraphAuth:
    """GraphAuth for the credentials in Secrets Manager; the secret is read once per process.

    When Entra rejects the credentials (rotated or revoked secret) the cached entry is dropped, so
    the next call reads the secret again instead of failing until the process ends.
    """
    key = (secret_id, authority_host, http_client)
    with _registry_lock:
        cached = _by_secret.get(key)
    if cached is not None:
        return cached
    auth = graph_auth(
        load_credentials(secrets, secret_id), authority_host=authority_host, http_client=http_client
    )

    def forget() -> None:
        with _registry_lock:
            _by_secret.pop(key, None)

    auth.on_permanent_failure.append(forget)
    with _registry_lock:
        _by_secret[key] = auth
    return auth
