"""Regenerate the initial migration from the models (`make migration`).

Until the first production release the schema lives in one initial
revision; after it, use `alembic revision --autogenerate` for new revisions.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from app import create_app
from app.db_setup import MIGRATIONS_DIR, alembic_config


def main() -> None:
    initial = MIGRATIONS_DIR / "versions" / "0001_initial_schema.py"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app("development", overrides={"DATABASE_URL": f"sqlite:///{Path(tmp) / 'gen.db'}",
                                                   "INSTANCE_PATH": tmp})
        if initial.exists():
            initial.unlink()
        command.revision(alembic_config(app), message="initial schema", autogenerate=True, rev_id="0001")
    print(f"regenerated {initial}")


if __name__ == "__main__":
    main()
