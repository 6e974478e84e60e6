"""Small spec documents for loader tests, written as the user would write them."""

from __future__ import annotations

from pathlib import Path


def node_yaml(name: str, capability: str = "web", spec: str = "") -> str:
    """An operated Node document with one HTTP probe ``home``; ``spec`` adds lines to spec:."""
    return (
        "apiVersion: slo-agent/v1\n"
        "kind: Node\n"
        f"metadata: {{name: {name}}}\n"
        "spec:\n"
        "  mode: operated\n"
        "  owner: web-team\n"
        f"  capability: {capability}\n"
        "  probes:\n"
        "    - name: home\n"
        f"      http: {{url: 'https://{name}.example/'}}\n"
        f"{spec}"
    )


def write(directory: Path, name: str, *documents: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n".join(documents), encoding="utf-8")
    return path
