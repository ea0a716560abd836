"""What an import reports: counts, the first errors, what changed (pure: no Flask, no DB)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from outreach.registers.formats.base import Problem

MAX_ERRORS = 50
MAX_SAMPLE = 20


class ProblemLog:
    """The first ``MAX_ERRORS`` problems in full and a count of all of them."""

    def __init__(self, file: str, limit: int = MAX_ERRORS):
        self.file = file
        self.limit = limit
        self.items: list[dict[str, Any]] = []
        self.count = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.items) < self.limit:
            self.items.append(problem.to_dict(self.file))

    def __bool__(self) -> bool:
        return self.count > 0

    @property
    def more(self) -> int:
        return self.count - len(self.items)


@dataclass
class ImportReport:
    """The outcome of one import (registers, pupils or contacts), for the CLI, the web page and
    the batch row. ``status`` is ``completed``, ``failed`` or ``dry_run`` (validated, nothing
    written). ``errors`` holds the first 50; ``error_count`` counts them all."""

    kind: str
    file_name: str
    format: str
    status: str = "failed"
    batch_id: int | None = None
    dry_run: bool = False
    rows: int = 0  # records read (marks, or pupil/contact rows)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    not_taken: int = 0
    pupils_in_file: int = 0
    pupils_touched: int = 0  # pupils with an added or changed mark (or a changed record)
    pupils_created: int = 0  # CTF: enrolments the file created
    date_from: date | None = None
    date_to: date | None = None
    unknown_upns: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0
    warnings: list[dict[str, Any]] = field(default_factory=list)  # e.g. marks not taken yet
    warning_count: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)  # sample: what changed old -> new
    same_file_as: int | None = None  # an earlier completed batch with the same SHA-256

    @property
    def ok(self) -> bool:
        return self.status in ("completed", "dry_run")

    @property
    def no_changes(self) -> bool:
        return self.ok and self.added == 0 and self.changed == 0

    def summary(self) -> str:
        """One line a person reads first."""
        if not self.ok:
            more = f" (showing the first {len(self.errors)})" if self.error_count > len(self.errors) else ""
            return f"import failed: {self.error_count} error{'s' if self.error_count != 1 else ''}{more}; nothing was changed"
        counts = f"added {self.added}, changed {self.changed}, unchanged {self.unchanged}"
        if self.kind == "registers":
            counts += f", not taken {self.not_taken}"
        prefix = "dry run (nothing written): " if self.dry_run else ""
        tail = ""
        if self.no_changes:
            tail = " - no changes" + (f" (same file as import {self.same_file_as})" if self.same_file_as else "")
        return prefix + counts + tail

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("date_from", "date_to"):
            out[key] = out[key].isoformat() if out[key] else None
        out["ok"] = self.ok
        out["no_changes"] = self.no_changes
        out["summary"] = self.summary()
        return out
