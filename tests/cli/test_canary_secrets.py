"""No secret leaves the agent in clear: the real ``slo-agent run`` at ``--log-level debug``, a
canary secret in every place one can be configured, through failures and redirects; then every
output is searched for every canary.

Places: a probe header from ``${ENV}``, probe URL userinfo, a ``token=`` and an ``api_key=`` query
value, ``--prometheus-url`` and ``--alertmanager-url`` userinfo, OTLP headers. Failures: a target
refusing connections, one answering 500, a redirect chain ending at a target that fails, an
Alertmanager answering 500; and a real Prometheus that answers every query (each answered query
is a request httpx logs with its URL). Outputs: stdout, stderr,
``/api/v1/status``, ``/api/v1/decisions``, ``/metrics``, the status page, the spans received.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.agents import write_specs
from tests.support.net import free_port, wait_for_port
from tests.support.otlp import OtlpHttpReceiver
from tests.support.processes import stop_process
from tests.support.prometheus import PrometheusServer
from tests.support.targets import Reply, ThreadedTarget

ROOT = Path(__file__).resolve().parents[2]
RUN_SECONDS = 15.0

CANARIES = {
    "header": "canary-header-7f3a9c1e",
    "userinfo": "canary-userinfo-4b8d2e6a",
    "token": "canary-token-9e1c5f7b",
    "api_key": "canary-apikey-2d6b8a4c",
    "prometheus": "canary-prometheus-5a7c3e9d",
    "alertmanager": "canary-alertmanager-8c2e4a6f",
    "otlp": "canary-otlp-1f9b7d3c",
}


def _spec(target: ThreadedTarget, refused: int) -> str:
    base = target.base_url.replace("http://", "")
    probes = {
        # a header from the environment, to a target that answers 500
        "header": f'{{url: "http://{base}/fail", '
        'headers: {Authorization: "Bearer ${CANARY}"}}',
        # userinfo, to a refused port
        "userinfo": f'{{url: "http://probe:{CANARIES["userinfo"]}@127.0.0.1:{refused}/"}}',
        # query credentials through a redirect chain that ends at a 500
        "query": f'{{url: "http://{base}/hop1?token={CANARIES["token"]}&api_key='
        f'{CANARIES["api_key"]}", follow_redirects: true}}',
        # userinfo and a query token through redirects
        "chain": f'{{url: "http://u:{CANARIES["userinfo"]}@{base}/hop1?token='
        f'{CANARIES["token"]}", follow_redirects: true}}',
    }
    lines = "\n".join(
        f"    - {{name: {name}, interval: 200ms, http: {http}}}" for name, http in probes.items()
    )
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: shop}}
spec:
  mode: operated
  owner: sre
  capability: api
  probes:
{lines}
  slos:
    - {{name: header, objective: 99, window: 3d, sli: {{probe: header}}}}
    - {{name: userinfo, objective: 99, window: 3d, sli: {{probe: userinfo}}}}
    - {{name: query, objective: 99, window: 3d, sli: {{probe: query}}}}
    - {{name: chain, objective: 99, window: 3d, sli: {{probe: chain}}}}
    - name: requests
      objective: 99
      window: 3d
      sli:
        prometheus:
          error_query: sum(rate(errors_total[{{{{window}}}}]))
          total_query: sum(rate(requests_total[{{{{window}}}}]))
"""


def _outputs(base: str) -> dict[str, str]:
    pages = {}
    with httpx.Client(timeout=5) as client:
        for path in ("/api/v1/status", "/api/v1/decisions", "/metrics", "/"):
            pages[path] = client.get(base + path).text
    return pages


def test_no_canary_secret_appears_in_any_output(tmp_path: Path) -> None:
    refused = free_port()  # nothing listens there: connections are refused
    routes = {
        "/fail": Reply(500, b"internal error"),
        "/hop1": Reply(302, headers={"Location": "/hop2"}),
        "/hop2": Reply(307, headers={"Location": "/fail"}),
        "/api/v2/alerts": Reply(500, b"alertmanager is down"),
    }
    with (
        OtlpHttpReceiver() as receiver,
        ThreadedTarget(routes) as target,
        PrometheusServer(tmp_path) as prometheus,
    ):
        specs = write_specs(tmp_path / "specs", shop=_spec(target, refused))
        port = free_port()
        base = target.base_url.replace("http://", "")
        command = [sys.executable, "-m", "agent", "run", str(specs), "--log-level", "debug"]
        command += ["--store", str(tmp_path / "store.db"), "--listen", f"127.0.0.1:{port}"]
        command += ["--evaluation-interval", "1s", "--alertmanager-resend-interval", "1s"]
        prom = prometheus.url.replace("http://", f"http://prom:{CANARIES['prometheus']}@")
        command += ["--prometheus-url", prom]
        command += ["--alertmanager-url", f"http://am:{CANARIES['alertmanager']}@{base}"]
        env = {
            **os.environ,
            "CANARY": CANARIES["header"],
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_HEADERS": f"authorization=Bearer%20{CANARIES['otlp']}",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }
        # files, not pipes: a full pipe would block the agent's logging
        out, err = tmp_path / "stdout", tmp_path / "stderr"
        with out.open("w") as stdout_file, err.open("w") as stderr_file:
            process = subprocess.Popen(
                command, stdout=stdout_file, stderr=stderr_file, env=env, cwd=ROOT
            )
            try:
                wait_for_port(port, timeout=30)
                time.sleep(RUN_SECONDS)  # the agent runs through its failures meanwhile
                outputs = _outputs(f"http://127.0.0.1:{port}")
            finally:
                stop_process(process)
        spans = receiver.spans
        requests = target.requests
        stdout, stderr = out.read_text(), err.read_text()

    outputs |= {"stdout": stdout, "stderr": stderr, "spans": repr(spans)}
    # the run went through what it should have: probes, redirects, alert pushes, debug logs
    paths = [request.path for request in requests]
    assert paths.count("/hop2") >= 10
    assert paths.count("/fail") >= 10
    assert paths.count("/api/v2/alerts") >= 1
    assert " DEBUG " in stderr
    assert len(stderr.splitlines()) >= 10
    assert len(spans) >= 10
    assert "did not take" in stderr  # the Alertmanager failure was logged, redacted
    [source] = json.loads(outputs["/api/v1/status"])["sli_sources"]
    assert source["ok"] is True  # Prometheus answered the agent's queries
    assert "/api/v1/query" in stderr  # and httpx logged them, with their URLs
    # the secrets were really sent where they belong
    authorizations = {request.header("authorization") for request in requests}
    assert f"Bearer {CANARIES['header']}" in authorizations
    leaks = {
        (where, name)
        for where, text in outputs.items()
        for name, canary in CANARIES.items()
        if canary in text
    }
    assert leaks == set()
