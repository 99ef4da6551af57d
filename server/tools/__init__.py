"""Tool modules; importing this package registers every tool spec."""

from server.tools import (  # noqa: F401
    bundles,
    compute,
    context,
    features,
    jobs,
    mlflow,
    pipelines,
    project,
    registry,
    serving,
    sql,
    uc,
    vector_search,
    workspace,
)
