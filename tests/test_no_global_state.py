"""tools_core and server keep no process-wide state: no environment writes, no MLflow globals,
no module-level runtime. The one MLflow setting that exists only as an environment variable
(its HTTP limits) is set in one place, named here."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The single, commented place allowed to write the environment (tools_core/mlflow_rest.py).
ALLOWED_ENV_WRITES = {("tools_core/mlflow_rest.py", "apply_http_limits")}
MLFLOW_GLOBALS = {"set_tracking_uri", "set_registry_uri", "set_experiment", "autolog"}
ENV_WRITERS = {"update", "setdefault", "pop", "clear", "__setitem__", "__delitem__"}


def _sources(*packages: str) -> Iterator[tuple[str, ast.Module]]:
    for package in packages:
        for path in sorted((REPO / package).rglob("*.py")):
            yield str(path.relative_to(REPO)), ast.parse(path.read_text(), str(path))


def _is_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _functions_of(tree: ast.Module) -> dict[ast.AST, str]:
    """Each node's enclosing function name (module level: "")."""
    owner: dict[ast.AST, str] = {}
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(func):
                owner.setdefault(node, func.name)
    return owner


def _global_state_writes(path: str, tree: ast.Module) -> list[str]:
    owner = _functions_of(tree)
    found = []
    for node in ast.walk(tree):
        where = (path, owner.get(node, ""))
        line = f"{path}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ENV_WRITERS and _is_environ(node.func.value):
                if where not in ALLOWED_ENV_WRITES:
                    found.append(f"{line} writes os.environ")
            elif node.func.attr in MLFLOW_GLOBALS:
                found.append(f"{line} calls {node.func.attr} (an MLflow process global)")
            elif node.func.attr == "putenv":
                found.append(f"{line} calls putenv")
        targets = node.targets if isinstance(node, ast.Assign) else []
        targets += [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
        for target in targets:
            if isinstance(target, ast.Subscript) and _is_environ(target.value):
                found.append(f"{line} assigns into os.environ")
        if isinstance(node, ast.Global):
            found.append(f"{line} rebinds a module global ({', '.join(node.names)})")
    return found


def test_tools_core_and_server_write_no_environment_and_set_no_mlflow_global() -> None:
    found = [
        w
        for path, tree in _sources("tools_core", "server")
        for w in _global_state_writes(path, tree)
    ]
    assert found == []


def test_the_checker_sees_what_it_forbids() -> None:
    bad = ast.parse(
        "import os, mlflow\n"
        "def f():\n"
        "    global RUNTIME\n"
        "    os.environ['MLFLOW_TRACKING_TOKEN'] = 't'\n"
        "    os.environ.update({})\n"
        "    mlflow.set_tracking_uri('x')\n"
    )
    assert len(_global_state_writes("x.py", bad)) == 4
