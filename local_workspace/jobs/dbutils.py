"""The ``dbutils`` of a local task: widgets, notebook.exit, jobs.taskValues, secrets, fs.

``secrets`` reads the workspace's Secrets API and ``fs`` its Files API on Unity Catalog
volumes (:mod:`local_workspace.jobs.dbutils_fs`), both with the task's
``DATABRICKS_HOST``/``DATABRICKS_TOKEN``. What needs a Databricks cluster or cloud storage
(``notebook.run``, mounts, ``credentials``...) raises ``NotImplementedError`` saying so,
never pretending to work.
"""

from __future__ import annotations

import base64
import builtins
import json
import os
import sys
import types
import urllib.error
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from local_workspace.jobs.dbutils_fs import Fs, service_message, workspace_request


class NotebookExit(BaseException):
    """Raised by ``dbutils.notebook.exit``: ends the notebook successfully with a value.

    A BaseException so that ``except Exception`` in the notebook does not swallow it.
    """

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class InputWidgetNotDefined(Exception):
    """``dbutils.widgets.get`` of a widget that is neither defined nor passed as a parameter."""


def _unavailable(what: str, hint: str) -> NoReturn:
    raise NotImplementedError(f"{what} is not available in the local workspace: {hint}")


class _Unavailable:
    """A dbutils module whose every function fails with a clear message."""

    def __init__(self, name: str, hint: str) -> None:
        self._name = name
        self._hint = hint

    def __getattr__(self, attribute: str) -> Callable[..., NoReturn]:
        if attribute.startswith("__"):
            raise AttributeError(attribute)

        def fail(*args: Any, **kwargs: Any) -> NoReturn:
            _unavailable(f"dbutils.{self._name}.{attribute}", self._hint)

        return fail

    def __repr__(self) -> str:
        return f"<dbutils.{self._name}: not available in the local workspace>"


class Widgets:
    """``dbutils.widgets``: job/task parameters override the defaults widgets declare."""

    def __init__(self, parameters: dict[str, str]) -> None:
        self._parameters = {str(k): str(v) for k, v in parameters.items()}
        self._defaults: dict[str, str] = {}

    def get(self, name: str) -> str:
        """The parameter ``name``, else the widget's default; InputWidgetNotDefined if neither."""
        if name in self._parameters:
            return self._parameters[name]
        if name in self._defaults:
            return self._defaults[name]
        raise InputWidgetNotDefined(f"No input widget named {name} is defined")

    def getArgument(self, name: str, defaultValue: str | None = None) -> str | None:
        """Like ``get``, but ``defaultValue`` when the widget is not defined."""
        try:
            return self.get(name)
        except InputWidgetNotDefined:
            if defaultValue is None:
                raise
            return defaultValue

    def getAll(self) -> dict[str, str]:
        """Every defined widget and parameter with its current value."""
        return {**self._defaults, **self._parameters}

    def text(self, name: str, defaultValue: str = "", label: str | None = None) -> None:
        """Declare a text widget with a default value."""
        self._defaults[name] = str(defaultValue)

    def dropdown(
        self,
        name: str,
        defaultValue: str,
        choices: list[str],
        label: str | None = None,
    ) -> None:
        """Declare a dropdown widget; the default must be one of the choices."""
        if str(defaultValue) not in [str(choice) for choice in choices]:
            raise ValueError(f"Default value {defaultValue!r} is not one of the choices.")
        self._defaults[name] = str(defaultValue)

    def combobox(
        self,
        name: str,
        defaultValue: str,
        choices: list[str],
        label: str | None = None,
    ) -> None:
        """Declare a combobox widget."""
        self._defaults[name] = str(defaultValue)

    def multiselect(
        self,
        name: str,
        defaultValue: str,
        choices: list[str],
        label: str | None = None,
    ) -> None:
        """Declare a multiselect widget (its value is comma-separated)."""
        self._defaults[name] = str(defaultValue)

    def remove(self, name: str) -> None:
        """Remove a declared widget (a passed parameter keeps its value)."""
        self._defaults.pop(name, None)

    def removeAll(self) -> None:
        """Remove every declared widget."""
        self._defaults.clear()


