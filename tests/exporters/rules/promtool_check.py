"""``promtool check rules`` on generated rule files (plain, or a PrometheusRule's groups)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.support.promtool import promtool


def check_rules(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), "check", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def operator_groups_file(operator_text: str, directory: Path) -> Path:
    """The ``spec.groups`` of a PrometheusRule written as a plain rule file in ``directory``."""
    document = yaml.safe_load(operator_text)
    path = directory / "operator-groups.yaml"
    path.write_text(yaml.safe_dump({"groups": document["spec"]["groups"]}, sort_keys=False))
    return path


def assert_valid(path: Path) -> int:
    """Fail unless promtool accepts the rule file; the number of rules it found."""
    done = check_rules(path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout, done.stdout
    return int(done.stdout.split("SUCCESS: ")[1].split()[0])
