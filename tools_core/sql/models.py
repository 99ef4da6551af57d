"""Result models of the SQL operations and their compact text."""

from __future__ import annotations

from pydantic import Field

from tools_core.results import Result, markdown_table


class SqlColumn(Result):
    """A result column: name and Databricks type (e.g. ``bigint``, ``decimal(10,2)``)."""

    name: str
    type: str


class SqlLoss(Result):
    """One thing a destructive statement would remove or replace (the preview's lines)."""

    action: str
    object: str
    exists: bool | None = None  # None: not checked, or the check failed (see note)
    rows: int | None = None  # rows removed or changed, where counted
    note: str = ""

    def to_text(self) -> str:
        if self.exists is False:
            detail = "does not exist (nothing to lose)"
        elif self.rows is not None:
            detail = f"{self.rows} row{'' if self.rows == 1 else 's'}"
        else:
            detail = ""
        detail = "; ".join(d for d in (detail, self.note) if d)
        return f"- {self.object} ({self.action})" + (f": {detail}" if detail else "")


class SqlResult(Result):
    """A page of a statement's result, where a statement stands, or (state PREVIEW) what a
    destructive statement that was not run would lose."""

    statement_id: str
    state: str
    columns: list[SqlColumn] = Field(default_factory=list)
    rows: list[list[str | None]] = Field(default_factory=list)
    offset: int = 0
    total_row_count: int | None = None
    truncated: bool = False
    saved_to: str | None = None
    saved_rows: int | None = None
    saved_bytes: int | None = None
    would_lose: list[SqlLoss] = Field(default_factory=list)
    hint: str = ""

    def to_text(self) -> str:
        if self.state == "PREVIEW":
            lines = ["Not run: destructive statement, nothing changed. It would:"]
            lines += [loss.to_text() for loss in self.would_lose]
            return "\n".join([*lines, self.hint])
        if self.state != "SUCCEEDED":
            return f"statement_id: {self.statement_id}\nstate: {self.state}\n{self.hint}".strip()
        if self.saved_to is not None:
            text = (
                f"statement_id: {self.statement_id}\nsaved {self.saved_rows} rows "
                f"({len(self.columns)} columns, {self.saved_bytes} bytes) to {self.saved_to}"
            )
            return f"{text}\n{self.hint}" if self.hint else text
        if not self.columns:
            return f"statement_id: {self.statement_id}\nOK (no result set)"
        headers = [f"{c.name} ({c.type})" for c in self.columns]
        total = self.total_row_count if self.total_row_count is not None else len(self.rows)
        first, last = self.offset + 1, self.offset + len(self.rows)
        shown = f"rows {first}-{last} of {total}" if self.rows else f"0 of {total} rows"
        lines = [
            f"statement_id: {self.statement_id} | {shown}"
            + (" (truncated)" if self.truncated else ""),
            markdown_table(headers, self.rows),
        ]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class Warehouse(Result):
    """A SQL warehouse."""

    id: str
    name: str
    state: str
    size: str | None = None
    serverless: bool | None = None


class WarehouseList(Result):
    """SQL warehouses of the workspace."""

    warehouses: list[Warehouse]
    default_id: str | None = None
    truncated: bool = False

    def to_text(self) -> str:
        rows = [
            [
                w.id + (" (default)" if w.id == self.default_id else ""),
                w.name,
                w.state,
                w.size,
                "yes" if w.serverless else "no",
            ]
            for w in self.warehouses
        ]
        text = markdown_table(["id", "name", "state", "size", "serverless"], rows)
        if self.truncated:
            text += "\n(more warehouses exist: raise limit)"
        return text