class Notebook:
    """``dbutils.notebook``: ``exit`` ends the notebook with a value; ``run`` is unavailable."""

    def exit(self, value: Any) -> NoReturn:
        """End the notebook successfully; ``value`` becomes the run's notebook output."""
        raise NotebookExit(str(value))

    def run(self, path: str, timeout_seconds: int = 0, arguments: Any = None) -> NoReturn:
        """Not available locally: make the other notebook its own job task."""
        _unavailable(
            "dbutils.notebook.run",
            "run the other notebook as a task of the job (depends_on) instead.",
        )


class TaskValues:
    """``dbutils.jobs.taskValues``: values set go to ``<workdir>/task_values.json``.

    Values of upstream tasks come from the env var ``DBX_DEVKIT_TASK_VALUES`` (JSON
    ``{task_key: {key: value}}``) when the scheduler provides it.
    """

    def __init__(self, workdir: Path) -> None:
        self._file = workdir / "task_values.json"
        self._values: dict[str, Any] = {}

    def set(self, key: str, value: Any) -> None:
        """Record a JSON-serialisable value for downstream tasks."""
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Task value {key!r} must be JSON-serialisable: {exc}") from exc
        self._values[key] = value
        self._file.write_text(json.dumps(self._values), encoding="utf-8")

    def get(
        self,
        taskKey: str,
        key: str,
        default: Any = None,
        debugValue: Any = None,
    ) -> Any:
        """The value ``key`` set by upstream task ``taskKey``, else ``default``."""
        try:
            upstream = json.loads(os.environ.get("DBX_DEVKIT_TASK_VALUES") or "{}")
        except ValueError:
            upstream = {}
        values = upstream.get(taskKey) if isinstance(upstream, dict) else None
        if isinstance(values, dict) and key in values:
            return values[key]
        if default is not None:
            return default
        raise ValueError(f"No task value {key!r} was set by task {taskKey!r}.")


class SecretMetadata(namedtuple("SecretMetadata", ["key"])):
    """A secret's key, as ``dbutils.secrets.list`` gives it (a namedtuple, as Databricks')."""


class SecretScope(namedtuple("SecretScope", ["name"])):
    """A scope's name, as ``dbutils.secrets.listScopes`` gives it."""

    def getName(self) -> str:
        """The scope's name (Databricks' Scala-style accessor)."""
        return str(self.name)


class IllegalArgumentException(ValueError):
    """What ``dbutils.secrets`` raises on Databricks for a missing scope or key, with the
    Secrets service's message (``Secret does not exist with scope: s and key: k``)."""


REDACTED = "[REDACTED]"


class RedactingStream:
    """A text stream that writes ``[REDACTED]`` in place of the secret values read so far
    (Databricks redacts secret values in notebook output the same best-effort way: a value
    split across two writes, or transformed, shows)."""

    def __init__(self, inner: Any, values: set[str]) -> None:
        self._inner = inner
        self._values = values

    def redact(self, text: str) -> str:
        """``text`` with every secret value read so far masked (longest first)."""
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, REDACTED)
        return text

    def write(self, text: str) -> int:
        """Write the redacted text; the count is of the caller's characters."""
        self._inner.write(self.redact(text))
        return len(text)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)


