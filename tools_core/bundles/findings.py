"""Findings of a bundle validation and the result that lists them compactly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from tools_core.results import Result

Severity = Literal["error", "warning", "info"]
MAX_FINDINGS = 50
_ORDER = {"error": 0, "warning": 1, "info": 2}


class Finding(Result):
    """One problem, with the file and line where it is."""

    severity: Severity
    file: str
    line: int
    path: str = ""
    message: str

    def to_text(self) -> str:
        where = f" [{self.path}]" if self.path else ""
        return f"{self.file}:{self.line}: {self.severity}: {self.message}{where}"


@dataclass
class Findings:
    """Collects findings once each (a problem seen in several targets is one finding)."""

    items: dict[tuple[str, int, str, str, str], Finding] = field(default_factory=dict)

    def add(self, severity: Severity, file: str, line: int, path: str, message: str) -> None:
        """Record a finding unless the same one is already known."""
        key = (file, line, severity, path, message)
        if key not in self.items:
            self.items[key] = Finding(
                severity=severity, file=file, line=line, path=path, message=message
            )

    def error(self, file: str, line: int, path: str, message: str) -> None:
        self.add("error", file, line, path, message)

    def warning(self, file: str, line: int, path: str, message: str) -> None:
        self.add("warning", file, line, path, message)

    def info(self, file: str, line: int, path: str, message: str) -> None:
        self.add("info", file, line, path, message)

    def sorted(self) -> list[Finding]:
        """Findings by file, then line, errors first on a line."""
        return sorted(
            self.items.values(), key=lambda f: (f.file, f.line, _ORDER[f.severity], f.message)
        )


class BundleValidation(Result):
    """bundle_validate's answer: counts and the findings (capped)."""

    bundle: str = ""
    root: str
    targets: list[str] = Field(default_factory=list)
    files: int = 0
    errors: int = 0
    warnings: int = 0
    infos: int = 0
    findings: list[Finding] = Field(default_factory=list)
    more: int = 0

    @property
    def ok(self) -> bool:
        """No errors (warnings and infos do not block a deploy)."""
        return self.errors == 0

    def to_text(self) -> str:
        lines = [f.to_text() for f in self.findings]
        if self.more:
            lines.append(f"... {self.more} more findings (fix the errors above and validate again)")
        targets = ", ".join(self.targets) or "(none)"
        name = self.bundle or "?"
        summary = (
            f"bundle {name}: {self.errors} errors, {self.warnings} warnings, {self.infos} infos "
            f"in {self.files} files; targets: {targets}"
        )
        if self.errors == 0:
            summary += "; valid"
        return "\n".join([*lines, summary])

    @classmethod
    def build(
        cls, bundle: str, root: str, targets: list[str], files: int, found: Findings
    ) -> BundleValidation:
        """The result from collected findings, capped at MAX_FINDINGS (errors first)."""
        every = found.sorted()
        by_severity = {s: sum(1 for f in every if f.severity == s) for s in _ORDER}
        kept = sorted(every, key=lambda f: _ORDER[f.severity])[:MAX_FINDINGS]
        kept.sort(key=lambda f: (f.file, f.line, _ORDER[f.severity], f.message))
        return cls(
            bundle=bundle,
            root=root,
            targets=targets,
            files=files,
            errors=by_severity["error"],
            warnings=by_severity["warning"],
            infos=by_severity["info"],
            findings=kept,
            more=len(every) - len(kept),
        )
