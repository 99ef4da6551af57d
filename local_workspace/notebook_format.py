"""Databricks notebook source format, and its conversion to and from Jupyter.

A notebook exported as SOURCE starts with a header comment (``# Databricks notebook source``)
and separates cells with ``# COMMAND ----------`` lines, in the comment syntax of its language.
Non-default-language cells (``%md``, ``%sql``...) have each line prefixed with ``# MAGIC``.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Comment prefix and file extension per notebook language.
COMMENT = {"PYTHON": "#", "R": "#", "SQL": "--", "SCALA": "//"}
EXTENSION = {"PYTHON": "py", "R": "r", "SQL": "sql", "SCALA": "scala"}
# Extensions AUTO import recognises as notebook sources (Databricks treats ``.R`` as R too).
LANGUAGE_OF_EXTENSION = {".py": "PYTHON", ".r": "R", ".sql": "SQL", ".scala": "SCALA"}
JUPYTER_LANGUAGE = {"python": "PYTHON", "r": "R", "sql": "SQL", "scala": "SCALA"}


def header(language: str) -> str:
    """The first line of a notebook's source, e.g. ``# Databricks notebook source``."""
    return f"{COMMENT[language]} Databricks notebook source"


def separator(language: str) -> str:
    """The line between two cells."""
    return f"{COMMENT[language]} COMMAND ----------"


def has_header(text: str, language: str) -> bool:
    """Whether ``text`` starts with the notebook header of ``language``."""
    return text.split("\n", 1)[0].rstrip("\r").strip() == header(language)


def to_source(text: str, language: str) -> str:
    """The stored source of a notebook: the header, then the content (as Databricks does)."""
    if has_header(text, language):
        return text
    return f"{header(language)}\n{text}"


def cells(source: str, language: str) -> list[str]:
    """The cells of a notebook source, header removed."""
    body = source.split("\n", 1)[1] if has_header(source, language) else source
    pattern = re.compile(rf"^\s*{re.escape(separator(language))}\s*$", re.MULTILINE)
    return [part.strip("\n") for part in pattern.split(body)]


def jupyter_to_source(raw: bytes) -> tuple[str, str]:
    """(source, language) of a Jupyter notebook; ValueError when it is not one."""
    try:
        notebook = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a Jupyter notebook: {exc}") from exc
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("not a Jupyter notebook: no 'cells' list")
    metadata = notebook.get("metadata") or {}
    name = str(
        (metadata.get("kernelspec") or {}).get("language")
        or (metadata.get("language_info") or {}).get("name")
        or "python"
    ).lower()
    language = JUPYTER_LANGUAGE.get(name, "PYTHON")
    prefix = COMMENT[language]
    parts: list[str] = []
    for cell in notebook["cells"]:
        text = _joined(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            lines = ["%md", *text.split("\n")]
            text = "\n".join(f"{prefix} MAGIC {line}".rstrip() for line in lines)
        parts.append(text)
    body = f"\n\n{separator(language)}\n\n".join(parts)
    return f"{header(language)}\n{body}", language


def source_to_jupyter(source: str, language: str, name: str) -> bytes:
    """A notebook source as a Jupyter (nbformat 4) notebook."""
    prefix = f"{COMMENT[language]} MAGIC"
    out: list[dict[str, Any]] = []
    for text in cells(source, language):
        lines = text.split("\n")
        if lines and all(line.startswith(prefix) for line in lines if line):
            lines = [line[len(prefix) :].removeprefix(" ") for line in lines]
            if lines[0].strip() == "%md":
                out.append({"cell_type": "markdown", "metadata": {}, "source": _split(lines[1:])})
                continue
        out.append(
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": _split(lines),
            }
        )
    notebook = {
        "cells": out,
        "metadata": {
            "application/vnd.databricks.v1+notebook": {
                "language": language.lower(),
                "notebookName": name,
            },
            "language_info": {"name": language.lower()},
        },
        "nbformat": 4,
        "nbformat_minor": 0,
    }
    return json.dumps(notebook, indent=1).encode()


def _joined(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _split(lines: list[str]) -> list[str]:
    """Jupyter's list-of-lines form: every line but the last keeps its newline."""
    return [line + "\n" for line in lines[:-1]] + lines[-1:] if lines else []
