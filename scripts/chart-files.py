"""Generate the files the Helm chart carries, since helm can neither run slo-agent nor read
outside the chart's directory:

- ``helm/slo-agent/files/prometheusrule.yaml``: ``slo-agent rules --format operator`` for the
  chart's default specs (``files/specs/*.yaml``), and ``prometheusrule.specs-sha256``, the
  digest of those specs that the chart compares the installed specs with;
- ``helm/slo-agent/files/dashboards/*.json``: copies of ``dashboards/*.json``.

Usage: ``.venv/bin/python scripts/chart-files.py`` writes them; ``--check`` only reports (exit 1)
which of them are stale. ``make chart-files`` runs the first.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from agent.cli.rules import rules
from agent.errors import UserError
from exporters.prometheus.rules import RuleFormat

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "helm" / "slo-agent"
RULES_FILE = "prometheusrule.yaml"
DIGEST_FILE = "prometheusrule.specs-sha256"


def default_specs(chart: Path) -> dict[str, str]:
    """The chart's example specs, file name -> text (what it installs when ``specs`` is empty)."""
    return {
        path.name: path.read_text() for path in sorted((chart / "files" / "specs").glob("*.yaml"))
    }


def specs_digest(specs: Mapping[str, str]) -> str:
    """The chart's ``slo-agent.specsDigest``: name NUL text, NUL-joined, names sorted."""
    joined = "\x00".join(f"{name}\x00{specs[name]}" for name in sorted(specs))
    return hashlib.sha256(joined.encode()).hexdigest()


def operator_rules(specs: Mapping[str, str]) -> str:
    with tempfile.TemporaryDirectory() as scratch:
        for name, text in specs.items():
            (Path(scratch) / name).write_text(text)
        out = io.StringIO()
        rules([scratch], {}, RuleFormat.OPERATOR, out)
        return out.getvalue()


def wanted_files(root: Path, chart: Path) -> dict[Path, bytes]:
    """Every generated file of the chart (path -> content)."""
    specs = default_specs(chart)
    files = {
        chart / "files" / RULES_FILE: operator_rules(specs).encode(),
        chart / "files" / DIGEST_FILE: (specs_digest(specs) + "\n").encode(),
    }
    for dashboard in sorted((root / "dashboards").glob("*.json")):
        files[chart / "files" / "dashboards" / dashboard.name] = dashboard.read_bytes()
    return files


def stale_files(root: Path, chart: Path) -> list[Path]:
    """Generated files that are missing, differ, or should no longer be there."""
    wanted = wanted_files(root, chart)
    stale = [
        path for path, data in wanted.items() if not path.is_file() or path.read_bytes() != data
    ]
    stale += [
        path
        for path in sorted((chart / "files" / "dashboards").glob("*.json"))
        if path not in wanted
    ]
    return stale


def write_files(root: Path, chart: Path) -> None:
    wanted = wanted_files(root, chart)
    for path in sorted((chart / "files" / "dashboards").glob("*.json")):
        if path not in wanted:
            path.unlink()
    for path, data in wanted.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    args = parser.parse_args(argv)
    try:
        return run(check=args.check)
    except UserError as error:  # the chart's default specs are invalid
        print(f"helm/slo-agent/files/specs: {error}", file=sys.stderr)
        return 1


def run(*, check: bool) -> int:
    if check:
        stale = stale_files(ROOT, CHART)
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        if stale:
            print("run: make chart-files", file=sys.stderr)
        return 1 if stale else 0
    write_files(ROOT, CHART)
    return 0


if __name__ == "__main__":
    sys.exit(main())
