"""Build the MCP server: register the tool specs that pass the filters, behind one boundary."""

from __future__ import annotations

import base64
import difflib
import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    ContentBlock,
    GetPromptResult,
    ImageContent,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from mcp.types import Tool as MCPTool
from pydantic import ValidationError

from server import tool_catalog
from server.errors import (
    ECHO_MAX_CHARS,
    bounded,
    describe_error,
    describe_validation_error,
    shorten,
)
from server.registry import ToolSpec
from server.runtime import Runtime
from server.settings import TOOLSETS, Settings
from server.skills import register_knowledge
from server.specs import all_specs
from server.tool_catalog import ToolRow

SERVER_NAME = "dbx-devkit"


def selected_specs(settings: Settings) -> list[ToolSpec]:
    """The specs enabled by the toolset filter and the read-only flag (read-only wins)."""
    return [
        spec for spec in all_specs().values() if _enabled(settings, spec.toolset, spec.read_only)
    ]


def tool_annotations(spec: ToolSpec) -> ToolAnnotations:
    """MCP annotations chosen per tool: readOnlyHint always; the rest for writers."""
    if spec.read_only:
        return ToolAnnotations(title=spec.title, read_only_hint=True)
    return ToolAnnotations(
        title=spec.title,
        read_only_hint=False,
        destructive_hint=spec.destructive,
        idempotent_hint=spec.idempotent,
    )


def to_call_result(result: Any, structured: bool) -> CallToolResult:
    """Compact text (plus any images the result carries); the model as structured content
    only when asked for.

    Claude Code hands the model only the JSON of ``structuredContent`` when a result has one,
    dropping the compact text (tables, hints), so it is off unless output schemas are on.
    """
    if hasattr(result, "to_text"):
        content: list[ContentBlock] = [TextContent(type="text", text=result.to_text())]
        # A result may carry images (e.g. a plot) beside its text, never in structured content.
        for mime_type, data in getattr(result, "images", list)():
            encoded = base64.b64encode(data).decode("ascii")
            content.append(ImageContent(type="image", data=encoded, mime_type=mime_type))
        return CallToolResult(
            content=content,
            structured_content=result.model_dump(mode="json", by_alias=True)
            if structured
            else None,
        )
    if isinstance(result, CallToolResult):
        return result
    return CallToolResult(content=[TextContent(type="text", text=str(result))])


def error_result(message: str) -> CallToolResult:
    """A failed tool call whose text starts with the error code; every error leaves through
    here, so this is where its size is bounded."""
    return CallToolResult(content=[TextContent(type="text", text=bounded(message))], is_error=True)


