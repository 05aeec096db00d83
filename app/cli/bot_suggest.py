"""`linli bot suggest`: the staff's corrections of the bot's categories, and the words that would
have caught them — the vocabulary's to-do list from real use (app/bot/data/categories.yaml).

It reads the "reclassified" events of requests the bot classified (chat, or a form without a
category); the command joins the `linli bot` group defined in app/cli/bot.py.
"""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli.bot import bot_group
from app.cli.sla import parse_moment
from app.handlers.requests.classify import bot_corrections
from app.handlers.sla.roster import RosterError, find_community
from app.models.requests import CATEGORY_LABELS


@bot_group.command("suggest")
@click.option("--community", default=None, help="Only this community's requests (its name).")
@click.option("--since", default=None, help="Only requests filed from this date (YYYY-MM-DD).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="How many corrections to list.")
@with_appcontext
def suggest(community: str | None, since: str | None, limit: int) -> None:
    """The most frequent corrections (bot category -> staff category) and candidate words."""
    community_id = None
    if community is not None:
        try:
            community_id = find_community(community).id
        except RosterError as exc:
            raise click.ClickException(str(exc)) from exc
    corrections = bot_corrections(community_id=community_id, since=parse_moment(since, "--since"))
    if not corrections:
        click.echo("no corrections of the bot's categories yet")
        return
    for c in corrections[:limit]:
        click.echo(f"{c.count:>4}  {c.bot_category} ({CATEGORY_LABELS.get(c.bot_category, '?')}) -> "
                   f"{c.staff_category} ({CATEGORY_LABELS.get(c.staff_category, '?')})")
        words = ", ".join(f"{w} ×{n}" for w, n in c.words) or "(no word common to these texts)"
        click.echo(f"      words for {c.staff_category}: {words}")
        click.echo(f"      e.g. {c.texts[0][:60]}")


# Attached to `linli bot` above; nothing of its own to register.
COMMANDS: list = []
