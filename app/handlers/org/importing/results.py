"""Errors and results of an import: per-row problems in Chinese, counts per kind."""
from __future__ import annotations

from dataclasses import dataclass, field

# ---- errors and results ---------------------------------------------------------------------------

class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing is written). One line for the operator."""


class RowError(Exception):
    """A row that cannot be imported; the message is the reason in Chinese."""


@dataclass
class RowProblem:
    sheet: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"[{self.sheet}] 第{self.row}行：{self.reason}"


@dataclass
class KindCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "errors": self.errors}


@dataclass
class ImportResult:
    file: str
    dry_run: bool
    counts: dict[str, KindCounts] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"
