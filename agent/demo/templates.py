"""The bundled demo specs: templates in ``agent/demo/specs/`` rendered into real spec files.

A template is a v1 spec file whose addresses are placeholders, filled in from the running
:class:`agent.demo.ecosystem.Ecosystem`:

- ``{{node}}``: the node's base URL, such as ``http://127.0.0.1:40123``;
- ``{{node_host}}`` and ``{{node_port}}``: its host and port, for TCP probes.

The rendered files are ordinary specs a user can read, validate and reuse.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import urlsplit

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_-]+)\s*\}\}")

HEADER = (
    "# slo-agent demo spec, rendered from the bundled template for this run's loopback\n"
    "# demo servers. Edit a copy freely: `slo-agent validate` checks it.\n"
)


def demo_templates() -> list[Traversable]:
    """The bundled template files, sorted by name."""
    folder = files("agent.demo").joinpath("specs")
    return sorted(
        (item for item in folder.iterdir() if item.name.endswith(".yaml")),
        key=lambda item: item.name,
    )


def render_template(text: str, urls: Mapping[str, str], ports: Mapping[str, int]) -> str:
    """``text`` with every placeholder replaced; ValueError names an unknown placeholder."""
    values: dict[str, str] = {}
    for node, url in urls.items():
        values[node] = url.rstrip("/")
        values[f"{node}_host"] = urlsplit(url).hostname or ""
    for node, port in ports.items():
        values[f"{node}_port"] = str(port)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            known = ", ".join(sorted(values)) or "none"
            raise ValueError(f"unknown placeholder {{{{{name}}}}} (known: {known})")
        return values[name]

    return _PLACEHOLDER.sub(fill, text)


def render_demo_specs(
    urls: Mapping[str, str], ports: Mapping[str, int], out_dir: Path
) -> list[Path]:
    """Write every bundled demo spec, filled in with ``urls`` and ``ports``, into ``out_dir``.

    Returns the written files, sorted. ``out_dir`` is created if needed; files of the same
    name are overwritten.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for template in demo_templates():
        try:
            text = render_template(template.read_text(encoding="utf-8"), urls, ports)
        except ValueError as error:
            raise ValueError(f"demo spec template {template.name}: {error}") from None
        target = out_dir / template.name
        target.write_text(HEADER + text, encoding="utf-8")
        written.append(target)
    return written
