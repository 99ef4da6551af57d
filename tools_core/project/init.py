"""project_init: the guide's project structure written from package templates.

Templates live in ``templates/<name>/`` as ``*.tmpl`` files (so that linters and test runners
of this repository never pick them up); every template starts from ``templates/base``. In a
file name a leading ``dot.`` becomes ``.`` (``dot.gitignore.tmpl`` -> ``.gitignore``).
Placeholders: ``{{name}}`` (the project name), ``{{package}}`` (its snake_case form), and
``{{devkit_source}}`` (where uv gets dbx-devkit, for a source checkout).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from pydantic import Field

from tools_core.errors import InvalidInput, ToolsCoreError
from tools_core.localfiles import create_file_at, open_subdir, open_target_folder, remove_folders
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
    name: str,
    template: str,
    serve_command: Sequence[str] = DEFAULT_SERVE_COMMAND,
    devkit_source: str = "",
) -> dict[str, str]:
    """The files of ``template`` for project ``name``: {relative path: content}.
    ``devkit_source``: a dbx-devkit source checkout the project's dev environment installs
    (editable) instead of the package index's dbx-devkit."""
    if template not in TEMPLATES:
        raise InvalidInput(
            f"unknown template {template!r}.", f"Valid templates: {', '.join(TEMPLATES)}."
        )
    package = check_name(name)
    uv_source = ""
    if devkit_source:
        uv_source = (
            "\n[tool.uv.sources]\n# dbx-devkit from the checkout that wrote this project.\n"
            f"dbx-devkit = {{ path = {json.dumps(devkit_source)}, editable = true }}\n"
        )
    files: dict[str, str] = {}
    for layer in ("base", template):  # the template's files override the base's
        root = TEMPLATE_ROOT / layer
        for source in sorted(root.rglob(f"*{SUFFIX}")):
            relative = source.relative_to(root).as_posix()[: -len(SUFFIX)]
            relative = re.sub(r"(^|/)dot\.", r"\1.", relative)
            text = source.read_text(encoding="utf-8")
            text = text.replace("{{command}}", json.dumps(serve_command[0]))
            text = text.replace("{{args}}", json.dumps(list(serve_command[1:])))
            text = text.replace("{{devkit_source}}", uv_source)
            files[relative] = text.replace("{{name}}", name).replace("{{package}}", package)
    return files


def init_project(
    path: str | Path,
    name: str = "",
    template: str = "ml",
    serve_command: Sequence[str] = DEFAULT_SERVE_COMMAND,
    devkit_source: str = "",
) -> InitResult:
    """Write the project ``template`` into ``path``: a new folder, or an empty one.

    Never overwrites and never writes through a link: the folders are opened one by one
    without following user-made links (see :mod:`tools_core.localfiles`), every file is
    created exclusively, and a failure removes what this call wrote. ``name`` defaults to the
    folder's name; ``serve_command`` is how the project's ``.mcp.json`` starts dbx-devkit;
    ``devkit_source`` a source checkout of dbx-devkit its dev environment installs.
    """
    given = Path(path).expanduser()
    name = name or Path(os.path.abspath(given)).name
    files = render(name, template, serve_command, devkit_source)
    root_fd, root, created = open_target_folder(given)
    try:
        _require_empty(root_fd, root)
        _write_all(root_fd, files)
    except BaseException:
        remove_folders(created)
        raise
    finally:
        os.close(root_fd)
    return InitResult(
        path=str(root),
        name=name,
        package=package_name(name),
        template=template,
        files=sorted(files),
        next_step=(
            "cd there, `uv sync && uv run pytest` (tests/integration's spark runs on a local "
            "workspace), then bundle_validate and project_check."
        ),
    )


def _require_empty(root_fd: int, root: Path) -> None:
    entries = sorted(os.listdir(root_fd))
    if entries:
        shown = ", ".join(entries[:10]) + (
            f" (+{len(entries) - 10} more)" if len(entries) > 10 else ""
        )
        raise ToolsCoreError(
            "RESOURCE_ALREADY_EXISTS",
            f"{root} is not empty ({shown}); project_init writes only into a new or empty "
            "folder. Nothing written.",
            "Pick a new folder path, or move those files away first.",
        )


def _write_all(root_fd: int, files: dict[str, str]) -> None:
    """Create every file (and its folders) under ``root_fd``; on failure remove them all."""
    made: list[tuple[int, str, bool]] = []  # (parent fd, name, is a folder), in creation order
    folders: dict[str, int] = {"": root_fd}
    try:
        for rel, text in files.items():
            parent = ""
            for part in rel.split("/")[:-1]:
                child = f"{parent}/{part}" if parent else part
                if child not in folders:
                    fd, new = open_subdir(folders[parent], part, create=True, shown=Path(child))
                    folders[child] = fd
                    if new:
                        made.append((folders[parent], part, True))
                parent = child
            leaf = rel.rsplit("/", 1)[-1]
            handle = create_file_at(folders[parent], leaf)
            made.append((folders[parent], leaf, False))
            with handle:
                handle.write(text.encode("utf-8"))
    except BaseException:
        for parent_fd, entry, is_folder in reversed(made):
            with suppress(OSError):
                if is_folder:
                    os.rmdir(entry, dir_fd=parent_fd)
                else:
                    os.unlink(entry, dir_fd=parent_fd)
        raise
    finally:
        for key, fd in folders.items():
            if key:
                os.close(fd)