class Secrets:
    """``dbutils.secrets``: values from the workspace's secret scopes (Secrets API 2.0).

    Values read are masked in what the task prints from then on (stdout and stderr)."""

    def __init__(self) -> None:
        self._read: set[str] = set()

    def _remember(self, value: bytes) -> None:
        text = value.decode("utf-8", errors="replace")
        if not text.strip():
            return
        self._read.add(text)
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if not isinstance(stream, RedactingStream):
                setattr(sys, name, RedactingStream(stream, self._read))

    def _call(self, path: str, **query: str) -> dict[str, Any]:
        try:
            answer = workspace_request("GET", f"/api/2.0/secrets/{path}", query)
            with answer.body as body:
                result: dict[str, Any] = json.loads(body.read() or b"{}")
            return result
        except urllib.error.HTTPError as exc:
            # Databricks' dbutils raises IllegalArgumentException with the service's message.
            raise IllegalArgumentException(service_message(exc)[1]) from None
        except urllib.error.URLError as exc:
            raise IllegalArgumentException(
                f"The secrets service did not answer: {exc.reason}"
            ) from None

    def getBytes(self, scope: str, key: str) -> bytes:
        """The secret's bytes."""
        value = base64.b64decode(self._call("get", scope=scope, key=key).get("value") or "")
        self._remember(value)
        return value

    def get(self, scope: str, key: str) -> str:
        """The secret as a UTF-8 string."""
        return self.getBytes(scope, key).decode("utf-8")

    def list(self, scope: str) -> builtins.list[SecretMetadata]:
        """The keys of a scope's secrets."""
        return [
            SecretMetadata(s["key"]) for s in self._call("list", scope=scope).get("secrets", [])
        ]

    def listScopes(self) -> builtins.list[SecretScope]:
        """Every secret scope of the workspace."""
        return [SecretScope(s["name"]) for s in self._call("scopes/list").get("scopes", [])]

    def help(self, method: str = "") -> None:
        """What ``dbutils.secrets`` offers."""
        print(
            "dbutils.secrets (the workspace's secret scopes; values read show as [REDACTED]"
            " in output):\n"
            "  get(scope, key) -> str\n  getBytes(scope, key) -> bytes\n"
            "  list(scope) -> [SecretMetadata(key)]\n  listScopes() -> [SecretScope(name)]"
        )


class Library:
    """``dbutils.library``: restartPython is a no-op (the process environment is fixed)."""

    def restartPython(self) -> None:
        """Nothing to restart: packages come from the project environment."""
        print("dbutils.library.restartPython(): nothing to restart in the local workspace.")

    def __getattr__(self, attribute: str) -> Callable[..., NoReturn]:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return _Unavailable("library", "install packages in the project environment.").__getattr__(
            attribute
        )


class DBUtils:
    """The ``dbutils`` object of a local task."""

    def __init__(self, parameters: dict[str, str], workdir: Path) -> None:
        self.widgets = Widgets(parameters)
        self.notebook = Notebook()
        self.jobs = types.SimpleNamespace(taskValues=TaskValues(workdir))
        self.library = Library()
        self.fs = Fs()
        self.secrets = Secrets()
        self.credentials = _Unavailable("credentials", "there are no cloud credentials.")
        self.data = _Unavailable("data", "it needs a Databricks cluster.")

    def help(self) -> None:
        """What this dbutils supports."""
        print(
            "Local workspace dbutils: widgets (get/getAll/text/dropdown/combobox/multiselect),"
            " notebook.exit, jobs.taskValues.set/get, secrets.get/getBytes/list/listScopes,"
            " fs.ls/head/put/mkdirs/cp/mv/rm on /Volumes/... (Unity Catalog volumes),"
            " library.restartPython (no-op). notebook.run, fs mounts, DBFS root and cloud"
            " paths, credentials and data need Databricks. dbutils.<module>.help() for more."
        )


def install_runtime_module(namespace: dict[str, Any]) -> None:
    """Make ``from databricks.sdk.runtime import dbutils, spark`` give the task's objects.

    The SDK's runtime module asks ``dbruntime.UserNamespaceInitializer`` for the notebook
    namespace (as on a Databricks cluster); a stand-in module answers with ours.
    """

    class UserNamespaceInitializer:
        @classmethod
        def getOrCreate(cls) -> UserNamespaceInitializer:
            return cls()

        def get_namespace_globals(self) -> dict[str, Any]:
            return namespace

    module = types.ModuleType("dbruntime")
    module.UserNamespaceInitializer = UserNamespaceInitializer  # type: ignore[attr-defined]
    sys.modules["dbruntime"] = module
