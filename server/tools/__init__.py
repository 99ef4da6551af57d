"""Tool modules; importing this package registers every tool spec."""

from server.tools import bundles, context, jobs, mlflow, registry, sql, uc, workspace  # noqa: F401
from server.tools import vector_search  # noqa: F401
from server.tools import serving  # noqa: F401
