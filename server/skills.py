"""The skills (``skills/<name>/SKILL.md`` + reference files) and the Databricks guides
(``docs/databricks/*.md``): found on disk, served over MCP, installed for Claude Code.

Start-up cost matters (the server must answer tools/list fast): discovery only lists the
folders and reads each SKILL.md's front matter with a tiny reader; YAML is imported only
when the tiny reader cannot handle a front matter; resource files are read on request.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server import MCPServer

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
# The repository's folders first (a checkout or an editable install), then the copies the
# wheel carries (pyproject.toml force-includes them into the package).
SKILL_ROOTS = (REPO_DIR / "skills", PACKAGE_DIR / "skills_data")
GUIDE_ROOTS = (REPO_DIR / "docs" / "databricks", PACKAGE_DIR / "docs_data")
FRONT_MATTER_KEYS = ("name", "description")
SKILL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
# `key: value` on one line, the value plain (no quotes, block scalars, flow collections,
# anchors, tags, comments or nested mappings): anything else goes to the YAML parser.
SIMPLE_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):[ \t]+([^\"'>|\[{&*!%@`#\s].*)$")


class SkillError(ValueError):
    """A skill that cannot be served: the message names the file and what is wrong."""


@dataclass(frozen=True)
class Skill:
    """One skill folder: its front matter and where its files are."""

    name: str
    description: str
    path: Path

    @property
    def skill_md(self) -> Path:
        """The skill's SKILL.md."""
        return self.path / "SKILL.md"

    def files(self) -> list[str]:
        """The skill's files as POSIX paths relative to its folder, SKILL.md first."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.path):
            # Hidden and cache folders are not part of a skill.
            dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
            for filename in filenames:
                if filename.startswith("."):
                    continue
                full = Path(dirpath) / filename
                found.append(full.relative_to(self.path).as_posix())
        return sorted(found, key=lambda f: (f != "SKILL.md", f))

    def body(self) -> str:
        """SKILL.md without its front matter."""
        return split_front_matter(self.skill_md.read_text(encoding="utf-8"), self.skill_md)[1]

    def uri(self, file: str) -> str:
        """The MCP resource URI of one of the skill's files."""
        return f"skill://{self.name}/{file}"


