"""``/v1/employees/{employee_id}/certificates``: the A1s and CoCs HR has applied for or received.

Why under the employee: a certificate belongs to one person, and HR works person by person ("what does
Anna have?"). Every change — a new certificate, applied → issued, new dates or host countries, a
withdrawn one deleted — re-decides that employee's stored trips at once and answers with the trips
whose decision moved, so HR sees a case close the moment the A1 arrives, not at the next calendar sync.

``PUT /v1/certificates/{certificate_id}`` (app.py) stays as the legacy way to record one.
"""

from __future__ import annotations

import secrets
from typing import Any

from chalice import Blueprint, Response
from chalice.app import Request
from pydantic import ValidationError

from chalicelib.api.operations import api_route
from chalicelib.api.records import Scope
from chalicelib.api.views import CertificateChanged, CertificateCreate, CertificateList, CertificateRecord
from chalicelib.directory import CertificatePatch, PatchError, patched
from chalicelib.models import Certificate, Employee
from chalicelib.problems import body_problem, conflict_problem, not_found_problem, problem, validation_problem
from chalicelib.routes import directory_http as http

CERTIFICATES_PATH = "/v1/employees/{employee_id}/certificates"
CERTIFICATE_PATH = CERTIFICATES_PATH + "/{certificate_id}"
_PATCHABLE = ", ".join(CertificatePatch.model_fields)
_INVALID = "The request is not valid"


def make_blueprint() -> Blueprint:
    """A fresh blueprint with the certificate routes (Chalice consumes a blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        CERTIFICATES_PATH,
        "POST",
        scope=Scope.WRITE,
        summary="Record a certificate of an employee",
        body=CertificateCreate,
        responses={
            201: CertificateChanged,
            404: "No employee with this id.",
            409: "The employee already has a certificate with this `id`.",
        },
        tag="certificates",
    )
    def create_certificate(employee_id: str) -> Response:
        """Record an A1 / CoC (applied or issued); the employee's trips are decided again at once.

        Without an `id` coverwatch makes one (`cert_…`); `Location` names the new certificate."""
        return _create(http.request_of(blueprint), http.path_id(employee_id))

    @api_route(
        blueprint,
        CERTIFICATES_PATH,
        "GET",
        scope=Scope.READ,
        summary="An employee's certificates",
        responses={200: CertificateList, 404: "No employee with this id."},
        tag="certificates",
    )
    def list_certificates(employee_id: str) -> Response:
        """Every recorded certificate of the employee, by start of validity."""
        found = _employee(http.path_id(employee_id))
        if isinstance(found, Response):
            return found
        certificates = sorted(http.repo().certificates_of(found.id), key=lambda c: (c.valid_from, c.id))
        return http.reply({"certificates": [c.model_dump(mode="json") for c in certificates]})

    @api_route(
        blueprint,
        CERTIFICATE_PATH,
        "GET",
        scope=Scope.READ,
        summary="One certificate",
        responses={200: CertificateRecord, 404: "No such employee, or no such certificate of theirs."},
        tag="certificates",
    )
    def get_certificate(employee_id: str, certificate_id: str) -> Response:
        found = _certificate(http.path_id(employee_id), http.path_id(certificate_id))
        if isinstance(found, Response):
            return found
        return http.reply({"certificate": found[1].model_dump(mode="json")})

    @api_route(
        blueprint,
        CERTIFICATE_PATH,
        "PATCH",
        scope=Scope.WRITE,
        summary="Change a certificate's status, dates, reference or host countries",
        body=CertificatePatch,
        responses={
            200: CertificateChanged,
            404: "No such employee, or no such certificate of theirs.",
            422: "The change cannot be: `valid_to` before `valid_from`, issued back to applied…",
        },
        tag="certificates",
    )
    def update_certificate(employee_id: str, certificate_id: str) -> Response:
        """Change what is sent (`status` applied → issued, `valid_from`, `valid_to`, `reference`,
        `host_countries`); the merged certificate is validated again and the trips decided again."""
        return _update(http.request_of(blueprint), http.path_id(employee_id), http.path_id(certificate_id))

    @api_route(
        blueprint,
        CERTIFICATE_PATH,
        "DELETE",
        scope=Scope.WRITE,
        summary="Delete a certificate (withdrawn, or recorded by mistake)",
        responses={204: None, 404: "No such employee, or no such certificate of theirs."},
        tag="certificates",
    )
    def delete_certificate(employee_id: str, certificate_id: str) -> Response:
        """The trips it covered are decided again at once (and become open cases if nothing else covers
        them)."""
        return _delete(http.request_of(blueprint), http.path_id(employee_id), http.path_id(certificate_id))

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers: ``app.register_blueprint(bp)``."""


