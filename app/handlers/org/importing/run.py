"""Running an import: every row in a savepoint inside one transaction; dry runs roll back."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy.exc import IntegrityError

from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.audit import record
from app.handlers.org.importing.columns import KINDS
from app.handlers.org.importing.reading import Sheet, cell_value, read_file
from app.handlers.org.importing.results import ImportResult, KindCounts, RowError, RowProblem
from app.handlers.org.importing.rows import UPSERTS

# ---- the import -------------------------------------------------------------------------------------

def _integrity_reason(exc: IntegrityError) -> str:
    message = str(exc.orig).lower()
    if "phone" in message:
        return "手机号与已有记录重复"
    if "wework_userid" in message:
        return "企业微信账号与已有记录重复"
    if "code" in message:
        return "编码与已有记录重复"
    return "与已有数据冲突（唯一值重复）"


def import_sheets(sheets: Iterable[Sheet], result: ImportResult) -> None:
    """Upsert every row, each in a savepoint; the caller commits or rolls back."""
    ordered = sorted(sheets, key=lambda s: KINDS.index(s.kind))
    # A savepoint issued first would become SQLite's outer transaction (its RELEASE would commit).
    begin_write_transaction(db.session)
    for sheet in ordered:
        counts = result.counts.setdefault(sheet.kind, KindCounts())
        upsert = UPSERTS[sheet.kind]
        for row_number, values in sheet.rows:
            try:
                with db.session.begin_nested():
                    outcome, _row = upsert(values)
                    db.session.flush()
            except RowError as exc:
                counts.errors += 1
                result.problems.append(RowProblem(sheet.title, row_number, str(exc)))
            except IntegrityError as exc:
                counts.errors += 1
                result.problems.append(RowProblem(sheet.title, row_number, _integrity_reason(exc)))
            else:
                setattr(counts, outcome, getattr(counts, outcome) + 1)


@dataclass
class LoadedFile:
    """A file read and checked for structure, ready to import."""

    name: str
    sheets: list[Sheet]
    warnings: list[str]


def load_file(path: str | Path, *, kind: str | None = None) -> LoadedFile:
    """Read an import file (no database needed). Raises ImportFileError when it is unusable."""
    path = Path(path)
    warnings: list[str] = []
    return LoadedFile(path.name, read_file(path, kind, warnings), warnings)


def import_loaded(loaded: LoadedFile, *, dry_run: bool = False) -> ImportResult:
    """Upsert a loaded file: good rows saved in one transaction (unless ``dry_run``), bad rows reported."""

    result = ImportResult(file=loaded.name, dry_run=dry_run, warnings=list(loaded.warnings))
    try:
        import_sheets(loaded.sheets, result)
        if dry_run:
            db.session.rollback()
            return result
        record("operator", None, "data.imported", detail={
            "file": loaded.name, "counts": {k: c.as_dict() for k, c in result.counts.items()},
            "errors": len(result.problems)})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


def import_file(path: str | Path, *, kind: str | None = None, dry_run: bool = False) -> ImportResult:
    """Import a file. Raises ImportFileError (nothing written) when the file as a whole is unusable."""
    return import_loaded(load_file(path, kind=kind), dry_run=dry_run)


def rows_from_records(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Records with canonical keys as row values (numbers become text, as from a file)."""
    for record_ in records:
        yield {key: cell_value(value) for key, value in record_.items()}
