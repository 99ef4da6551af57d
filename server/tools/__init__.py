"""Tool modules; importing this package registers every tool spec."""

from server.tools import bundles, context, jobs, registry, sql, uc, workspace  # noqa: F401
