"""``/v1/employees``: the employee records an HR system keeps in coverwatch, and their erasure.

Why these routes: an HR system owns who works here, where they are insured, their nationalities and
residence — the facts every decision starts from. It pushes one record at a time (``PUT``) or its whole
export (``POST /v1/employees/import``, CSV with a per-row report), reads a record back, and erases an
employee who left (``DELETE``, admin only: profile, certificates, trips with their history, answers,
messages and calendars all go; the audit trail keeps only ids). A changed profile re-decides the
employee's stored trips at once, because nationality or residence can change the answer.

``employee_id`` is reserved for ``import`` (``POST /v1/employees/import`` is the import itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response
from chalice.app import Request

from chalicelib.api.operations import api_route
from chalicelib.api.records import Scope
from chalicelib.api.views import (
    CsvFile,
    EmployeeBody,
    EmployeeRecord,
    EmployeeWritten,
    ImportQuery,
    ImportReport,
)
from chalicelib.directory import erase_employee
from chalicelib.models import Employee
from chalicelib.problems import body_problem, not_found_problem
from chalicelib.routes import directory_http as http

if TYPE_CHECKING:
    from chalicelib.directory_import import HeaderError

EMPLOYEE_PATH = "/v1/employees/{employee_id}"
IMPORT_PATH = "/v1/employees/import"
IMPORT_LIMIT = 2 * 1024 * 1024
"""An export of ~20,000 employees; bigger directories import in parts."""


def make_blueprint() -> Blueprint:
    """A fresh blueprint with the employee routes (Chalice consumes a blueprint when it is registered)."""
    blueprint = Blueprint(__name__)

    @api_route(
        blueprint,
        EMPLOYEE_PATH,
        "PUT",
        scope=Scope.WRITE,
        summary="Create or replace an employee",
        body=EmployeeBody,
        responses={200: EmployeeWritten},
        tag="employees",
    )
    def put_employee(employee_id: str) -> Response:
        """Create or replace an employee record (from an HR system); their stored trips are decided again."""
        return _put(http.request_of(blueprint), http.path_id(employee_id))

    @api_route(
        blueprint,
        EMPLOYEE_PATH,
        "GET",
        scope=Scope.READ,
        summary="An employee's record",
        responses={200: EmployeeRecord, 404: "No employee with this id."},
        tag="employees",
    )
    def get_employee(employee_id: str) -> Response:
        """The stored record, as the HR system last sent it."""
        employee = http.repo().get_employee(http.path_id(employee_id))
        if employee is None:
            return _unknown(http.path_id(employee_id))
        return http.reply({"employee": employee.model_dump(mode="json")})

    @api_route(
        blueprint,
        EMPLOYEE_PATH,
        "DELETE",
        scope=Scope.ADMIN,
        summary="Erase an employee and everything kept about them",
        responses={204: None, 404: "No employee with this id (or nothing left of one)."},
        tag="employees",
    )
    def delete_employee(employee_id: str) -> Response:
        """Erase the employee: profile, certificates, trips and their history and overrides, traveler
        answers, message records, calendar connections with their events, sync state and push channels.
        The audit trail keeps its entries, which hold ids and field names only. An erasure that was
        interrupted can be sent again; it answers 204 until nothing is left, then 404."""
        return _erase(http.request_of(blueprint), http.path_id(employee_id))

    @api_route(
        blueprint,
        IMPORT_PATH,
        "POST",
        scope=Scope.WRITE,
        summary="Import employees from an HR system's CSV export",
        body=CsvFile,
        query=ImportQuery,
        content_types=("text/csv",),
        max_body=IMPORT_LIMIT,
        responses={
            200: ImportReport,
            400: "The file is empty, not UTF-8 or not CSV, or `dry_run` is not a boolean.",
            422: "The header row lacks required columns (each is named) or names one twice.",
        },
        tag="employees",
    )
    def import_employees() -> Response:
        """Create or update every valid row; each rejected row is listed with its line and fields.

        Rows that are new are created, rows that differ from the stored record replace it (and that
        employee's trips are decided again), identical rows are left alone. A row whose `id` appeared
        on an earlier line is rejected. `?dry_run=true` reports the same without storing anything.
        """
        return _import(http.request_of(blueprint))

    return blueprint


bp = make_blueprint()
"""The blueprint app.py registers: ``app.register_blueprint(bp)``."""


def _unknown(employee_id: str) -> Response:
    return http.problem_reply(not_found_problem("employee_id", f"no employee {employee_id!r}"))


def _put(request: Request, employee_id: str) -> Response:
    body = http.json_object(request)
    if isinstance(body, Response):
        return body
    employee = http.validated(Employee, {**body, "id": employee_id})
    if isinstance(employee, Response):
        return employee
    before = http.repo().get_employee(employee_id)
    http.repo().put_employee(employee)
    http.record(
        request,
        "employee.create" if before is None else "employee.update",
        f"employee/{employee_id}",
        employee_id=employee_id,
        fields=employee.model_fields_set - {"id"},
    )
    report = http.reassess(employee)
    return http.reply({"employee": employee.model_dump(mode="json"), "trips": len(report.results)})


def _erase(request: Request, employee_id: str) -> Response:
    repo = http.repo()
    known = repo.get_employee(employee_id) is not None
    removal = erase_employee(employee_id, repo, http.channel_stoppers(http.settings()))
    if not known and not removal.items and not removal.connections:
        return _unknown(employee_id)
    http.record(request, "employee.delete", f"employee/{employee_id}", employee_id=employee_id)
    return Response(body="", status_code=204)


def _import(request: Request) -> Response:
    from chalicelib.directory_import import HeaderError, UnreadableFileError, read_directory  # cold start

    query = http.validated(ImportQuery, dict(request.query_params or {}))
    if isinstance(query, Response):
        return query
    try:
        directory = read_directory(http.raw_body(request))
    except HeaderError as exc:
        return http.problem_reply(_header_problem(exc))
    except UnreadableFileError as exc:
        return http.problem_reply(body_problem(str(exc)))
    repo = http.repo()
    stored = repo.get_employees([employee.id for _, employee in directory.employees])
    created = [e for _, e in directory.employees if e.id not in stored]
    updated = [e for _, e in directory.employees if e.id in stored and stored[e.id] != e]
    if not query.dry_run:
        repo.put_employees([*created, *updated])
        deps = http.scan_deps() if updated else None
        for employee in updated:
            http.reassess(employee, deps)
        for employee in [*created, *updated]:
            http.record(
                request,
                "employee.import",
                f"employee/{employee.id}",
                employee_id=employee.id,
                fields=employee.model_fields_set - {"id"},
            )
    report = {
        "dry_run": query.dry_run,
        "created": len(created),
        "updated": len(updated),
        "unchanged": len(directory.employees) - len(created) - len(updated),
        "rejected": [
            {
                "row": r.row,
                "id": r.id,
                "errors": [{"field": e.field, "message": e.message} for e in r.errors],
            }
            for r in directory.rejected
        ],
    }
    return http.reply(report)


def _header_problem(exc: HeaderError) -> dict[str, Any]:
    errors = [{"field": c, "message": "required column is missing from the header row"} for c in exc.missing]
    errors += [{"field": c, "message": "column is named twice in the header row"} for c in exc.duplicated]
    return {
        "type": "urn:coverwatch:problem:validation",
        "title": "The file's header row is not usable",
        "status": 422,
        "detail": f"header row: {exc}",
        "errors": errors,
    }
