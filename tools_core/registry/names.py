"""Model names, aliases and MLflow errors of the registry: checked and explained the same way
on Databricks (Unity Catalog) and on the local workspace."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from tools_core.errors import InvalidInput, ToolsCoreError

EXAMPLE = "main.models.fraud_detector"
MODEL_HINT = "List models with registry_list_models (names are catalog.schema.model_name)."
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE_PREFIX = re.compile(r"^[A-Z_]+: ")
# Unity Catalog rejects these characters in tag keys.
_UC_TAG_FORBIDDEN = set(".,-=/:")
# Codes MLflow stores use for something that is not there.
MISSING_CODES = ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND")


def check_model_name(name: str) -> list[str]:
    """Raise unless ``name`` is three-level ``catalog.schema.model_name``; naming warnings.

    Both Unity Catalog and the local workspace hold models in a catalog and schema, so a
    one- or two-level name is refused before anything is sent.
    """
    parts = name.split(".")
    if len(parts) != 3 or not all(parts) or any(c.isspace() or c in "`'\"" for c in name):
        raise InvalidInput(
            f"model name {name!r} is not three-level catalog.schema.model_name.",
            f"Use a full name, e.g. {EXAMPLE}.",
        )
    odd = [p for p in parts if not _SNAKE.match(p)]
    if not odd:
        return []
    return [
        f"naming: {', '.join(repr(p) for p in odd)} in {name!r} is not lowercase snake_case "
        f"(convention: catalog.schema.model_name, e.g. {EXAMPLE})."
    ]


def alias_warnings(alias: str) -> list[str]:
    """A warning when an alias is not a lowercase word (champion, challenger, ...)."""
    if _SNAKE.match(alias):
        return []
    return [f"naming: alias {alias!r} is not lowercase snake_case (e.g. champion, challenger)."]


def tag_key_warnings(key: str) -> list[str]:
    """A warning when Unity Catalog would refuse the tag key."""
    bad = sorted(_UC_TAG_FORBIDDEN & set(key))
    if not bad:
        return []
    return [f"tag key {key!r} has {' '.join(bad)}: Unity Catalog refuses those in tag keys."]


def message_of(exc: BaseException) -> str:
    """An MLflow error's message without the error-code prefix MLflow's REST client adds."""
    return _CODE_PREFIX.sub("", str(exc).strip(), count=1)


def is_missing(exc: BaseException) -> bool:
    """Whether an MLflow error says the thing asked for does not exist."""
    return getattr(exc, "error_code", None) in MISSING_CODES


# Unity Catalog registers only models logged with a signature (MLflow's text says so).
SIGNATURE_RULE = "did not contain any signature metadata"
SIGNATURE_HINT = (
    "Log the model again with signature=infer_signature(X, model.predict(X)) or an "
    "input_example, then register that version."
)


@contextmanager
def mlflow_errors(hint: str = "") -> Iterator[None]:
    """MLflow errors raised inside become ToolsCoreError with MLflow's code and ``hint``."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        code = str(getattr(exc, "error_code", "") or "INTERNAL_ERROR")
        message = message_of(exc).split("\n", 1)[0]
        if message and message[-1] not in ".!?)":
            message += "."
        if SIGNATURE_RULE in message:
            # MLflow's client enforces Unity Catalog's rule before any request: the caller's
            # input was wrong, whatever code MLflow gives it.
            code, hint = "INVALID_PARAMETER_VALUE", SIGNATURE_HINT
        raise ToolsCoreError(code, message, hint) from exc
