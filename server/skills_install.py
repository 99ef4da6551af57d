"""Install skills into Claude Code's skills folder without losing local edits.

A manifest (``.dbx-devkit.json`` in the skills folder) records the hash of every file we
wrote. On a re-install a file that still has the recorded hash is our own unedited copy
(updated freely); a file with another content was edited by someone (kept unless forced).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from server.skills import Skill

MANIFEST = ".dbx-devkit.json"


@dataclass
class InstallReport:
    """What an install did, file by file (paths relative to the skills folder)."""

    target: Path
    written: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A short human summary, the kept files named one by one."""
        out = [
            f"skills folder: {self.target}",
            f"new {len(self.written)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, overwritten {len(self.overwritten)}, "
            f"kept {len(self.kept)}",
        ]
        out += [f"kept (edited locally; --force to overwrite): {path}" for path in self.kept]
        out += [f"overwritten (--force): {path}" for path in self.overwritten]
        return out


def skills_folder(user: bool, cwd: Path | None = None) -> Path:
    """``~/.claude/skills`` (user) or ``<cwd>/.claude/skills`` (project)."""
    base = Path.home() if user else (cwd or Path.cwd())
    return base / ".claude" / "skills"


def digest(data: bytes) -> str:
    """The content hash recorded in the manifest."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _read_manifest(target: Path) -> dict[str, str]:
    path = target / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        # A damaged manifest only loses the "ours, unedited" knowledge: every differing
        # file is then treated as edited and kept, which is the safe side.
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def install_skills(skills: list[Skill], target: Path, force: bool = False) -> InstallReport:
    """Copy every file of ``skills`` into ``target/<name>/``; never overwrite a local
    edit unless ``force``."""
    report = InstallReport(target=target)
    manifest = _read_manifest(target)
    for skill in skills:
        for file in skill.files():
            relative = f"{skill.name}/{file}"
            new = (skill.path / file).read_bytes()
            dest = target / skill.name / file
            current = dest.read_bytes() if dest.is_file() else None
            if current == new:
                report.unchanged.append(relative)
            elif current is None:
                report.written.append(relative)
            elif force:
                report.overwritten.append(relative)
            elif manifest.get(relative) == digest(current):
                report.updated.append(relative)  # our own old copy, never edited
            else:
                report.kept.append(relative)
                continue
            if current != new:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(new)
            manifest[relative] = digest(new)
    target.mkdir(parents=True, exist_ok=True)
    (target / MANIFEST).write_text(
        json.dumps(
            {"installed_by": "dbx-devkit", "files": dict(sorted(manifest.items()))}, indent=1
        )
        + "\n",
        encoding="utf-8",
    )
    return report
