"""Data commands: `linli import`, `linli seed-demo`."""
from __future__ import annotations

COMMANDS: list = []
