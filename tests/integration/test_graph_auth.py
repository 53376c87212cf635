"""Graph credentials from Secrets Manager (moto) turned into tokens by msal against the fake Entra ID.

What an operator notices: one token request serves many syncs, both a client secret and a
certificate work, a wrong or malformed secret fails permanently without the secret appearing in any
message, and a rotated secret is picked up without restarting the process.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.connectors.base import ConnectorError
from chalicelib.connectors.graph_auth import graph_auth_from_secret, load_credentials
from tests.fakes.graph_server import LOGIN, RunningGraph, running_graph
from tests.fakes.keys import new_rsa_keypair

SECRET = "graph/app-credentials"


@pytest.fixture
def fake() -> Iterator[RunningGraph]:
    with running_graph() as running:
        yield running


@pytest.fixture
def secrets() -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-central-1")


def _store(secrets: Any, doc: dict[str, str]) -> None:
    try:
        secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps(doc))
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=SECRET, SecretString=json.dumps(doc))


def test_client_secret_gives_one_token_for_many_calls(fake: RunningGraph, secrets: Any) -> None:
    fake.graph.register_client("tenant-1", "client-1", secret="very-secret-1")
    _store(secrets, {"tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "very-secret-1"})

    auth = graph_auth_from_secret(secrets, SECRET, authority_host=LOGIN, http_client=fake.session)
    again = graph_auth_from_secret(secrets, SECRET, authority_host=LOGIN, http_client=fake.session)

    assert again is auth
    assert auth.token() == auth.token() == again.token()
    discovery = [c for c in fake.graph.calls if c.path.endswith("/openid-configuration")]
    assert len(discovery) == 1
    assert len(fake.graph.token_calls()) == 1
    fresh = auth.refresh()  # what a 401 from Graph triggers: msal's cached token is dropped
    assert len(fake.graph.token_calls()) == 2
    assert auth.token() == fresh


def test_certificate_credential_signs_a_client_assertion(fake: RunningGraph, secrets: Any) -> None:
    private_pem, public_pem = new_rsa_keypair()
    thumbprint = hashlib.sha1(public_pem.encode()).hexdigest().upper()  # stands in for the cert's SHA-1
    fake.graph.register_client("tenant-2", "client-2", public_key_pem=public_pem, thumbprint=thumbprint)
    _store(
        secrets,
        {
            "tenant_id": "tenant-2",
            "client_id": "client-2",
            "certificate_pem": private_pem,
            "thumbprint": thumbprint,
        },
    )

    auth = graph_auth_from_secret(secrets, SECRET, authority_host=LOGIN, http_client=fake.session)

    assert auth.token()
    form = fake.graph.token_calls()[0]
    assert form.path == "/tenant-2/oauth2/v2.0/token"


def test_wrong_secret_is_permanent_and_never_echoed(
    fake: RunningGraph, secrets: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake.graph.register_client("tenant-1", "client-1", secret="the-real-one")
    _store(secrets, {"tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "an-old-one"})
    auth = graph_auth_from_secret(secrets, SECRET, authority_host=LOGIN, http_client=fake.session)

    with pytest.raises(ConnectorError) as caught:
        auth.token()

    assert caught.value.permanent
    assert "invalid_client" in caught.value.reason
    assert "an-old-one" not in str(caught.value) + caplog.text

    # the operator rotates the secret: the same process picks it up on the next call
    _store(secrets, {"tenant_id": "tenant-1", "client_id": "client-1", "client_secret": "the-real-one"})
    rotated = graph_auth_from_secret(secrets, SECRET, authority_host=LOGIN, http_client=fake.session)
    assert rotated is not auth
    assert rotated.token()


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"tenant_id": "t", "client_id": "c"}, "give either client_secret, or certificate_pem"),
        (
            {
                "tenant_id": "t",
                "client_id": "c",
                "client_secret": "hush-1",
                "certificate_pem": "hush-2",
                "thumbprint": "A" * 40,
            },
            "give either client_secret, or certificate_pem",
        ),
        ({"client_id": "c", "client_secret": "hush-3"}, "tenant_id: Field required"),
        ("hush-4 is not JSON", "is not JSON"),
    ],
)
def test_malformed_secret_is_permanent_and_never_echoed(secrets: Any, doc: Any, reason: str) -> None:
    secrets.create_secret(Name=SECRET, SecretString=doc if isinstance(doc, str) else json.dumps(doc))
    with pytest.raises(ConnectorError) as caught:
        load_credentials(secrets, SECRET)
    assert caught.value.permanent
    assert reason in caught.value.reason
    assert "hush" not in str(caught.value)


def test_missing_secret_is_retryable(secrets: Any) -> None:
    with pytest.raises(ConnectorError) as caught:
        load_credentials(secrets, "graph/does-not-exist")
    assert not caught.value.permanent
    assert caught.value.retry_after == 60
