"""``dbx-devkit skills list`` and ``dbx-devkit skills install``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.skills import SkillError, discover_skills


def add_skills_parser(sub: Any) -> None:
    """Add the ``skills`` command (``list``, ``install``) to the CLI's subparsers."""
    skills = sub.add_parser("skills", help="list or install the Claude Code skills")
    actions = skills.add_subparsers(dest="skills_command", required=True)
    listing = actions.add_parser("list", help="list the skills with their files")
    listing.set_defaults(func=cmd_skills_list)
    install = actions.add_parser(
        "install", help="copy skills into .claude/skills (keeps local edits)"
    )
    where = install.add_mutually_exclusive_group()
    where.add_argument("--project", action="store_true", help="into ./.claude/skills (the default)")
    where.add_argument("--user", action="store_true", help="into ~/.claude/skills")
    install.add_argument("--force", action="store_true", help="overwrite locally edited files")
    install.add_argument("names", nargs="*", help="skills to install (default: all)")
    install.set_defaults(func=cmd_skills_install)


def cmd_skills_list(args: argparse.Namespace) -> int:
    """Print every skill: name, description and files."""
    errors: list[SkillError] = []
    skills = discover_skills(errors=errors)
    for skill in skills:
        print(f"{skill.name}: {skill.description}")
        print(f"  files: {', '.join(skill.files())}")
    print(f"({len(skills)} skills)", file=sys.stderr)
    for error in errors:
        print(f"dbx-devkit: skipped a malformed skill: {error}", file=sys.stderr)
    return 1 if errors else 0


def cmd_skills_install(args: argparse.Namespace) -> int:
    """Install the named skills (or all) for the project or the user."""
    from server.skills_install import install_skills, skills_folder

    try:
        skills = discover_skills()
    except SkillError as exc:
        print(f"dbx-devkit: {exc}", file=sys.stderr)
        return 1
    if not skills:
        print("dbx-devkit: no skills found in this installation.", file=sys.stderr)
        return 1
    known = {skill.name: skill for skill in skills}
    unknown = [name for name in args.names if name not in known]
    if unknown:
        print(
            f"dbx-devkit: unknown skill(s) {', '.join(unknown)}; "
            f"valid names: {', '.join(sorted(known))}",
            file=sys.stderr,
        )
        return 2
    chosen = [known[name] for name in dict.fromkeys(args.names)] if args.names else skills
    report = install_skills(chosen, skills_folder(user=args.user), force=args.force)
    print(f"installed {len(chosen)} skill(s): {', '.join(s.name for s in chosen)}")
    print("\n".join(report.lines()))
    return 0