def _employee(employee_id: str) -> Employee | Response:
    employee = http.repo().get_employee(employee_id)
    if employee is None:
        return http.problem_reply(not_found_problem("employee_id", f"no employee {employee_id!r}"))
    return employee


def _certificate(employee_id: str, certificate_id: str) -> tuple[Employee, Certificate] | Response:
    employee = _employee(employee_id)
    if isinstance(employee, Response):
        return employee
    certificate = http.repo().get_certificate(employee_id, certificate_id)
    if certificate is None:
        detail = f"employee {employee_id!r} has no certificate {certificate_id!r}"
        return http.problem_reply(not_found_problem("certificate_id", detail))
    return employee, certificate


def _answer(certificate: Certificate, trips: list[dict[str, Any]]) -> dict[str, Any]:
    return {"certificate": certificate.model_dump(mode="json"), "trips": trips}


def _create(request: Request, employee_id: str) -> Response:
    employee = _employee(employee_id)
    if isinstance(employee, Response):
        return employee
    body = http.body_as(request, CertificateCreate)
    if isinstance(body, Response):
        return body
    certificate_id = body.model_dump()["id"] or f"cert_{secrets.token_hex(8)}"
    fields = {**body.model_dump(exclude={"id"}), "id": certificate_id, "employee_id": employee_id}
    certificate = http.validated(Certificate, fields)
    if isinstance(certificate, Response):
        return certificate
    if not http.repo().add_certificate(certificate):
        detail = f"employee {employee_id!r} already has a certificate {certificate_id!r}; PATCH it instead"
        return http.problem_reply(conflict_problem("id", detail))
    http.record(
        request,
        "certificate.create",
        f"certificate/{certificate_id}",
        employee_id=employee_id,
        fields=body.model_fields_set,
    )
    trips = http.reassess_changes(employee)
    where = http.location("employees", employee_id, "certificates", certificate_id)
    return http.reply(_answer(certificate, trips), 201, {"Location": where})


def _update(request: Request, employee_id: str, certificate_id: str) -> Response:
    found = _certificate(employee_id, certificate_id)
    if isinstance(found, Response):
        return found
    employee, certificate = found
    patch = http.body_as(request, CertificatePatch)
    if isinstance(patch, Response):
        return patch
    if not patch.model_fields_set:
        return http.problem_reply(body_problem(f"name at least one field to change: {_PATCHABLE}"))
    try:
        changed = patched(certificate, patch)
    except PatchError as exc:
        return http.problem_reply(problem(exc.status, "validation", _INVALID, exc.message, exc.field))
    except ValidationError as exc:
        return http.problem_reply(validation_problem(exc))
    if changed != certificate:
        http.repo().put_certificate(changed)
    http.record(
        request,
        "certificate.update",
        f"certificate/{certificate_id}",
        employee_id=employee_id,
        fields=patch.model_fields_set,
    )
    trips = http.reassess_changes(employee) if changed != certificate else []
    return http.reply(_answer(changed, trips))


def _delete(request: Request, employee_id: str, certificate_id: str) -> Response:
    employee = _employee(employee_id)
    if isinstance(employee, Response):
        return employee
    if not http.repo().delete_certificate(employee_id, certificate_id):
        detail = f"employee {employee_id!r} has no certificate {certificate_id!r}"
        return http.problem_reply(not_found_problem("certificate_id", detail))
    http.record(request, "certificate.delete", f"certificate/{certificate_id}", employee_id=employee_id)
    http.reassess(employee)
    return Response(body="", status_code=204)
