"""Tool modules; importing this package registers every tool spec."""

from server.tools import context, sql, uc, workspace  # noqa: F401
