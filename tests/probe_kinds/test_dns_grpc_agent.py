"""The real agent runs ``dns`` and ``grpc`` probes from a spec against a real dnsmasq and a real
grpcio health server, and stores every run with its failure reason."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agent.app import running_agent
from agent.probes.result import Reason
from agent.store.sqlite import SqliteStore
from tests.support.agents import options, write_specs
from tests.support.dnsmasq import Dnsmasq
from tests.support.grpc_health import NOT_SERVING, SERVING, HealthServer

SPEC = """\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: globex}}
spec:
  mode: operated
  owner: sre
  capability: payments
  probes:
    - name: resolve
      interval: 200ms
      dns: {{name: api.globex.test, resolver: "{dns}", expect: {{answers: [127.0.0.1]}}}}
    - name: moved
      interval: 200ms
      dns: {{name: api.globex.test, resolver: "{dns}", expect: {{answers: [10.0.0.1]}}}}
    - name: serving
      interval: 200ms
      grpc: {{address: "{grpc}", service: globex.Payments, metadata: {{x-api-key: "${{KEY}}"}}}}
    - name: refunds
      interval: 200ms
      grpc: {{address: "{grpc}", service: globex.Refunds}}
  slos:
    - {{name: dns, objective: 99, window: 3d, sli: {{probe: resolve}}}}
    - {{name: grpc, objective: 99, window: 3d, sli: {{probe: serving}}}}
"""
RUNS = 5  # per probe, at least


async def test_dns_and_grpc_probes_run_in_the_agent(tmp_path: Path) -> None:
    records = ["--local=/globex.test/", "--host-record=api.globex.test,127.0.0.1"]
    with Dnsmasq(tmp_path / "dns", records) as dns, HealthServer() as grpc:
        grpc.set("globex.Payments", SERVING)
        grpc.set("globex.Refunds", NOT_SERVING)
        spec = SPEC.format(dns=f"127.0.0.1:{dns.port}", grpc=grpc.address)
        specs = write_specs(tmp_path / "specs", globex=spec)
        store_path = tmp_path / "store.db"
        async with running_agent(options(specs, store_path), {"KEY": "k3y"}) as running:
            for _ in range(600):  # at most 30 s: dnsmasq's log and the server are polled
                if dns.queries() >= 2 * RUNS and len(grpc.health.calls) >= 2 * RUNS:
                    break
                await asyncio.sleep(0.05)
            running.agent.scheduler.pause()
            await asyncio.sleep(0.5)  # probes under way finish
            await running.agent.flush()

    with SqliteStore(store_path) as store:
        totals = store.probe_totals("globex")
    runs = {probe: counts.total for (_, probe), counts in totals.items()}
    assert all(n >= RUNS - 1 for n in runs.values()), runs
    assert totals[("globex", "resolve")].failures == 0
    assert totals[("globex", "serving")].failures == 0
    moved, refunds = totals[("globex", "moved")], totals[("globex", "refunds")]
    assert moved.failures_by_reason == {Reason.ASSERTION: moved.total}
    assert refunds.failures_by_reason == {Reason.STATUS: refunds.total}
    keys = {metadata.get("x-api-key") for _, metadata in grpc.health.calls}
    assert keys == {"k3y", None}  # the serving probe sends it, the refunds probe has none
