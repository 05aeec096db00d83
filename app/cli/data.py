"""Data commands: `linli import`, `linli seed-demo`."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import inspect

from app.cli.preflight import check_database
from app.extensions import db
from app.handlers.demo import DemoError, seed_demo
from app.handlers.org.importing import KIND_LABELS, KINDS, ImportFileError, import_loaded, load_file

# Exit codes of `linli import`: 0 all rows imported, 1 some rows failed (the good ones
# were saved), 2 the file could not be used at all (nothing saved).
EXIT_ROW_ERRORS = 1
EXIT_FILE_ERROR = 2


def _require_schema() -> None:
    """One clear line when init-db has not been run (instead of "no such table")."""
    from flask import current_app


    check_database(current_app._get_current_object())
    if not inspect(db.engine).has_table("community"):
        raise click.ClickException("数据库还没有建表，请先运行 `linli init-db` / "
                                   "the database has no schema yet: run `linli init-db` first")


def _count_line(counts) -> str:
    return (f"新增 {counts.created}，更新 {counts.updated}，未变 {counts.unchanged}，出错 {counts.errors}"
            f"  (created {counts.created}, updated {counts.updated}, unchanged {counts.unchanged}, "
            f"errors {counts.errors})")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=True, path_type=Path))
@click.option("--kind", default=None, metavar="KIND",
              help="What a CSV file holds: streets, communities, grids, buildings, departments, staff, groups "
                   "(or 街道/社区/网格/楼栋/部门/工作人员/居民群). Default: from the file name. "
                   "For .xlsx: import only that sheet.")
@click.option("--dry-run", is_flag=True, help="Check every row and report, but save nothing.")
@with_appcontext
def import_command(file: Path, kind: str | None, dry_run: bool) -> None:
    """Import streets, communities, grids, buildings, departments, staff and groups from .xlsx or .csv.

    Rows are upserts by natural key (importing again updates, never duplicates). Bad rows are
    reported with sheet, row number and reason; good rows are saved. Exit code 0: all rows
    imported; 1: some rows failed; 2: the file could not be read (nothing saved).
    See docs/import-format.md.
    """

    ctx = click.get_current_context()
    try:
        loaded = load_file(file, kind=kind)  # the file first: its problems need no database
    except ImportFileError as exc:
        click.echo(f"linli: {exc}", err=True)
        ctx.exit(EXIT_FILE_ERROR)
    try:
        _require_schema()
    except click.ClickException as exc:
        exc.exit_code = EXIT_FILE_ERROR  # nothing was imported
        raise
    result = import_loaded(loaded, dry_run=dry_run)
    heading = f"导入 / import {result.file}"
    if dry_run:
        heading += "（试运行，没有保存任何数据 / dry run: nothing was saved）"
    click.echo(heading)
    for warning in result.warnings:
        click.echo(f"  注意 / note: {warning}")
    for name in KINDS:
        counts = result.counts.get(name)
        if counts is not None:
            click.echo(f"  {KIND_LABELS[name]} {name}: {_count_line(counts)}")
    if result.problems:
        saved = "" if dry_run else "，其余行已保存 / the other rows were saved"
        click.echo(f"{len(result.problems)} 行出错 / rows failed{saved}:", err=True)
        for problem in result.problems:
            click.echo(f"  {problem}", err=True)
        ctx.exit(EXIT_ROW_ERRORS)
    click.echo("全部导入成功 / all rows imported" if not dry_run else "全部行检查通过 / every row is valid")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create (or update) the demo community 富强新村社区: grids, buildings, staff, roster, groups, residents."""

    _require_schema()
    try:
        summary = seed_demo()
    except DemoError as exc:
        raise click.ClickException(str(exc)) from None
    for line in summary.lines():
        click.echo(line)


COMMANDS = [import_command, seed_demo_command]