def split_front_matter(text: str, path: Path) -> tuple[str, str]:
    """(front matter, body) of a markdown file that starts with a ``---`` block."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise SkillError(f"{path}: no front matter (the file must start with a '---' line)")
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]).lstrip("\n")
    raise SkillError(f"{path}: front matter is not closed by a '---' line")


def parse_front_matter(text: str, path: Path) -> dict[str, Any]:
    """The front matter's mapping: plain ``key: value`` lines are read directly (fast);
    anything fancier (quotes, folded text) is parsed by YAML."""
    header, _ = split_front_matter(text, path)
    data: dict[str, Any] = {}
    for line in header.splitlines():
        if not line.strip():
            continue
        match = SIMPLE_LINE.match(line)
        if match is None or " #" in match.group(2) or ": " in match.group(2):
            return _parse_yaml(header, path)
        data[match.group(1)] = match.group(2).rstrip()
    return data


def _parse_yaml(header: str, path: Path) -> dict[str, Any]:
    import yaml  # only here: importing it costs start-up time

    try:
        data = yaml.safe_load(header)
    except yaml.YAMLError as exc:
        raise SkillError(f"{path}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SkillError(f"{path}: front matter must be a mapping with name and description")
    return data


def load_skill(folder: Path) -> Skill:
    """The skill in ``folder``; a clear :class:`SkillError` naming the file when malformed."""
    skill_md = folder / "SKILL.md"
    try:
        text = skill_md.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillError(f"{skill_md}: cannot be read: {exc}") from exc
    data = parse_front_matter(text, skill_md)
    keys = sorted(data)
    if keys != sorted(FRONT_MATTER_KEYS):
        raise SkillError(
            f"{skill_md}: front matter must have exactly the keys name and description "
            f"(found: {', '.join(map(str, keys)) or 'none'})"
        )
    name, description = data["name"], data["description"]
    if not isinstance(name, str) or not SKILL_NAME.match(name):
        raise SkillError(
            f"{skill_md}: name {name!r} must be lowercase letters, digits and hyphens "
            "(at most 40 characters)"
        )
    if name != folder.name:
        raise SkillError(f"{skill_md}: name {name!r} differs from its folder {folder.name!r}")
    if not isinstance(description, str) or not description.strip():
        raise SkillError(f"{skill_md}: description must be a non-empty string")
    return Skill(name=name, description=" ".join(description.split()), path=folder)


def discover_skills(
    roots: tuple[Path, ...] | None = None, errors: list[SkillError] | None = None
) -> list[Skill]:
    """Every skill under ``roots`` (default: the repository's and the package's skills; a
    skill is a folder holding a SKILL.md), sorted by name; the first root holding a name wins.

    A malformed skill raises :class:`SkillError`, or is skipped and appended to ``errors``
    when a list is given (the server must start even if one skill is broken)."""
    skills: dict[str, Skill] = {}
    for root in SKILL_ROOTS if roots is None else roots:
        if not root.is_dir():
            continue
        for entry in sorted(os.scandir(root), key=lambda e: e.name):
            if not entry.is_dir() or not os.path.isfile(os.path.join(entry.path, "SKILL.md")):
                continue
            if entry.name in skills:
                continue
            try:
                skills[entry.name] = load_skill(Path(entry.path))
            except SkillError as exc:
                if errors is None:
                    raise
                errors.append(exc)
    return [skills[name] for name in sorted(skills)]


def discover_guides(roots: tuple[Path, ...] | None = None) -> list[Path]:
    """The Databricks guides (``docs/databricks/*.md``), sorted by file name."""
    guides: dict[str, Path] = {}
    for root in GUIDE_ROOTS if roots is None else roots:
        if root.is_dir():
            for path in root.glob("*.md"):
                guides.setdefault(path.name, path)
    return [guides[name] for name in sorted(guides)]


def prompt_text(skill: Skill) -> str:
    """What the skill's prompt returns: the SKILL.md body, then its files as resources."""
    uris = "\n".join(f"- {skill.uri(file)}" for file in skill.files())
    return f"{skill.body().rstrip()}\n\nFiles of this skill (MCP resources):\n{uris}\n"


def _mime_type(file: str) -> str:
    return "text/markdown" if file.endswith(".md") else "text/plain"


def register_knowledge(server: MCPServer) -> None:
    """Every skill as a prompt and its files as ``skill://`` resources; the guides as
    ``docs://databricks/`` resources. Nothing is read beyond the front matters."""
    from mcp.server.mcpserver.prompts.base import Prompt
    from mcp.server.mcpserver.resources.types import FileResource

    errors: list[SkillError] = []
    for skill in discover_skills(errors=errors):
        # Prompt built directly: from_function would inspect and wrap the function (slow).
        server.add_prompt(
            Prompt(
                name=skill.name,
                title=None,
                description=skill.description,
                arguments=[],
                context_kwarg=None,
                fn=_prompt_renderer(skill),
            )
        )
        for file in skill.files():
            server.add_resource(
                FileResource(
                    uri=skill.uri(file),
                    name=f"{skill.name}/{file}",
                    mime_type=_mime_type(file),
                    path=skill.path / file,
                )
            )
    for error in errors:
        # On stderr (stdout is the MCP channel); `dbx-devkit skills list` shows it too.
        logging.getLogger(__name__).warning("skill skipped: %s", error)
    for guide in discover_guides():
        server.add_resource(
            FileResource(
                uri=f"docs://databricks/{guide.name}",
                name=f"databricks/{guide.name}",
                mime_type="text/markdown",
                path=guide,
            )
        )


def _prompt_renderer(skill: Skill) -> Any:
    def render() -> str:
        return prompt_text(skill)

    return render
