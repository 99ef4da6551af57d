"""Task libraries and environment dependencies: the local workspace installs nothing.

A Python package the project environment already has is fine (the task runs, with a note);
anything else fails the task before it runs, saying how to fix it.
"""

from __future__ import annotations

import importlib.metadata
import re
from typing import Any

# The name part of a pip requirement: "pandas>=2; python_version>'3'" -> "pandas".
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_OFFLINE = "install it in the project environment (the local workspace installs nothing)."


class LibraryUnavailable(Exception):
    """A task library or dependency the local workspace cannot provide."""


def check_environment(libraries: list[dict[str, Any]], environment: Any) -> list[str]:
    """Notes about satisfied libraries; LibraryUnavailable for the first one that is not."""
    notes = [_check_library(library) for library in libraries]
    for dependency in _dependencies(environment):
        notes.append(check_requirement(dependency, "Environment dependency"))
    return notes


def check_requirement(requirement: str, what: str = "Library") -> str:
    """A note when the pip requirement's distribution is installed, else LibraryUnavailable."""
    text = requirement.strip()
    if text.startswith("-") or "/" in text or text.endswith((".whl", ".txt", ".tar.gz")):
        if text.endswith(".whl") or text.endswith(".egg"):
            return _check_file(text, what)
        raise LibraryUnavailable(
            f"{what} {text!r} cannot be installed in the local workspace; {_OFFLINE}"
        )
    match = _REQUIREMENT_NAME.match(text)
    if not match:
        raise LibraryUnavailable(f"{what} {text!r} is not a package requirement.")
    return _installed(match.group(1), text, what)


def _check_library(library: dict[str, Any]) -> str:
    if not isinstance(library, dict) or not library:
        raise LibraryUnavailable(f"Library {library!r} is not a library specification.")
    if "pypi" in library:
        spec = library["pypi"] or {}
        return check_requirement(str(spec.get("package") or ""), "Library")
    for kind in ("whl", "egg"):
        if kind in library:
            return _check_file(str(library[kind]), "Library")
    if "requirements" in library:
        raise LibraryUnavailable(
            f"Library requirements file {library['requirements']!r} cannot be installed in the "
            f"local workspace; install its packages in the project environment."
        )
    for kind in ("jar", "maven"):
        if kind in library:
            raise LibraryUnavailable(
                f"Library {kind} {_describe(library[kind])} needs a Databricks cluster (JVM); "
                "the local workspace runs Python only."
            )
    if "cran" in library:
        raise LibraryUnavailable(
            f"Library cran {_describe(library['cran'])} needs a Databricks cluster (R); "
            "the local workspace runs Python only."
        )
    raise LibraryUnavailable(f"Library {library!r} is not supported by the local workspace.")


def _check_file(path: str, what: str) -> str:
    # A wheel's file name starts with its distribution name: name-version-...whl.
    name = path.rsplit("/", 1)[-1].split("-", 1)[0]
    try:
        return _installed(name, path, what)
    except LibraryUnavailable:
        raise LibraryUnavailable(
            f"{what} {path!r} cannot be installed in the local workspace; {_OFFLINE}"
        ) from None


def _installed(name: str, requirement: str, what: str) -> str:
    try:
        version = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise LibraryUnavailable(
            f"{what} {requirement!r} cannot be installed in the local workspace (offline): "
            f"{name} is not installed; {_OFFLINE}"
        ) from None
    return f"{what} {requirement!r}: using the installed {name} {version}."


def _dependencies(environment: Any) -> list[str]:
    if not isinstance(environment, dict):
        return []
    spec = environment.get("spec")
    if not isinstance(spec, dict):
        spec = environment
    dependencies = spec.get("dependencies") or []
    return [str(item) for item in dependencies if str(item).strip()]


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return repr(value.get("coordinates") or value.get("package") or value)
    return repr(value)
