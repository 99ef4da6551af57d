"""Jobs API 2.2 of the local workspace, at the paths the SDK calls.

Jobs: create, get, list (name filter, pagination), update, reset, delete. Runs: run-now,
runs/submit, runs/get, runs/list, runs/get-output, runs/cancel, runs/cancel-all,
runs/repair, runs/delete, runs/export. Responses are built with the SDK's dataclasses.
Unknown jobs and runs answer 400 INVALID_PARAMETER_VALUE "Job 123 does not exist." as
Databricks does (the SDK turns it into ResourceDoesNotExist).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from local_workspace.errors import ApiError, invalid, not_available
from local_workspace.http import int64, json_body, json_response, query_bool, query_int, require
from local_workspace.jobs import runs
from local_workspace.jobs.scheduler import JobsService
from local_workspace.state import WorkspaceState

T = TypeVar("T")

JOBS_LIMIT = (1, 100, 20)
RUNS_LIMIT = (1, 25, 20)


def service(state: WorkspaceState) -> JobsService:
    """The jobs service (created on first use; the workspace store must exist)."""
    return state.service("jobs", lambda: JobsService(state))


def _page(request: Request, bounds: tuple[int, int, int], zero: int) -> tuple[int, int]:
    """(offset, limit) from ``page_token`` or ``offset`` and ``limit`` (0 means ``zero``)."""
    low, high, default = bounds
    limit = query_int(request, "limit", default)
    limit = zero if limit == 0 else default if limit is None else limit
    if not low <= limit <= high:
        raise invalid(f"limit must be between {low} and {high}, got {limit}.")
    token = request.query_params.get("page_token")
    if token:
        try:
            offset = int64(token, "page_token")
        except ApiError as exc:
            raise invalid(f"Invalid page_token {token!r}.") from exc
    else:
        offset = query_int(request, "offset", 0) or 0
    if offset < 0:
        raise invalid(f"offset must be >= 0, got {offset}.")
    return offset, limit


def _paged(items: list[Any], key: str, offset: int, limit: int, more: bool) -> dict[str, Any]:
    body: dict[str, Any] = {key: items, "has_more": more}
    if more:
        body["next_page_token"] = str(offset + limit)
    if offset > 0:
        body["prev_page_token"] = str(max(0, offset - limit))
    return body


def _id(fields: Any, name: str) -> int:
    """A required job or run id (query or body) as an int64, or a 400."""
    return int64(require(dict(fields), name), name)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run ``fn`` in a worker thread: the jobs service takes a lock that run executors hold
    while they save, and writes SQLite; neither may stall the event loop (every API)."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def routes(state: WorkspaceState) -> list[BaseRoute]:
    """The Jobs API routes."""
    jobs = service(state)

    async def create(request: Request) -> Response:
        body = await json_body(request)
        settings = {k: v for k, v in body.items() if k != "access_control_list"}
        return json_response({"job_id": await off_loop(jobs.create_job, settings)})

    async def get(request: Request) -> Response:
        record = await off_loop(jobs.job, _id(request.query_params, "job_id"))
        return json_response(runs.job_view(record, full=True))

    async def list_jobs(request: Request) -> Response:
        offset, limit = _page(request, JOBS_LIMIT, JOBS_LIMIT[2])
        full = query_bool(request, "expand_tasks")
        records, more = await off_loop(
            jobs.store.list_jobs, request.query_params.get("name"), offset, limit
        )
        items = [runs.job_view(r, full=full) for r in records]
        return json_response(_paged(items, "jobs", offset, limit, more))

    async def reset(request: Request) -> Response:
        body = await json_body(request)
        await off_loop(jobs.reset_job, _id(body, "job_id"), require(body, "new_settings"))
        return json_response({})

    async def update(request: Request) -> Response:
        body = await json_body(request)
        await off_loop(
            jobs.update_job,
            _id(body, "job_id"),
            body.get("new_settings"),
            body.get("fields_to_remove"),
        )
        return json_response({})

    async def delete(request: Request) -> Response:
        body = await json_body(request)
        await off_loop(jobs.delete_job, _id(body, "job_id"))
        return json_response({})

    async def run_now(request: Request) -> Response:
        body = await json_body(request)
        started = await off_loop(jobs.run_now, _id(body, "job_id"), body, _base_url(request))
        return json_response(started)

    async def submit(request: Request) -> Response:
        body = await json_body(request)
        started = await off_loop(jobs.submit, body, _base_url(request))
        return json_response({"run_id": started["run_id"]})

    async def get_run(request: Request) -> Response:
        doc, task = await off_loop(jobs.find, _id(request.query_params, "run_id"))
        if task is not None:
            return json_response(runs.task_run_view(doc, task))
        history = query_bool(request, "include_history")
        return json_response(runs.run_view(doc, include_history=history))

    async def list_runs(request: Request) -> Response:
        active_only = query_bool(request, "active_only")
        completed_only = query_bool(request, "completed_only")
        if active_only and completed_only:
            raise invalid("active_only and completed_only cannot both be true.")
        job_id = query_int(request, "job_id")
        if job_id is not None:
            await off_loop(jobs.job, job_id)
        # Databricks: a runs limit of 0 means the maximum.
        offset, limit = _page(request, RUNS_LIMIT, RUNS_LIMIT[1])
        run_type = request.query_params.get("run_type")
        active = True if active_only else False if completed_only else None
        docs, more = await off_loop(
            jobs.store.list_runs,
            job_id,
            active,
            run_type,
            query_int(request, "start_time_from"),
            query_int(request, "start_time_to"),
            offset,
            limit,
        )
        full = query_bool(request, "expand_tasks")
        items = [runs.run_view(d, include_tasks=full) for d in docs]
        return json_response(_paged(items, "runs", offset, limit, more))

    async def get_output(request: Request) -> Response:
        return json_response(await off_loop(jobs.output, _id(request.query_params, "run_id")))

    async def cancel(request: Request) -> Response:
        body = await json_body(request)
        await off_loop(jobs.cancel, _id(body, "run_id"))
        return json_response({})

    async def cancel_all(request: Request) -> Response:
        body = await json_body(request)
        if body.get("job_id") is None and not body.get("all_queued_runs"):
            raise invalid("Give job_id (or all_queued_runs) to cancel runs.")
        job_id = body.get("job_id")
        await off_loop(
            jobs.cancel_all,
            None if job_id is None else int64(job_id, "job_id"),
            bool(body.get("all_queued_runs")),
        )
        return json_response({})

    async def repair(request: Request) -> Response:
        body = await json_body(request)
        repair_id = await off_loop(jobs.repair, _id(body, "run_id"), body)
        return json_response({"repair_id": repair_id})

    async def delete_run(request: Request) -> Response:
        body = await json_body(request)
        await off_loop(jobs.delete_run, _id(body, "run_id"))
        return json_response({})

    async def export(request: Request) -> Response:
        raise not_available("Exporting run views (runs/export)")

    prefix = "/api/2.2/jobs"
    table: list[tuple[str, Any, str]] = [
        ("/create", create, "POST"),
        ("/get", get, "GET"),
        ("/list", list_jobs, "GET"),
        ("/reset", reset, "POST"),
        ("/update", update, "POST"),
        ("/delete", delete, "POST"),
        ("/run-now", run_now, "POST"),
        ("/runs/submit", submit, "POST"),
        ("/runs/get", get_run, "GET"),
        ("/runs/list", list_runs, "GET"),
        ("/runs/get-output", get_output, "GET"),
        ("/runs/cancel", cancel, "POST"),
        ("/runs/cancel-all", cancel_all, "POST"),
        ("/runs/repair", repair, "POST"),
        ("/runs/delete", delete_run, "POST"),
        ("/runs/export", export, "GET"),
    ]
    routes_: list[BaseRoute] = []
    # Older clients call 2.1; the request and response shapes used here are the same.
    for version_prefix in (prefix, "/api/2.1/jobs"):
        routes_.extend(
            Route(version_prefix + path, handler, methods=[method])
            for path, handler, method in table
        )
    return routes_
