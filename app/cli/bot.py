"""`linli bot classify` and `linli bot eval`: the bot's understanding from the command line.

Both run without a database or Redis: the bot is pure, and the sample vocabulary in
app/bot/data/vocabulary.yaml stands in for the catalogue and the event list.
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

CHAT_TYPES = click.Choice(["group", "private"])


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.ClickException(f"unknown time zone {tz!r} (e.g. Asia/Shanghai)") from exc


def _parse_time(raw: str, zone: ZoneInfo) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _now_option(raw: str | None, zone: ZoneInfo) -> datetime:
    if raw is None:
        return datetime.fromtimestamp(time.time(), tz=timezone.utc)
    value = _parse_time(raw, zone)
    if value is None:
        raise click.ClickException(f"--now {raw!r} is not an ISO date-time, e.g. 2026-11-17T09:30")
    return value


def _bot(cache_dir: str | None):
    from app.bot import Bot, BotDataError

    try:
        return Bot(cache_dir=cache_dir)
    except BotDataError as exc:
        raise click.ClickException(f"bot data: {exc}") from exc


@click.group("bot")
def bot_group() -> None:
    """The chatbot's understanding (intents, categories, slots)."""


@bot_group.command("classify")
@click.option("--chat-type", type=CHAT_TYPES, default="group", show_default=True,
              help="Understand the lines as group messages or as 1:1 chat messages.")
@click.option("--mentioned", is_flag=True, help="Treat every line as @-mentioning the bot.")
@click.option("--tz", default="Asia/Shanghai", show_default=True, help="Time zone for dates and times.")
@click.option("--now", "now_raw", default=None, help="Message time for lines without one (ISO). Default: now.")
@click.option("--cache-dir", default=None, help="Folder for jieba's dictionary cache. Default: the temp folder.")
def classify(chat_type: str, mentioned: bool, tz: str, now_raw: str | None, cache_dir: str | None) -> None:
    """Read messages from stdin, one per line ("ISO-time<TAB>text" or just text); print one JSON object each."""
    zone = _zone(tz)
    default_now = _now_option(now_raw, zone)
    bot = _bot(cache_dir)
    vocab = bot.default_vocabulary
    stdin = click.get_text_stream("stdin", encoding="utf-8", errors="replace")
    out = click.get_text_stream("stdout", encoding="utf-8")
    for line in stdin:
        line = line.rstrip("\r\n")
        now, text = default_now, line
        if "\t" in line:
            head, rest = line.split("\t", 1)
            when = _parse_time(head, zone) if head.strip() else None
            if when is not None:
                now, text = when, rest
        u = bot.understand(text, now=now, tz=tz, chat_type=chat_type, mentioned=mentioned, vocab=vocab)
        out.write(json.dumps(u.to_dict(), ensure_ascii=False) + "\n")
        out.flush()


@bot_group.command("eval")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--chat-type", type=CHAT_TYPES, default="group", show_default=True)
@click.option("--mentioned", is_flag=True)
@click.option("--now", "now_raw", default="2026-11-17T09:30", show_default=True,
              help="Message time for every line (dates in slots do not affect the scores).")
@click.option("--errors", is_flag=True, help="Also list every misclassified message (the missed replies are always "
              "listed).")
@click.option("--min-accuracy", type=float, default=None, help="Exit with an error below this intent accuracy.")
@click.option("--min-macro-f1", type=float, default=None, help="Exit with an error below this intent macro-F1.")
@click.option("--cache-dir", default=None)
def evaluate_file(path: str, chat_type: str, mentioned: bool, now_raw: str, errors: bool,
                  min_accuracy: float | None, min_macro_f1: float | None, cache_dir: str | None) -> None:
    """Score the bot on a labelled TSV file: text<TAB>intent<TAB>category[<TAB>needs_reply]."""
    from app.bot.evaluation import LabelError, evaluate, read_file, report

    try:
        examples = read_file(path)
    except FileNotFoundError as exc:
        raise click.ClickException(f"{path}: no such file") from exc
    except LabelError as exc:
        raise click.ClickException(str(exc)) from exc
    if not examples:
        raise click.ClickException(f"{path}: no labelled lines")
    now = _now_option(now_raw, ZoneInfo("Asia/Shanghai"))
    result = evaluate(_bot(cache_dir), examples, now, chat_type=chat_type, mentioned=mentioned)
    for line in report(result):
        click.echo(line)
    missed = result.missed_replies
    click.echo("")
    if missed:
        click.echo(f"missed replies: {len(missed)} line(s) where a person had to reply and the bot did not "
                   f"start the clock (line: text | expected -> predicted)")
        for miss in missed:
            click.echo(_miss_line(miss))
    else:
        click.echo("missed replies: none")
    if errors and result.errors:
        click.echo("")
        click.echo("errors (line: text | expected -> predicted)")
        for miss in result.errors:
            click.echo(_miss_line(miss))
    if min_accuracy is not None and result.accuracy < min_accuracy:
        raise click.ClickException(f"intent accuracy {result.accuracy:.3f} is below {min_accuracy}")
    if min_macro_f1 is not None and result.macro_f1 < min_macro_f1:
        raise click.ClickException(f"intent macro-F1 {result.macro_f1:.3f} is below {min_macro_f1}")


def _miss_line(miss) -> str:
    ex = miss.example
    expected = f"{ex.intent}/{ex.category or '-'}/{'' if ex.needs_reply is None else int(ex.needs_reply)}"
    got = f"{miss.intent}/{miss.category or '-'}/{int(miss.needs_reply)}"
    flag = " (possible report)" if miss.maybe_report else ""
    return f"{ex.line}: {ex.text} | {expected} -> {got} ({miss.confidence:.2f}){flag}"


COMMANDS = [bot_group]
