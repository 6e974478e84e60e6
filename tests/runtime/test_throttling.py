"""A throttling partner end to end: a spec read from YAML, a loopback target answering 429 with
Retry-After, the probe pipeline and the SQLite store. ``sli.throttled`` decides per SLO whether a
throttled run is bad (the default) or no event, and the probe waits as long as it was asked."""

from __future__ import annotations

from pathlib import Path

from agent.probes import Probers
from agent.probes.http import HttpProber
from agent.probes.result import Reason
from agent.runtime.agent import targets_of
from agent.runtime.backoff import MAX_BACKOFF_INTERVALS
from agent.runtime.pipeline import ProbePipeline
from agent.slo.events import Counts
from agent.spec.loader import load_specs
from agent.store.sqlite import SqliteStore
from tests.spec.helpers import write
from tests.support.fakes import RecordingTelemetry
from tests.support.targets import Reply, Target

START = 1_790_000_040.0  # a whole minute


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def spec(url: str) -> str:
    return f"""\
apiVersion: slo-agent/v1
kind: Node
metadata: {{name: pay}}
spec:
  mode: orchestrated
  owner: payments
  capability: payments
  partner: {{name: Acme Pay}}
  probes:
    - {{name: health, interval: 10s, http: {{url: "{url}"}}}}
  slos:
    - {{name: counted, objective: 99, window: 28d, sli: {{probe: health}}}}
    - {{name: excluded, objective: 99, window: 28d, sli: {{probe: health, throttled: exclude}}}}
"""


async def run_every_10s(
    target: Target, retry_after: str, tmp_path: Path, runs: int
) -> tuple[list[Reason | None], dict[str, Counts]]:
    """``runs`` scheduled runs 10 s apart against a target throttling with ``retry_after``
    (then answering 200 from the sixth run on); the reason of each (None: skipped) and the
    counts of both SLOs."""
    target.route("/", Reply(429, headers={"Retry-After": retry_after}))
    specs = load_specs([write(tmp_path, "pay.yaml", spec(target.url("/")))], {})
    (job,) = targets_of(specs).values()
    clock = FakeClock()
    reasons: list[Reason | None] = []
    prober = HttpProber()
    with SqliteStore(tmp_path / "store.db") as store:
        pipeline = ProbePipeline(Probers(http=prober), store, RecordingTelemetry(), clock=clock)
        try:
            for run in range(runs):
                clock.now = START + 10 * run
                if run == 5:
                    target.route("/", Reply(200))
                result = await pipeline.run(job)
                reasons.append(None if result is None else result.observation.reason)
        finally:
            await prober.aclose()
        store.flush()
        span = (START - 60, START + 10 * runs + 60)
        sums = store.sums_many({f"pay/{slo}": {"all": span} for slo in ("counted", "excluded")})
    return reasons, {series.split("/")[1]: counts["all"] for series, counts in sums.items()}


async def test_throttled_runs_are_bad_by_default_excluded_on_request_and_waited_out(
    tmp_path: Path,
) -> None:
    async with Target() as target:
        reasons, counts = await run_every_10s(target, "25", tmp_path, runs=8)

    t, ok = Reason.THROTTLED, Reason.OK
    # asked to wait 25 s: the runs at 10 s and 20 s are skipped, the one at 30 s goes out
    assert reasons == [t, None, None, t, None, None, ok, ok]
    assert target.request_count == 4
    assert counts["counted"] == Counts(total=4, bad=2)
    assert counts["excluded"] == Counts(total=2, bad=0)


async def test_a_long_retry_after_is_cut_to_ten_intervals(tmp_path: Path) -> None:
    async with Target() as target:
        reasons, _ = await run_every_10s(target, "86400", tmp_path, runs=13)

    assert MAX_BACKOFF_INTERVALS == 10
    # the first run at 0 s, then nothing until 100 s (the target answers 200 by then)
    assert reasons == [Reason.THROTTLED, *[None] * 9, Reason.OK, Reason.OK, Reason.OK]
