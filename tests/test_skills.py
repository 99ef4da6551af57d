"""The skills and guides: well-formed, naming only real tools, installable for Claude Code
without losing local edits, and served over MCP as prompts and resources."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from server.skills import SkillError, discover_skills, load_skill
from server.skills_install import install_skills
from server.specs import all_specs
from tests.conftest import mcp_session, subprocess_env
from tests.test_cli import cli_command
from tools_core.backend import Backend

REPO = Path(__file__).resolve().parent.parent
TOOLS_DOC = REPO / "docs" / "tools.md"
# Read at import time: the autouse fixture clears DBX_DEVKIT_* before each test runs.
UPDATE_SNAPSHOT = os.environ.get("DBX_DEVKIT_UPDATE_SNAPSHOT") == "1"
SKILLS_DIR = REPO / "skills"
SKILL_FOLDERS = sorted(p.parent for p in SKILLS_DIR.glob("*/SKILL.md"))
DESCRIPTIONS_BUDGET = 4_000
DESCRIPTION_LIMIT = 220
TOOL_NAME = re.compile(
    r"^(workspace|uc|sql|jobs|bundle|mlflow|registry|vs|serving|pipelines|features|compute"
    r"|project|files|secrets)_[a-z0-9_]+$"
)
# Tools the skills and guides may name before they exist. This set MUST SHRINK TO EMPTY when
# issue 7 (pipelines, lineage, features, compute, warehouses) and the project tools land:
# delete each name as its tool is registered (the test below fails on a stale entry).
PLANNED: set[str] = set()
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def knowledge_files() -> list[Path]:
    """Every markdown file an agent reads: skills, docs (guides and product docs), CLAUDE.md."""
    files = sorted(SKILLS_DIR.rglob("*.md")) + sorted((REPO / "docs").rglob("*.md"))
    claude = REPO / "CLAUDE.md"
    return files + ([claude] if claude.exists() else [])


def inline_code(text: str) -> list[str]:
    """The inline-code spans of a markdown text, fenced blocks left out."""
    return INLINE_CODE.findall(FENCE.sub("", text))


# --- format -----------------------------------------------------------------------------


def test_there_are_skills_to_serve() -> None:
    assert SKILL_FOLDERS, "no skills/<name>/SKILL.md found"


@pytest.mark.parametrize("folder", SKILL_FOLDERS, ids=lambda p: p.name)
def test_every_skill_front_matter_parses_with_exactly_name_and_description(folder: Path) -> None:
    text = (folder / "SKILL.md").read_text()
    assert text.startswith("---\n"), f"{folder.name}/SKILL.md must start with front matter"
    header = text.split("---\n", 2)[1]
    data = yaml.safe_load(header)
    assert isinstance(data, dict) and sorted(data) == ["description", "name"], data
    assert data["name"] == folder.name
    assert data["name"].startswith("dbx-") and len(data["name"]) <= 40
    assert 0 < len(data["description"]) <= DESCRIPTION_LIMIT, data["description"]
    # The server's fast reader agrees with YAML.
    skill = load_skill(folder)
    assert (skill.name, skill.description) == (data["name"], " ".join(data["description"].split()))


def test_all_skill_descriptions_together_stay_under_4000_characters() -> None:
    total = sum(len(skill.description) for skill in discover_skills())
    assert total < DESCRIPTIONS_BUDGET, f"{total} characters of descriptions"


def test_every_tool_named_in_skills_and_docs_exists() -> None:
    registered = set(all_specs())
    unknown: dict[str, list[str]] = {}
    for path in knowledge_files():
        for span in inline_code(path.read_text()):
            name = span.strip()
            if TOOL_NAME.match(name) and name not in registered and name not in PLANNED:
                unknown.setdefault(name, []).append(str(path.relative_to(REPO)))
    assert unknown == {}, f"tools that do not exist (names are exact): {unknown}"


# A tool call written out in a skill or guide: `tool_name {"arg": ...}` on its own line.
TOOL_CALL = re.compile(r"^\s*([a-z]+_[a-z0-9_]+)[ \t]+(\{.*\})\s*(?:#.*)?$", re.MULTILINE)


@pytest.mark.anyio
async def test_every_tool_call_written_in_skills_and_docs_has_valid_arguments() -> None:
    from jsonschema import Draft202012Validator
    from mcp import Client

    from server.app import build_server
    from server.runtime import Runtime
    from server.settings import Settings

    config = Settings()
    async with Client(build_server(config, Runtime(config))) as client:
        schemas = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    problems, calls = [], 0
    for path in knowledge_files():
        for name, arguments in TOOL_CALL.findall(path.read_text()):
            if not TOOL_NAME.match(name):
                continue
            calls += 1
            where = f"{path.relative_to(REPO)}: {name}"
            if name not in schemas:
                problems.append(f"{where}: no such tool")
                continue
            try:
                given = json.loads(arguments)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: arguments are not JSON ({exc})")
                continue
            schema = {**schemas[name], "additionalProperties": False}
            errors = Draft202012Validator(schema).iter_errors(given)
            problems += [f"{where}: {error.message}" for error in errors]
    assert calls >= 20, f"only {calls} tool calls found: did the pattern break?"
    assert problems == [], "\n".join(problems)


def test_planned_tools_are_removed_from_the_list_once_registered() -> None:
    landed = sorted(PLANNED & set(all_specs()))
    assert landed == [], f"registered now: delete {landed} from PLANNED in tests/test_skills.py"


def test_every_relative_link_in_skills_resolves() -> None:
    broken = []
    for path in sorted(SKILLS_DIR.rglob("*.md")):
        for target in LINK.findall(FENCE.sub("", path.read_text())):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL or an anchor in the same file
            if not (path.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{path.relative_to(REPO)} -> {target}")
    assert broken == []


def test_a_malformed_skill_is_an_error_naming_its_file(tmp_path: Path) -> None:
    folder = tmp_path / "dbx-broken"
    folder.mkdir()
    (folder / "SKILL.md").write_text("---\nname: dbx-broken\nallowed-tools: all\n---\nbody\n")
    with pytest.raises(SkillError, match=r"dbx-broken/SKILL\.md: front matter must have"):
        load_skill(folder)
    (folder / "SKILL.md").write_text("---\nname: dbx-other\ndescription: x\n---\n")
    with pytest.raises(SkillError, match="differs from its folder"):
        discover_skills((tmp_path,))
    (folder / "SKILL.md").write_text('---\nname: "dbx-broken\ndescription: x\n---\n')
    with pytest.raises(SkillError, match=r"SKILL\.md: front matter is not valid YAML"):
        load_skill(folder)
    (folder / "SKILL.md").write_text("# no front matter\n")
    with pytest.raises(SkillError, match="no front matter"):
        load_skill(folder)


def test_quoted_and_folded_descriptions_are_read_like_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "dbx-fancy"
    folder.mkdir()
    (folder / "SKILL.md").write_text(
        "---\nname: dbx-fancy\ndescription: >-\n  Two lines: folded\n  into one.\n---\nbody\n"
    )
    assert load_skill(folder).description == "Two lines: folded into one."


# --- install ----------------------------------------------------------------------------


def run_cli(tmp_path: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        cwd=cwd,
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_skills_list_prints_every_skill_with_description_and_files(tmp_path: Path) -> None:
    done = run_cli(tmp_path, tmp_path, "skills", "list")
    assert done.returncode == 0, done.stderr
    for skill in discover_skills():
        assert f"{skill.name}: {skill.description}" in done.stdout
    assert "files: SKILL.md" in done.stdout


def test_install_project_writes_every_skill_and_keeps_a_local_edit_unless_forced(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    first = run_cli(tmp_path, project, "skills", "install", "--project")
    assert first.returncode == 0, first.stderr
    skills = discover_skills()
    root = project / ".claude" / "skills"
    for skill in skills:
        installed = root / skill.name / "SKILL.md"
        assert installed.read_text() == skill.skill_md.read_text()
        # Claude Code's format: the installed front matter is the skill's name and description.
        data = yaml.safe_load(installed.read_text().split("---\n", 2)[1])
        assert data == {"name": skill.name, "description": data["description"]}
        # Claude Code's limits: lowercase letters, digits and hyphens up to 64 characters,
        # equal to the folder; a description up to 1,024 characters without XML tags.
        assert (
            re.fullmatch(r"[a-z0-9-]{1,64}", data["name"]) and installed.parent.name == data["name"]
        )
        assert len(data["description"]) <= 1024 and not re.search(r"<[^>]+>", data["description"])

    edited = root / skills[0].name / "SKILL.md"
    edited.write_text(edited.read_text() + "\nMy team's own rule.\n")
    second = run_cli(tmp_path, project, "skills", "install", "--project")
    assert second.returncode == 0, second.stderr
    assert "My team's own rule." in edited.read_text()
    assert f"kept (edited locally; --force to overwrite): {skills[0].name}/SKILL.md" in (
        second.stdout
    )

    forced = run_cli(tmp_path, project, "skills", "install", "--project", "--force")
    assert forced.returncode == 0, forced.stderr
    assert edited.read_text() == skills[0].skill_md.read_text()
    assert f"overwritten (--force): {skills[0].name}/SKILL.md" in forced.stdout


def test_install_user_and_unknown_names(tmp_path: Path) -> None:
    name = discover_skills()[0].name
    done = run_cli(tmp_path, tmp_path, "skills", "install", "--user", name)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "home" / ".claude" / "skills" / name / "SKILL.md").is_file()
    assert not (tmp_path / ".claude").exists()

    wrong = run_cli(tmp_path, tmp_path, "skills", "install", "dbx-no-such-skill")
    assert wrong.returncode == 2
    assert "unknown skill(s) dbx-no-such-skill" in wrong.stderr
    assert name in wrong.stderr  # the valid names are listed


def test_reinstall_updates_our_own_old_copies_and_keeps_edited_ones(tmp_path: Path) -> None:
    source = tmp_path / "source" / "dbx-demo"
    source.mkdir(parents=True)
    (source / "SKILL.md").write_text("---\nname: dbx-demo\ndescription: Demo.\n---\nv1\n")
    (source / "reference.md").write_text("ref v1\n")
    target = tmp_path / "installed"
    install_skills(discover_skills((source.parent,)), target)

    (source / "SKILL.md").write_text("---\nname: dbx-demo\ndescription: Demo.\n---\nv2\n")
    (source / "reference.md").write_text("ref v2\n")
    (target / "dbx-demo" / "reference.md").write_text("ref v1, edited by me\n")
    report = install_skills(discover_skills((source.parent,)), target)
    assert report.updated == ["dbx-demo/SKILL.md"]
    assert report.kept == ["dbx-demo/reference.md"]
    assert (target / "dbx-demo" / "SKILL.md").read_text().endswith("v2\n")
    assert (target / "dbx-demo" / "reference.md").read_text() == "ref v1, edited by me\n"
    # Still recognised as edited on the next run (its hash was never recorded as ours).
    assert install_skills(discover_skills((source.parent,)), target).kept == [
        "dbx-demo/reference.md"
    ]


# --- MCP --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_skills_are_prompts_and_their_files_resources_even_read_only(
    backend: Backend,
) -> None:
    skills = discover_skills()
    async with mcp_session(backend, read_only=True, toolsets=("sql",)) as client:
        # The first thing an agent reads points at the skills, by a name that exists.
        assert "dbx-local-dev-loop" in (client.instructions or "")
        prompts = {p.name: p for p in (await client.list_prompts()).prompts}
        assert "dbx-local-dev-loop" in prompts
        for skill in skills:
            assert prompts[skill.name].description == skill.description

        skill = skills[0]
        got = await client.get_prompt(skill.name)
        text = "\n".join(getattr(m.content, "text", "") for m in got.messages)
        assert skill.body().strip() in text
        assert f"skill://{skill.name}/SKILL.md" in text

        resources = {str(r.uri): r for r in (await client.list_resources()).resources}
        for each in skills:
            for file in each.files():
                assert f"skill://{each.name}/{file}" in resources
        resource = resources[f"skill://{skill.name}/SKILL.md"]
        assert resource.mime_type == "text/markdown"
        read = await client.read_resource(f"skill://{skill.name}/SKILL.md")
        assert getattr(read.contents[0], "text", "") == skill.skill_md.read_text()

        for guide in sorted((REPO / "docs" / "databricks").glob("*.md")):
            uri = f"docs://databricks/{guide.name}"
            assert uri in resources
            read = await client.read_resource(uri)
            assert getattr(read.contents[0], "text", "") == guide.read_text()


# --- product docs -----------------------------------------------------------------------


def test_the_tools_reference_matches_the_registry() -> None:
    from server.reference import tools_reference

    expected = tools_reference()
    if UPDATE_SNAPSHOT:
        TOOLS_DOC.write_text(expected)
        return
    assert TOOLS_DOC.exists() and TOOLS_DOC.read_text() == expected, (
        "docs/tools.md is out of date: run DBX_DEVKIT_UPDATE_SNAPSHOT=1 pytest "
        "tests/test_skills.py (or `dbx-devkit tools --reference > docs/tools.md`) and commit it."
    )
