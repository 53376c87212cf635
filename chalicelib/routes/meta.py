"""``GET /v1/openapi.json`` and ``GET /v1/docs``: the API's own description, public.

Both are built once per process from the declared operations (chalicelib/api/openapi.py), so they
describe exactly what this deployment serves. The generator and the page renderer load on the first
request, not on the API's cold start.
"""

from __future__ import annotations

from functools import lru_cache

from chalice import Blueprint, Response

from chalicelib.api.operations import Auth, api_route
from chalicelib.api.views import html, json_document

OPENAPI_PATH = "/v1/openapi.json"
DOCS_PATH = "/v1/docs"


@lru_cache(maxsize=1)
def _docs_html() -> str:
    import json

    from chalicelib.api.docs_page import render
    from chalicelib.api.openapi import document_json

    return render(json.loads(document_json()))


def make_blueprint() -> Blueprint:
    """A fresh blueprint with both routes (Chalice consumes a blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        OPENAPI_PATH,
        "GET",
        auth=Auth.PUBLIC,
        summary="This API's OpenAPI 3.1 document",
        responses={200: json_document("The OpenAPI 3.1 document, generated from the routes' models.")},
        tag="meta",
    )
    def openapi_document() -> Response:
        """Every operation with its scope, parameters, request and response schemas and error answers."""
        from chalicelib.api.openapi import document_json

        return Response(body=document_json(), status_code=200, headers={"Content-Type": "application/json"})

    @api_route(
        blueprint,
        DOCS_PATH,
        "GET",
        auth=Auth.PUBLIC,
        summary="This API's reference, for people",
        responses={200: html("One self-contained page (no scripts), generated from the OpenAPI document.")},
        tag="meta",
    )
    def api_docs() -> Response:
        """The same document as a readable page: per topic, each operation with its fields and examples."""
        return Response(
            body=_docs_html(), status_code=200, headers={"Content-Type": "text/html; charset=utf-8"}
        )

    return blueprint
