"""project_init: the guide's project structure written from package templates.

Templates live in ``templates/<name>/`` as ``*.tmpl`` files (so that linters and test runners
of this repository never pick them up); every template starts from ``templates/base``. In a
file name a leading ``dot.`` becomes ``.`` (``dot.gitignore.tmpl`` -> ``.gitignore``).
Placeholders: ``{{name}}`` (the project name) and ``{{package}}`` (its snake_case form).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.results import Result

TEMPLATES = ("ml", "minimal")
TEMPLATE_ROOT = Path(__file__).resolve().parent / "templates"
NAME = re.compile(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$")
MAX_NAME = 40
SUFFIX = ".tmpl"


class InitResult(Result):
    """What project_init wrote."""

    path: str
    name: str
    package: str
    template: str
    files: list[str] = Field(default_factory=list)
    next_step: str = ""

    def to_text(self) -> str:
        listing = "\n".join(f"  {f}" for f in self.files)
        return (
            f"created {self.template} project {self.name} in {self.path} "
            f"({len(self.files)} files):\n{listing}\nNext: {self.next_step}"
        )


def package_name(name: str) -> str:
    """The Python/SQL-friendly form of a project name: ``churn-model`` -> ``churn_model``."""
    return name.replace("-", "_")


def check_name(name: str) -> str:
    """Raise unless ``name`` is lowercase words joined by single hyphens or underscores."""
    if not NAME.match(name) or len(name) > MAX_NAME:
        raise InvalidInput(
            f"project name {name!r} is not lowercase words joined by '-' or '_' "
            f"(at most {MAX_NAME} characters, starting with a letter).",
            "e.g. name='fraud-detection' (package fraud_detection).",
        )
    return package_name(name)


# How the generated .mcp.json starts dbx-devkit when the caller does not say.
DEFAULT_SERVE_COMMAND = ("uvx", "dbx-devkit", "serve")


def render(
    name: str, template: str, serve_command: Sequence[str] = DEFAULT_SERVE_COMMAND
) -> dict[str, str]:
    """The files of ``template`` for project ``name``: {relative path: content}."""
    if template not in TEMPLATES:
        raise InvalidInput(
            f"unknown template {template!r}.", f"Valid templates: {', '.join(TEMPLATES)}."
        )
    package = check_name(name)
    files: dict[str, str] = {}
    for layer in ("base", template):  # the template's files override the base's
        root = TEMPLATE_ROOT / layer
        for source in sorted(root.rglob(f"*{SUFFIX}")):
            relative = source.relative_to(root).as_posix()[: -len(SUFFIX)]
            relative = re.sub(r"(^|/)dot\.", r"\1.", relative)
            text = source.read_text(encoding="utf-8")
            text = text.replace("{{command}}", json.dumps(serve_command[0]))
            text = text.replace("{{args}}", json.dumps(list(serve_command[1:])))
            files[relative] = text.replace("{{name}}", name).replace("{{package}}", package)
    return files


def init_project(
    path: str | Path,
    name: str = "",
    template: str = "ml",
    serve_command: Sequence[str] = DEFAULT_SERVE_COMMAND,
) -> InitResult:
    """Write the project ``template`` into ``path`` (created if missing).

    Refuses to overwrite: every target file is checked first and nothing is written when any
    exists. ``name`` defaults to the directory's name; ``serve_command`` is how the project's
    ``.mcp.json`` starts dbx-devkit.
    """
    root = Path(path).expanduser().resolve()
    name = name or root.name
    files = render(name, template, serve_command)
    if root.exists() and not root.is_dir():
        raise InvalidInput(f"{root} exists and is not a directory.", "Pass a directory path.")
    conflicts = sorted(rel for rel in files if (root / rel).exists())
    if conflicts:
        shown = ", ".join(conflicts[:10]) + (
            f" (+{len(conflicts) - 10} more)" if len(conflicts) > 10 else ""
        )
        raise ToolsCoreError(
            "RESOURCE_ALREADY_EXISTS",
            f"{root} already has {len(conflicts)} of the project's files: {shown}. "
            "Nothing written.",
            "Pick an empty or new directory, or move those files away first.",
        )
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        # "x": never replace a file that appeared since the check above.
        with target.open("x", encoding="utf-8") as handle:
            handle.write(text)
    return InitResult(
        path=str(root),
        name=name,
        package=package_name(name),
        template=template,
        files=sorted(files),
        next_step="cd there, `uv sync && uv run pytest`, then bundle_validate and project_check.",
    )