def guarded(fn: Callable[..., Any], runtime: Runtime, structured: bool) -> Callable[..., Any]:
    """The error boundary: every failure becomes an error result with an actionable message,
    and every call is bounded in time (``runtime``'s ``call_timeout_s``)."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def call_async(*args: Any, **kwargs: Any) -> CallToolResult:
            try:
                with runtime.bounded_call():
                    result = await fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001  (the one boundary)
                return error_result(describe_error(exc))
            return to_call_result(result, structured)

        return call_async

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> CallToolResult:
        try:
            with runtime.bounded_call():
                result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001  (the one boundary)
            return error_result(describe_error(exc))
        return to_call_result(result, structured)

    return call


def runtime_lifespan(
    runtime: Runtime,
) -> Callable[[MCPServer[Runtime]], AbstractAsyncContextManager[Runtime]]:
    """A lifespan that hands ``runtime`` to every request (``ctx.request_context.
    lifespan_context``, read by :func:`server.runtime.runtime_of`). It does not close the
    runtime: whoever built the runtime closes it, after the transport stops."""

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Runtime]) -> AsyncIterator[Runtime]:
        yield runtime

    return lifespan


class DevkitServer(MCPServer[Runtime]):
    """MCPServer whose argument errors also start with an error code and say what to fix.

    Its tools reach ``runtime`` through their MCP context (the server's lifespan yields it).
    Tools listed from the cached catalog (:mod:`server.tool_catalog`) are built only when
    first called; until then tools/list answers from their cached listing.
    """

    def __init__(
        self, *args: Any, runtime: Runtime, structured: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, lifespan=runtime_lifespan(runtime), **kwargs)
        self._runtime = runtime
        self._structured = structured
        self._order: list[str] = []
        self._unbuilt: dict[str, MCPTool] = {}

    def add_spec(self, spec: ToolSpec) -> None:
        """Build and register one tool behind the error boundary."""
        self.add_tool(
            guarded(spec.fn, self._runtime, self._structured),
            name=spec.name,
            annotations=tool_annotations(spec),
            structured_output=self._structured,
        )
        tool = self._tool_manager.get_tool(spec.name)
        if tool is not None:
            # Pydantic titles repeat the parameter names: pure cost in every agent's context.
            drop_titles(tool.parameters)
            if tool.output_schema is not None:
                drop_titles(tool.output_schema)
        self._unbuilt.pop(spec.name, None)
        if spec.name not in self._order:
            self._order.append(spec.name)

    def add_listed(self, row: ToolRow) -> None:
        """Register a tool by its cached listing; it is built on its first call."""
        self._unbuilt[row.name] = MCPTool.model_validate(row.listing)
        self._order.append(row.name)

    def _build(self, name: str) -> None:
        if name in self._unbuilt:
            self.add_spec(all_specs()[name])

    async def list_tools(self) -> list[MCPTool]:
        built = {tool.name: tool for tool in await super().list_tools()}
        return [self._unbuilt.get(name) or built[name] for name in self._order]

    def _tool_input_schema(self, name: str) -> dict[str, Any] | None:
        self._build(name)
        return super()._tool_input_schema(name)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Any = None
    ) -> CallToolResult | InputRequiredResult:
        self._build(name)
        if self._tool_manager.get_tool(name) is None:
            # A protocol error, as the MCP spec asks for an unknown tool.
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown tool {shorten(name, ECHO_MAX_CHARS)!r}: list the tools to see "
                "what this server offers (read-only mode and toolsets hide some).",
            )
        unknown = self._unknown_arguments(name, arguments)
        if unknown:
            return error_result(unknown)
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                return error_result(describe_validation_error(name, exc.__cause__))
            return error_result(describe_error(exc.__cause__ or exc))

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Any = None
    ) -> GetPromptResult | InputRequiredResult:
        # MCPServer answers an unknown name with an internal error and logs a traceback.
        if self._prompt_manager.get_prompt(name) is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown prompt {shorten(name, ECHO_MAX_CHARS)!r}: list the prompts "
                "(the dbx-* skills) to see what this server offers.",
            )
        return await super().get_prompt(name, arguments, context)

    def _unknown_arguments(self, name: str, arguments: dict[str, Any]) -> str:
        """An error for arguments the tool does not take: silently ignoring a misnamed
        filter would return unfiltered results the agent takes for filtered ones."""
        tool = self._tool_manager.get_tool(name)
        if tool is None:
            return ""
        known = sorted(tool.parameters.get("properties", {}))
        extra = [key for key in arguments if key not in known]
        if not extra:
            return ""
        problems = []
        for key in extra:
            close = difflib.get_close_matches(key, known, n=1)
            shown = repr(shorten(key, ECHO_MAX_CHARS))
            problems.append(shown + (f" (did you mean {close[0]!r}?)" if close else ""))
        return (
            f"INVALID_PARAMETER_VALUE: {name} has no argument {', '.join(problems)}. "
            f"Its arguments: {', '.join(known) or 'none'}."
        )


def instructions(runtime: Runtime) -> str:
    """What the agent reads first: which backend, which toolsets, which mode."""
    settings = runtime.settings
    toolsets = runtime.toolsets
    if runtime.backend_kind == "local":
        where = (
            "Backend: the embedded LOCAL workspace (offline emulation of Databricks; a safe "
            "sandbox to rehearse before touching a real workspace)."
        )
    else:
        where = "Backend: a REMOTE Databricks workspace (real data; act with care)."
    mode = "Mode: READ-ONLY (no writer tools)." if settings.read_only else "Mode: read-write."
    return (
        f"dbx-devkit: Databricks tools. {where} {mode} Toolsets: {', '.join(toolsets)}. "
        "Call workspace_context first. Results are capped; follow the hints to page. "
        "Destructive tools change nothing without confirm=true. "
        "Methodology: the dbx-* prompts (skills; start with dbx-local-dev-loop) and the "
        "docs://databricks/ guides."
    )


def build_server(settings: Settings, runtime: Runtime | None = None) -> DevkitServer:
    """An MCPServer with the selected tools; ``runtime`` defaults to one built from settings."""
    runtime = runtime or Runtime(settings)
    rows = None if settings.output_schemas else _cached_rows(runtime)
    if rows is None:
        specs = selected_specs(settings)
        runtime.toolsets = sorted({spec.toolset for spec in specs})
    else:
        rows = [row for row in rows if _enabled(settings, row.toolset, row.read_only)]
        runtime.toolsets = sorted({row.toolset for row in rows})
    server = DevkitServer(
        name=SERVER_NAME,
        # MCPServer configures logging at INFO unless the CLI did first: warnings only.
        log_level="WARNING",
        instructions=instructions(runtime),
        version=_version(),
        runtime=runtime,
        structured=settings.output_schemas,
    )
    if rows is None:
        for spec in specs:
            server.add_spec(spec)
    else:
        for row in rows:
            server.add_listed(row)
    register_knowledge(server)
    return server


def _enabled(settings: Settings, toolset: str, read_only: bool) -> bool:
    """The toolset filter and the read-only flag; read-only wins."""
    return toolset in (settings.toolsets or TOOLSETS) and (read_only or not settings.read_only)


def _cached_rows(runtime: Runtime) -> list[ToolRow]:
    """Every tool's listing from the cache; on a miss, build them all and store them."""
    key = tool_catalog.fingerprint()
    rows = tool_catalog.load(key)
    if rows is not None:
        return rows
    everything = DevkitServer(name=SERVER_NAME, runtime=runtime)
    specs = list(all_specs().values())
    for spec in specs:
        everything.add_spec(spec)
    listed = everything._tool_manager.list_tools()
    rows = [
        ToolRow(
            name=spec.name,
            toolset=spec.toolset,
            read_only=spec.read_only,
            listing=_listing(tool),
        )
        for spec, tool in zip(specs, listed, strict=True)
    ]
    tool_catalog.store(key, rows)
    return rows


def _listing(tool: Any) -> dict[str, Any]:
    return MCPTool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.parameters,
        annotations=tool.annotations,
    ).model_dump(mode="json", by_alias=True, exclude_none=True)


def drop_titles(schema: Any) -> None:
    """Remove the generated ``title`` keys from a JSON schema, in place (not property names)."""
    if isinstance(schema, list):
        for item in schema:
            drop_titles(item)
        return
    if not isinstance(schema, dict):
        return
    if isinstance(schema.get("title"), str):
        del schema["title"]
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            for sub in value.values():
                drop_titles(sub)
        elif isinstance(value, dict | list):
            drop_titles(value)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dbx-devkit")
    except PackageNotFoundError:
        return "0.0.0"
