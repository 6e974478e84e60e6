"""The per-hop duration histogram of journeys (the journeys dashboard's latency per hop)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from agent.journeys.result import JourneyResult, StepResult
from agent.probes.result import Observation, Outcome, Reason
from exporters.prometheus.metrics import AgentMetrics
from tests.journeys.support import journey, step

CHECKOUT = journey(
    step("cart", "storefront", "http://shop.invalid/"),
    step("pay", "acme-pay", "http://pay.invalid/"),
)


def test_each_step_of_a_run_is_observed_under_its_journey_step_and_node() -> None:
    metrics = AgentMetrics()
    ok = Observation(Outcome.SUCCESS, Reason.OK, 0.25, 200)
    down = Observation(Outcome.FAILURE, Reason.STATUS, 0.5, 503)
    saved = StepResult("pay", "acme-pay", down, "backup-pay", ok)  # failover time included
    run = JourneyResult("checkout", 0.0, 1.0, (StepResult("cart", "storefront", ok), saved))
    metrics.observe_journey(CHECKOUT, run, [], [])
    metrics.observe_journey(CHECKOUT, run, [], [])
    text = metrics.exposition().decode()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("slo_agent_journey_step_duration_seconds")
    }
    cart = (("journey", "checkout"), ("node", "storefront"), ("step", "cart"))
    pay = (("journey", "checkout"), ("node", "acme-pay"), ("step", "pay"))
    assert samples[("slo_agent_journey_step_duration_seconds_count", cart)] == 2
    assert samples[("slo_agent_journey_step_duration_seconds_sum", cart)] == 0.5
    assert samples[("slo_agent_journey_step_duration_seconds_sum", pay)] == 1.5

    def bucket(le: str) -> float:
        labels = tuple(sorted((*pay, ("le", le))))
        return samples[("slo_agent_journey_step_duration_seconds_bucket", labels)]

    assert (bucket("0.5"), bucket("0.75")) == (0, 2)  # 0.5 s down, then 0.25 s on the fallback
