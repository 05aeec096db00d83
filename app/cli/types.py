"""Click parameter types the commands share."""
from __future__ import annotations

import click

# A row id: a positive integer within the database's 64-bit integers (a larger one is refused by
# click in one line instead of overflowing the driver in a traceback).
ID = click.IntRange(1, 2**63 - 1)
