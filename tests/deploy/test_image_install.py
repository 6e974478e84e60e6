"""The image's install steps, run for real outside Docker: the build stage's context (only what
its COPY lines copy) and its final RUN line, with the image's paths mapped into a temporary
directory, give a fresh virtualenv from which slo-agent runs: --help, validate, and the
ENTRYPOINT + CMD with the HEALTHCHECK command asking its /healthz."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.chart import ROOT
from tests.deploy.dockerfile import Stage, stages
from tests.support.agents import node_spec, write_specs
from tests.support.net import free_port, wait_for_port


@dataclass(frozen=True, slots=True)
class Image:
    """The image's filesystem paths, mapped into a temporary directory."""

    root: Path
    paths: Mapping[str, str]  # image path -> local path

    def local(self, word: str) -> str:
        for image_path, local_path in self.paths.items():
            if word == image_path or word.startswith(image_path + "/"):
                return local_path + word[len(image_path) :]
        return word

    @property
    def venv(self) -> Path:
        return Path(self.paths["/opt/slo-agent"])


def uv_command() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    python = shutil.which("python3")
    assert python, "neither uv nor python3 on PATH"
    return [python, "-m", "uv"]


def build_context(stage: Stage, context: Path) -> None:
    """Copy what the stage's COPY lines copy (and nothing else) into ``context``, as Docker
    does: a directory's contents go to the destination; files go into a destination ending
    with ``/`` (or to it, if a single file is copied to a path)."""
    for copy in stage.all("COPY"):
        _, rest = copy.flags()
        *sources, destination = rest.split()
        into = destination.endswith("/") or len(sources) > 1
        for source in sources:
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(
                    origin,
                    context / destination,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                    dirs_exist_ok=True,
                )
            else:
                target = context / destination / origin.name if into else context / destination
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(origin, target)


def install_steps(stage: Stage, image: Image) -> list[list[str]]:
    """The stage's last RUN line, split at ``&&``, with the image's paths mapped."""
    run = stage.last("RUN")
    assert run is not None
    steps = [[image.local(word) for word in shlex.split(part)] for part in run.args.split("&&")]
    for step in steps:
        assert step[0] == "uv", step
    return steps


def expand(words: list[str]) -> list[str]:
    """Shell glob expansion, done when the step runs (earlier steps make the files)."""
    out: list[str] = []
    for word in words:
        if "*" in word:
            matches = sorted(glob.glob(word))
            assert matches, f"{word} matches nothing"
            out += matches
        else:
            out.append(word)
    return out


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    root = tmp_path_factory.mktemp("image")
    python = shutil.which("python3.11")
    assert python, "python3.11 is not on PATH"
    mapped = Image(
        root,
        {
            "/wheels": str(root / "wheels"),
            "/opt/slo-agent": str(root / "venv"),
            "/usr/local/bin/python3.11": python,
            "/var/lib/slo-agent": str(root / "store"),
            "/etc/slo-agent/specs": str(root / "specs"),
        },
    )
    build = stages((ROOT / "Dockerfile").read_text())[0]
    context = root / "src"
    context.mkdir()
    build_context(build, context)
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    for step in install_steps(build, mapped):
        done = subprocess.run(
            [*uv_command(), *expand(step[1:])],
            cwd=context,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{shlex.join(step)}:\n{done.stderr}"
    return mapped


def test_only_the_built_wheel_is_installed_not_the_checkout(image: Image) -> None:
    (wheel,) = (image.root / "wheels").glob("slo_agent-*.whl")
    done = subprocess.run(
        [str(image.venv / "bin" / "python"), "-c", "import agent; print(agent.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=image.root,
    )
    assert done.stdout.startswith(str(image.venv / "lib")), done.stdout
    assert wheel.name.startswith("slo_agent-0.1.0-")


def test_slo_agent_help_runs_from_the_fresh_venv(image: Image) -> None:
    done = subprocess.run(
        [str(image.venv / "bin" / "slo-agent"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    for verb in ("run", "validate", "rules"):
        assert verb in done.stdout


def test_validate_accepts_the_example_specs(image: Image) -> None:
    done = subprocess.run(
        [str(image.venv / "bin" / "slo-agent"), "validate", str(ROOT / "slo_specs" / "examples")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ["PATH"], "ACME_TOKEN": "token", "HOME": str(image.root)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ok: ")


@pytest.fixture
def running(image: Image) -> Iterator[int]:
    """ENTRYPOINT + CMD from the fresh venv, on a free loopback port; yields the port."""
    final = stages((ROOT / "Dockerfile").read_text())[-1]
    entrypoint, cmd = final.last("ENTRYPOINT"), final.last("CMD")
    assert entrypoint is not None
    assert cmd is not None
    port = free_port()
    argv = [*(entrypoint.exec_form() or []), *(cmd.exec_form() or [])]
    argv = [image.local(word).replace("0.0.0.0:9464", f"127.0.0.1:{port}") for word in argv]
    argv[0] = str(image.venv / "bin" / argv[0])
    closed = free_port()  # the probe's target: nothing listens there, a failure is data
    write_specs(
        Path(image.paths["/etc/slo-agent/specs"]),
        web=node_spec("web", f"http://127.0.0.1:{closed}/"),
    )
    Path(image.paths["/var/lib/slo-agent"]).mkdir(exist_ok=True)
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={"PATH": os.environ["PATH"], "HOME": str(image.root)},
    )
    try:
        wait_for_port(port, timeout=30)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


def healthcheck(image: Image, port: int) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK command, aimed at ``port``."""
    final = stages((ROOT / "Dockerfile").read_text())[-1]
    instruction = final.last("HEALTHCHECK")
    assert instruction is not None
    command = instruction.flags()[1].removeprefix("CMD ")
    argv = [word.replace("127.0.0.1:9464", f"127.0.0.1:{port}") for word in _json_list(command)]
    argv[0] = str(image.venv / "bin" / argv[0])
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def _json_list(text: str) -> list[str]:
    import json

    value = json.loads(text)
    assert isinstance(value, list)
    return [str(word) for word in value]


def test_the_entrypoint_serves_and_the_healthcheck_passes(image: Image, running: int) -> None:
    done = healthcheck(image, running)
    assert done.returncode == 0, done.stderr
    store = Path(image.paths["/var/lib/slo-agent"]) / "store.db"
    assert store.exists()


def test_the_healthcheck_fails_when_nothing_answers(image: Image) -> None:
    done = healthcheck(image, free_port())
    assert done.returncode != 0
    assert "Connection refused" in done.stderr
