"""``slo-agent dashboards -o DIR``: write the Grafana dashboards, one JSON file each."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from agent.errors import UserError
from exporters.grafana import dashboards as all_dashboards
from exporters.grafana import render


def dashboards(out_dir: Path, out: TextIO) -> int:
    """Write every dashboard to ``out_dir`` (created if missing), list the files on ``out``;
    exit code 0. Raises ``UserError`` when the directory or a file cannot be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{out_dir}: cannot create the directory: {error.strerror}") from None
    for name, board in all_dashboards().items():
        path = out_dir / name
        try:
            path.write_text(render(board), encoding="utf-8")
        except OSError as error:
            raise UserError(f"{path}: cannot write: {error.strerror}") from None
        out.write(f"{path}\n")
    return 0
