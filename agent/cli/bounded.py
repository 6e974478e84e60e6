"""Tables of ``slo-agent report`` that can grow with the specs: at most :data:`MAX_ROWS` rows,
then one line saying how many more there are and where to find them."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, RenderableType
from rich.table import Table

MAX_ROWS = 10  # rows per table; --json lists every one


def print_bounded(
    console: Console, table: Table, rows: Sequence[Sequence[RenderableType]], what: str
) -> None:
    """Print ``table`` with the first :data:`MAX_ROWS` of ``rows``, then ``and K more
    <what>`` when some were left out; nothing at all when ``rows`` is empty."""
    if not rows:
        return
    for row in rows[:MAX_ROWS]:
        table.add_row(*row)
    console.print(table)
    more = len(rows) - MAX_ROWS
    if more > 0:
        console.print(f"and {more} more {what} (report --json lists every one)", markup=False)
