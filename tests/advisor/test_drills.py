"""Fallback drills: one scheduled job per drill, every run stored as a drill run of its own
(typed: node and fallback), apart from the node's probes, with no SLI events."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agent.probes import Probers
from agent.probes.result import Reason
from agent.runtime.drills import DrillPipeline, drill_jobs_of
from agent.store.evidence import DrillKey, DrillRun
from agent.store.sqlite import SqliteStore
from tests.support.targets import Reply, Target

from .ecosystem import FakeClock, load

SPECS = """
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: acme-pay}}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {{name: Acme}}
  probes: [{{name: authorize, http: {{url: "{url}/health"}}}}]
  slos: [{{name: availability, objective: 99.9, window: 3d, sli: {{probe: authorize}}}}]
  fallbacks:
    - node: backup-pay
      drill: {{every: 10m, http: {{url: "{url}/backup", headers: {{X-Route: backup}}}}}}
    - node: spare-pay
---
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: backup-pay}}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {{name: Backup}}
  probes: [{{name: authorize, http: {{url: "{url}/health"}}}}]
---
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: spare-pay}}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {{name: Spare}}
  probes: [{{name: authorize, http: {{url: "{url}/health"}}}}]
"""


async def test_a_drill_is_a_job_of_its_own_stored_apart_from_the_nodes_slos(
    tmp_path: Path,
) -> None:
    async with Target({"/backup": Reply(500)}) as target:
        specs = load(tmp_path, SPECS.format(url=target.base_url))
        jobs = drill_jobs_of(specs)
        assert list(jobs) == ["drill:acme-pay/backup-pay"]  # spare-pay is not drilled
        (job,) = jobs.values()
        assert job.interval == timedelta(minutes=10)
        with SqliteStore(tmp_path / "store.db") as store:
            probers = Probers()
            try:
                result = await DrillPipeline(probers, store, clock=FakeClock(1000.0)).run(job)
            finally:
                await probers.aclose()
            assert result is not None
            assert result == DrillRun(
                DrillKey("acme-pay", "backup-pay"), 1000.0, False, result.duration, Reason.STATUS
            )  # the 500's reason, stored with the run
            (request,) = target.requests
            assert (request.path, request.header("x-route")) == ("/backup", "backup")
            store.flush()
            assert store.series_totals() == {}  # no SLI event: no budget burns
            assert store.probe_totals() == {}  # never mixed with the probes of a node
            assert store.drill_runs("acme-pay", 0.0, 2000.0) == [result]
