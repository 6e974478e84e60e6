"""Reading the tables ``slo-agent report`` prints (Rich's box drawing) back into cells."""

from __future__ import annotations


def table_rows(text: str, title: str) -> list[list[str]]:
    """The cells of the body rows of the first table titled ``title`` in ``text``."""
    table = text.split(title, 1)[1].split("└", 1)[0]
    body = table.split("┡", 1)[1].splitlines()[1:]
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in body]
