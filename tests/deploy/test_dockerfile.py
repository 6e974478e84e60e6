"""The Dockerfile's structure (no Docker engine here): two stages on a pinned slim Python, a
runtime stage that only copies the virtualenv, a fixed non-root user, the entrypoint and the
healthcheck, and a build context that holds what the build needs."""

from __future__ import annotations

import re

import yaml

from tests.deploy.chart import CHART, ROOT
from tests.deploy.dockerfile import Stage, env_of, stages

DOCKERFILE = ROOT / "Dockerfile"
PINNED_SLIM_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")
BUILD_TOOLS = re.compile(
    r"\b(apt-get|apt|apk|gcc|g\+\+|cc|make|build-essential|pip|uv|python\S* -m pip)\b"
)


def parsed() -> list[Stage]:
    return stages(DOCKERFILE.read_text())


def runtime() -> Stage:
    return parsed()[-1]


def test_two_stages_on_the_same_pinned_slim_python() -> None:
    build, final = parsed()
    assert (build.name, final.name) == ("build", "runtime")
    assert PINNED_SLIM_PYTHON.match(build.base), build.base
    assert final.base == build.base


def test_the_runtime_stage_only_copies_the_virtualenv() -> None:
    final = runtime()
    copies = final.all("COPY") + final.all("ADD")
    assert [c.args for c in copies] == ["--from=build /opt/slo-agent /opt/slo-agent"]
    for run in final.all("RUN"):
        assert not BUILD_TOOLS.search(run.args), f"line {run.line}: {run.args}"
    assert env_of(final)["PATH"].startswith("/opt/slo-agent/bin:")


def test_the_build_stage_builds_a_wheel_into_the_virtualenv() -> None:
    build = parsed()[0]
    steps = build.last("RUN")
    assert steps is not None
    assert "uv build --wheel --out-dir /wheels ." in steps.args
    assert "uv venv --python /usr/local/bin/python3.11 /opt/slo-agent" in steps.args
    assert re.search(r"pip install uv==\d+\.\d+\.\d+$", build.all("RUN")[0].args)


def test_it_runs_as_a_fixed_non_root_user_the_chart_agrees_with() -> None:
    final = runtime()
    users = final.all("USER")
    assert [u.args for u in users] == ["10001:10001"]
    entrypoint = final.last("ENTRYPOINT")
    assert entrypoint is not None
    assert users[0].line < entrypoint.line
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == 10001
    assert values["securityContext"]["runAsGroup"] == 10001


def test_entrypoint_runs_the_agent_on_mounted_specs_with_a_store_volume() -> None:
    final = runtime()
    entrypoint, cmd = final.last("ENTRYPOINT"), final.last("CMD")
    assert entrypoint is not None
    assert cmd is not None
    assert entrypoint.exec_form() == ["slo-agent", "run"]
    args = cmd.exec_form()
    assert args == [
        "--listen",
        "0.0.0.0:9464",
        "--store",
        "/var/lib/slo-agent/store.db",
        "/etc/slo-agent/specs",
    ]
    volumes = final.all("VOLUME")
    assert [v.exec_form() for v in volumes] == [["/var/lib/slo-agent"]]
    env = env_of(final)
    assert env["SLO_AGENT_SPECS"] == "/etc/slo-agent/specs"
    assert env["SLO_AGENT_STORE"] == "/var/lib/slo-agent/store.db"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"  # the root filesystem may be read-only
    assert [e.args for e in final.all("EXPOSE")] == ["9464"]


def test_healthcheck_asks_healthz_with_python_alone() -> None:
    healthcheck = runtime().last("HEALTHCHECK")
    assert healthcheck is not None
    flags, rest = healthcheck.flags()
    assert set(flags) >= {"interval", "timeout", "start-period", "retries"}
    keyword, _, command = rest.partition(" ")
    assert keyword == "CMD"
    assert command.startswith('["python", "-c", ')
    assert "urllib.request.urlopen('http://127.0.0.1:9464/healthz'" in command
    assert "curl" not in command
    assert "wget" not in command


def test_the_build_context_holds_what_the_build_copies() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"  # everything else stays out of the context
    included = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    build = parsed()[0]
    for copy in build.all("COPY"):
        flags, rest = copy.flags()
        assert "from" not in flags
        for source in rest.split()[:-1]:
            assert source in included, f"COPY {source}: excluded by .dockerignore"
            assert (ROOT / source).exists()
    excluded = [p for p in patterns if not p.startswith("!") and p != "*"]
    assert {"**/__pycache__", "**/*.pyc"} <= set(excluded)


def test_the_agent_listens_on_loopback_unless_told_otherwise() -> None:
    from agent.app import RunOptions

    assert RunOptions().host == "127.0.0.1"
