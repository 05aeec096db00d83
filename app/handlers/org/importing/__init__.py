"""Importing the organisation from the spreadsheets community offices keep (`linli import`).

A file is .xlsx (one sheet per kind) or .csv (one kind per file). Every data row
is an upsert by its natural key, so importing the same file again updates rows
and never duplicates them. The whole file is one transaction; each row runs in
a savepoint, so a bad row writes nothing, is reported with its sheet, row
number and a reason in Chinese, and the good rows are kept. The format is
documented in docs/import-format.md.

The row functions (``upsert_street`` ... ``upsert_group``) take the canonical
keys of the columns and are also used by the demo data (app/handlers/demo.py).
"""

from app.handlers.org.importing.columns import COLUMNS, KIND_LABELS, KINDS, Column
from app.handlers.org.importing.reading import Sheet, kind_from_stem, read_file, resolve_kind
from app.handlers.org.importing.results import (
    CREATED,
    UNCHANGED,
    UPDATED,
    ImportFileError,
    ImportResult,
    KindCounts,
    RowError,
    RowProblem,
)
from app.handlers.org.importing.rows import (
    UPSERTS,
    upsert_building,
    upsert_community,
    upsert_department,
    upsert_grid,
    upsert_group,
    upsert_staff,
    upsert_street,
)
from app.handlers.org.importing.run import (
    LoadedFile,
    import_file,
    import_loaded,
    import_sheets,
    load_file,
    rows_from_records,
)
